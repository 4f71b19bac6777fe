"""Personal data in free text, found by bounded patterns: emails, Slack mentions, tracking
numbers, phone numbers, street addresses, order numbers after a cue ("order 1042", "#1042"),
names after a cue ("Hi Alice", "my name is", "Thanks, Sam", "Lee here") and any other number of
5 to 12 digits.

What they miss, the structured data of the same example usually names (an order lookup's
arguments and result: `bot/export/personal.py`). A name with no cue and in no order is not
found: the export says so. Each pattern runs in time linear in the text (bounded repetitions,
possessive runs; `tests/test_guard_time.py` holds them to it), the emails and identifiers
through the output check's own (`escalation/answer_data.py`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from escalation.answer_data import email_spans, identifier_spans


class Kind(StrEnum):
    """What a placeholder stands for: `<EMAIL_1>`, `<ORDER_2>`, ... In the order a span found
    by two detectors is given to the first."""

    EMAIL = "EMAIL"
    USER = "USER"  # a Slack mention, <@U0123>
    PHONE = "PHONE"
    TRACKING = "TRACKING"
    ADDRESS = "ADDRESS"
    ORDER = "ORDER"
    NAME = "NAME"
    NUMBER = "NUMBER"  # a number of 5 to 12 digits with no cue: "status of 58214?"


_PRIORITY = {kind: i for i, kind in enumerate(Kind)}


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: Kind


_MENTION = re.compile(r"<@[UW][A-Z0-9]{2,20}(?:\|[^>\n]{0,80})?>")
# 7 to 15 digits in groups: "+1 503-555-0134", "(503) 555 0134", "+4930123456"; checked below.
_PHONE = re.compile(
    r"(?<![\w+.-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?"
    r"\d{2,5}(?:[ .-]\d{2,5}){1,4}(?![\w.-]?\d)"
    r"|(?<![\w+])\+\d{8,15}(?!\d)"
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_STREET = (
    "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Way|Court|Ct|Place|Pl|"
    "Terrace|Parkway|Pkwy|Highway|Hwy|Square|Sq|Circle|Cir|Alley|Row|Strasse|Straße"
)
_ADDRESS = re.compile(
    r"\b\d{1,6}[A-Za-z]?(?:[^\S\n]{1,3}[A-Z][\w'.-]{0,30}+){0,4}?[^\S\n]{1,3}"
    rf"(?:{_STREET})\b"
)
# "order 1042", "order number: A-7731", "orders #1042", "#1042": the number must hold a digit.
_ORDER = re.compile(
    r"\b(?i:orders?)(?:[^\S\n]{1,3}(?i:number|no\.?|num|id))?[^\S\n]{0,3}:?[^\S\n]{0,3}#?"
    r"(?=[A-Za-z-]{0,30}\d)([A-Za-z0-9][A-Za-z0-9-]{2,30}+)"
    r"|(?<![\w&#])#(\d{3,12})\b"
)
# A bare number long enough to be someone's (an order, an account, a postcode), not a price,
# a decimal or part of a longer word: "58214", not "$12999", "3.14159" or "v120000".
_NUMBER = re.compile(r"(?<![\w$€£.,-])\d{5,12}+(?![\w]|[.,]\d)")
# A capital (any script but ASCII lower case), then letters, apostrophes and hyphens, to the end
# of the word: "Mary-Jane", "McDonald", "O'Brien", "José", "Siobhán" whole, never a prefix.
_NAME_WORD = r"[^\W\d_a-z][\w'’-]{1,30}+(?![\w'’-])"
_NAME = re.compile(
    r"\b(?:[Mm]y name is|[Tt]his is|[Hh]i|[Hh]ello|[Hh]ey|[Dd]ear|[Tt]hanks|[Tt]hank you|"
    r"[Rr]egards|[Cc]heers|[Bb]est|[Ss]incerely|Mrs?\.?|Ms\.?)[,!:]?[^\S\n]{1,3}"
    rf"({_NAME_WORD}(?:[^\S\n]{_NAME_WORD}){{0,2}})"
    rf"|\b({_NAME_WORD})[^\S\n]here\b"
)
# Capitalised words a cue is often followed by that name no one.
_NOT_NAMES = frozenset(
    {
        "I", "The", "A", "An", "All", "Again", "Any", "Anyone", "Can", "Could", "Everyone", "For",
        "From", "Good", "Hello", "Hi", "How", "It", "Is", "My", "No", "Order", "Our", "Please",
        "So", "Support", "Team", "Thanks", "That", "There", "This", "Today", "We", "What", "When",
        "Where", "Which", "Who", "Why", "Yes", "You", "Your",
    }
)  # fmt: skip


def find(text: str) -> list[Span]:
    """Every span of personal data the patterns find in `text`, overlaps included."""
    spans = [Span(s, e, Kind.EMAIL) for s, e in email_spans(text)]
    spans += [Span(*m.span(), Kind.USER) for m in _MENTION.finditer(text)]
    spans += [Span(s, e, Kind.TRACKING) for s, e in identifier_spans(text)]
    spans += [Span(*m.span(), Kind.PHONE) for m in _PHONE.finditer(text) if _phone(m.group())]
    spans += [Span(*m.span(), Kind.ADDRESS) for m in _ADDRESS.finditer(text)]
    spans += [Span(*_group_span(m), Kind.ORDER) for m in _ORDER.finditer(text)]
    spans += [_name(m) for m in _NAME.finditer(text) if _name_words(m)]
    spans += [Span(*m.span(), Kind.NUMBER) for m in _NUMBER.finditer(text)]
    return spans


def _phone(found: str) -> bool:
    digits = sum(c.isdigit() for c in found)
    return 7 <= digits <= 15 and _DATE.fullmatch(found) is None


def _group_span(match: re.Match[str]) -> tuple[int, int]:
    group = 1 if match.group(1) is not None else 2
    return match.span(group)


def _name_words(match: re.Match[str]) -> list[str]:
    """The words of a name found after a cue, less those that name no one."""
    words = (match.group(1) or match.group(2)).split()
    return [] if words[0] in _NOT_NAMES else [w for w in words if w not in _NOT_NAMES]


def _name(match: re.Match[str]) -> Span:
    start, _ = _group_span(match)
    words = _name_words(match)
    # "Hi Alice Please": the name ends before a word that names no one.
    end = match.string.index(words[-1], start) + len(words[-1])
    return Span(start, end, Kind.NAME)


def choose(spans: list[Span]) -> list[Span]:
    """Spans that do not overlap, left to right: at one start the longest, then the kind
    first in `Kind`; a span overlapping one already taken is dropped."""
    taken: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -(s.end - s.start), _PRIORITY[s.kind])):
        if not taken or span.start >= taken[-1].end:
            taken.append(span)
    return taken
