"""Adversarial texts for the checks' time bound: shapes that make backtracking patterns slow.

Used by ``tests/test_guard_time.py`` and ``bench/guard_redos.py``.  Each shape is a repeated
unit cut to the requested length: runs of line breaks and whitespace (typed ``\\n`` too, which
the checks turn into real line breaks), role words and colons, quotes, letters split by
dots, base64/hex/percent/Morse-like runs, invisible tag characters, characters NFKC expands,
and the words of every guard pattern in a row, so each pattern's quantifiers meet the words
they wait for.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from hypothesis import strategies as st

from escalation.prefilter import GuardPattern

_UNITS = {
    "typed_newlines": "\\n",
    "newline_spaces": "\n" + " " * 60,
    "newline_runs": "\n \t\n\n ",
    "spaces": " ",
    "letters": "a",
    "letter_space": "a ",
    "dotted_letters": "a.",
    "spaced_letters": "i g n o r e ",
    "role_words": "system ",
    "role_colons": "system:",
    "role_lines": "\nsystem ",
    "role_brackets": "\n[[(<system message ",
    "role_chain": "\nsystem chain of thought ",
    "double_colons": ":: ",
    "quotes": '"',
    "quoted_words": '"a" ',
    "single_quotes": "'a",
    "brackets": "[",
    "hashes": "#",
    "stars": "**a",
    "base64": "QUJD",
    "base64_symbols": "A+/_-",
    "hex": "41 ",
    "hex_prefixed": "\\x41",
    "percent": "%41",
    "morse": ".- ",
    "tags": chr(0xE0041),
    "nfkc_expanding": "\ufdfa",
    "emails": "a.",
    "at_runs": "a@a",
    "identifiers": "A1",
    "digits": "1",
    "pipes": "<|",
    "you_are": "you are ",
    "ignore": "ignore ",
    "ignore_all": "ignore all ",
    "from_now_on": "from now on, you are ",
    "if_user": "if the user asks ",
    "reverse": "reverse and ",
    "punctuation": "!?.,;:-",
    "underscore_word": "a_",
    "mixed_script": "аa",
}


def _pattern_words() -> list[str]:
    """The literal words of every guard pattern, one phrase per pattern."""
    from escalation import (
        extraction,
        framing,
        guards,
        hijack,
        indirect,
        intents,
        markers,
        normalize,
        patterns,
        roleplay,
        smuggling,
        translated,
    )

    modules = [
        extraction, framing, guards, hijack, indirect, intents,
        markers, normalize, patterns, roleplay, smuggling, translated,
    ]  # fmt: skip
    phrases = []
    for pattern in sorted({rx.pattern for rx in compiled(modules)}):
        found = re.findall(r"[a-z]{2,}", pattern.replace("\\b", " ").replace("\\s", " "))
        if found:
            phrases.append(" ".join(found))
    return phrases


def compiled(modules: list[object]) -> Iterator[re.Pattern[str]]:
    """Every compiled pattern a module holds at top level (also inside lists and dicts)."""
    for module in modules:
        for value in vars(module).values():
            items = value.values() if isinstance(value, dict) else value
            if isinstance(value, re.Pattern | GuardPattern):
                items = [value]
            elif not isinstance(value, list | tuple | dict):
                continue
            for item in items:
                if isinstance(item, GuardPattern):
                    item = item.regex
                if isinstance(item, re.Pattern) and isinstance(item.pattern, str):
                    yield item


def _cut(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def shapes(size: int) -> Iterator[tuple[str, str]]:
    """(name, text) pairs, each text exactly ``size`` characters long."""
    for name, unit in _UNITS.items():
        yield name, _cut(unit, size)
        yield name + "+tail", _cut(unit, size - 1) + "x"
    for i, phrase in enumerate(_pattern_words()):
        yield f"pattern_words_{i}", _cut(phrase + " ", size)
        yield f"pattern_lines_{i}", _cut(phrase + ":\n", size)


# Whitespace and line breaks (typed too) are listed several times: runs of them are what the
# old patterns choked on, so the search should meet them often.
_WHITESPACE = ["\\n", "\n", " ", "\t", "\\n", "\n", " "]
_PIECES = [
    *_WHITESPACE,
    ":", "::", "system", "developer", "assistant", "user", "ai", "[", "]", "(", "<|", "#", "*",
    '"', "'", ".", "a", "i g n o r e", "ignore", "all", "previous", "instructions", "you are",
    "now", "@", "A1", "QUJD", "%41", ".-", chr(0xE0041), "\ufdfa", "say this", "->", "=", "-",
]  # fmt: skip


def slow_texts(max_size: int) -> st.SearchStrategy[str]:
    """Texts of repeated pieces, 500 to ``max_size`` characters: the search space of a fuzz run
    aimed at slow inputs."""
    return st.builds(
        lambda units, size: ("".join(units) * (size // max(1, len("".join(units))) + 1))[:size],
        st.lists(st.sampled_from(_PIECES), min_size=1, max_size=3),
        st.integers(min_value=500, max_value=max_size),
    )
