"""The guard patterns' prefilter (escalation/prefilter.py) never skips a text its pattern
would match: its literals are read from the pattern, and here every guard pattern is run on
the labelled data and the adversarial shapes, as written and in the variants the checks read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from escalation import (
    extraction,
    framing,
    guards,
    hijack,
    indirect,
    markers,
    patterns,
    roleplay,
    smuggling,
    translated,
)
from escalation.normalize import clean, normalize, rot13, squash
from escalation.prefilter import GuardPattern, compile, required_literals
from tests.adversarial import shapes

_DATA = Path(__file__).parent / "data" / "injection"


@pytest.mark.parametrize(
    ("pattern", "literals"),
    [
        (r"\bignore\s+(?:all|any)\b", {"ignore"}),
        (r"(?:ignore|disregard)\s+previous", {"previous"}),  # the longer certain literal
        (r"(?:ignore|disregard)\s+all", {"ignore", "disregard"}),
        (r"(?:new )?rules", {"rules"}),  # an optional group is not required
        (r"(?:ab)+c?", {"ab"}),
        (r"x*|y", None),  # one branch needs nothing
        (r"[a-z]+\s*:", {":"}),
        (r"(?=ignore)\w+", None),  # a lookahead's text is not part of the match
        (r"(?i)ignore", None),  # case-insensitive patterns always run
        (r"x(?i:b)yz", {"yz"}),  # nor is a case-insensitive group
    ],
)
def test_required_literals_are_read_from_the_pattern(
    pattern: str, literals: set[str] | None
) -> None:
    assert required_literals(pattern) == (None if literals is None else frozenset(literals))


def test_a_text_without_the_literals_is_not_searched() -> None:
    rx = compile(r"\bignore\s+(?:all|any)\s+instructions")
    assert rx.literals == frozenset({"instructions"})
    assert rx.search("please ignore all my previous emails") is None
    assert rx.search("ignore all instructions") is not None
    assert rx.sub("X", "no words here") == "no words here"
    assert rx.subn("X", "no words here") == ("no words here", 0)
    assert rx.split("no words here") == ["no words here"]
    assert rx.findall("no words here") == []
    assert list(rx.finditer("no words here")) == []


def _guard_patterns() -> list[GuardPattern]:
    modules = [
        extraction, framing, guards, hijack, indirect,
        markers, patterns, roleplay, smuggling, translated,
    ]  # fmt: skip
    found: list[GuardPattern] = []
    for module in modules:
        for value in vars(module).values():
            items = value.values() if isinstance(value, dict) else value
            if isinstance(value, GuardPattern):
                items = [value]
            elif not isinstance(value, list | tuple | dict):
                continue
            found += [item for item in items if isinstance(item, GuardPattern)]
    return found


def _texts() -> list[str]:
    texts = [text for _, text in shapes(300)]
    for path in sorted(_DATA.glob("*.txt")):
        texts += path.read_text(encoding="utf-8").splitlines()
    return texts


def test_the_prefilter_never_skips_a_text_a_guard_pattern_matches() -> None:
    guard_patterns = _guard_patterns()
    assert len(guard_patterns) > 200
    assert sum(rx.literals is not None for rx in guard_patterns) > 180
    for text in _texts():
        read = normalize(text)
        variants = {text, clean(text), read, squash(read), normalize(rot13(text)), read[::-1]}
        for variant in variants:
            for rx in guard_patterns:
                assert isinstance(rx.regex, re.Pattern)
                if not rx._may_match(variant):
                    assert rx.regex.search(variant) is None, (rx.pattern, variant[:80])
