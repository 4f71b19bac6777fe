"""Guard patterns that skip texts they cannot match.

About two hundred patterns read each text as written, rot13'd, reversed and re-joined from
quoted pieces, and most texts hold none of the words a given pattern needs.  ``compile`` reads,
from a pattern's parsed form, a set of literals of which every match contains at least one
(``\\bignore\\s+(?:all|any)`` needs ``"ignore"``), and its ``search`` and siblings answer "no
match" at once when none of them is in the text: a substring test in C instead of a regex run
at every position.  The set is derived mechanically from the pattern, so it never skips a
text the pattern would match; patterns it cannot read (case-insensitive ones, a branch with
no literal, ...) always run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

__all__ = ["GuardPattern", "compile", "required_literals"]

# A parsed item's requirement: literals of which every match holds one, or None for none.
_Need = frozenset[str] | None
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)


def _better(a: _Need, b: _Need) -> _Need:
    """The more selective of two requirements (longer shortest literal, then fewer)."""
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b, key=lambda need: (min(map(len, need)), -len(need)))


def _item_need(op: Any, av: Any) -> _Need:
    if op in _REPEATS:
        low, _high, body = av
        return _sequence_need(body) if low >= 1 else None
    if op is sre.SUBPATTERN:
        _group, add_flags, _del_flags, body = av
        return None if add_flags & sre.SRE_FLAG_IGNORECASE else _sequence_need(body)
    if op is sre.ATOMIC_GROUP:
        return _sequence_need(av)
    if op is sre.BRANCH:
        alternatives = [_sequence_need(branch) for branch in av[1]]
        if any(need is None for need in alternatives):
            return None
        return frozenset().union(*(need for need in alternatives if need is not None))
    return None  # classes, anchors, lookarounds, back references: no literal is certain


def _sequence_need(items: Any) -> _Need:
    """Runs of literal characters, or the best requirement of any one item in the sequence."""
    best: _Need = None
    run: list[str] = []
    for op, av in [*items, (None, None)]:
        if op is sre.LITERAL:
            run.append(chr(av))
            continue
        if run:
            best = _better(best, frozenset({"".join(run)}))
            run = []
        if op is not None:
            best = _better(best, _item_need(op, av))
    return best


def required_literals(pattern: str, flags: int = 0) -> _Need:
    """Literals of which every match of ``pattern`` contains one; None when none is certain."""
    parsed = sre_parse.parse(pattern, flags)
    if parsed.state.flags & (re.IGNORECASE | re.LOCALE):
        return None
    return _sequence_need(parsed)


class GuardPattern:
    """A compiled pattern that answers "no match" without running when none of its required
    literals is in the text; otherwise exactly ``re.Pattern``'s answer."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.regex = re.compile(pattern, flags)
        self.pattern = pattern
        self.literals = required_literals(pattern, flags)

    def _may_match(self, text: str) -> bool:
        return self.literals is None or any(literal in text for literal in self.literals)

    def search(self, text: str) -> re.Match[str] | None:
        return self.regex.search(text) if self._may_match(text) else None

    def match(self, text: str) -> re.Match[str] | None:
        return self.regex.match(text) if self._may_match(text) else None

    def fullmatch(self, text: str) -> re.Match[str] | None:
        return self.regex.fullmatch(text) if self._may_match(text) else None

    def findall(self, text: str) -> list[Any]:
        return self.regex.findall(text) if self._may_match(text) else []

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self.regex.finditer(text) if self._may_match(text) else iter(())

    def split(self, text: str) -> list[str | Any]:
        return self.regex.split(text) if self._may_match(text) else [text]

    def sub(self, repl: str | Callable[[re.Match[str]], str], text: str) -> str:
        return self.regex.sub(repl, text) if self._may_match(text) else text

    def subn(self, repl: str | Callable[[re.Match[str]], str], text: str) -> tuple[str, int]:
        return self.regex.subn(repl, text) if self._may_match(text) else (text, 0)


def compile(pattern: str, flags: int = 0) -> GuardPattern:
    return GuardPattern(pattern, flags)
