"""Personal data in one training example, replaced consistently with placeholders: the same
email, name, phone number, street address, order number or tracking number becomes the same
`<KIND_n>` in every message of the example, in free text, in tool arguments and in tool
results (read as JSON).

Two passes. `learn` reads everything first: the structured fields of orders and tool arguments
(an order's number, email, tracking and shipping address, whatever the text around them says)
and what the patterns of `detectors` find in free text. `replace` then replaces every
occurrence of every learned value, and whatever the patterns find, in every text; so a number
the customer wrote without a cue is still replaced when the lookup named it."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from partial_json_parser import loads as partial_loads

from bot.export.detectors import Kind, Span, choose, find

# Fields whose value is personal data wherever they appear in a JSON value.
_FIELDS = {
    "order_id": Kind.ORDER,
    "tracking": Kind.TRACKING,
    "tracking_number": Kind.TRACKING,
    "customer_email": Kind.EMAIL,
    "email": Kind.EMAIL,
    "phone": Kind.PHONE,
    "customer_name": Kind.NAME,
}
# An address object: every field is personal but these coarse ones; `name` is a person's.
_ADDRESSES = {"shipping_address", "billing_address", "address"}
_COARSE = {"city", "state", "region", "province", "country", "country_code"}
_NAME_FIELDS = {"name", "full_name", "recipient", "first_name", "last_name"}
# The toolbox's mark at the end of a result cut at its size cap (`bot/agent/tools`).
_CUT_MARK = " …[truncated]"
_MAX_DEPTH = 16  # an order list nests 4 deep
# Kinds whose spellings differ in their punctuation, not their digits ("503-555-0134",
# "5035550134"): a number found in text is the value whose digits it has.
_DIGIT_KINDS = (Kind.PHONE, Kind.ORDER, Kind.TRACKING, Kind.NUMBER)
# One-word names that are also common words: matched only capitalised as learned ("May" the
# name, not "may"). Any other learned name is matched in any case ("hi ann").
_WORD_NAMES = frozenset(
    {
        "april", "august", "art", "bill", "bob", "chase", "dawn", "faith", "frank", "grace",
        "guy", "hope", "hunter", "ivy", "jack", "joy", "june", "lane", "mark", "max", "may",
        "miles", "page", "pat", "ray", "rich", "rose", "sage", "sky", "summer", "sunny", "will",
    }
)  # fmt: skip


def _key(kind: Kind, value: str) -> str:
    """What makes two spellings the same value."""
    if kind == Kind.PHONE:
        digits = "".join(c for c in value if c.isdigit())
        return digits[-10:]
    if kind in (Kind.ORDER, Kind.TRACKING):
        return value.lstrip("#").upper()
    return " ".join(value.split()).casefold()


def _too_short(kind: Kind, key: str) -> bool:
    """Too short to be anyone's; replacing it would garble the text."""
    return len(key) < (2 if kind == Kind.NAME else 3)


class Placeholders:
    """The placeholders of one example. Call `learn_json` or `learn_text` on every JSON value
    and text of the example, then `replace_json` or `replace` on each."""

    def __init__(self) -> None:
        self._ids: dict[tuple[Kind, str], str] = {}
        self._numbered: Counter[Kind] = Counter()
        # Each spelling to look for (case-folded): its value, and the spelling as learned.
        self._forms: dict[str, tuple[Kind, str, str]] = {}
        # The digits of each number learned (and a phone's last ten): its value.
        self._by_digits: dict[str, tuple[Kind, str]] = {}
        self.replaced: Counter[Kind] = Counter()

    # --- learning --------------------------------------------------------------------------

    def learn_json(self, value: Any, field: str = "", in_address: bool = False) -> None:
        """The personal values of a JSON value (an order, tool arguments), by field."""
        if isinstance(value, dict):
            for name, item in value.items():
                self.learn_json(item, name, in_address or name in _ADDRESSES)
        elif isinstance(value, list):
            for item in value:
                self.learn_json(item, field, in_address)
        elif isinstance(value, str | int) and not isinstance(value, bool):
            kind = _field_kind(field, in_address)
            if kind is not None:
                self._learn(kind, str(value))
            elif isinstance(value, str):
                self.learn_text(value)

    def learn_text(self, text: str) -> None:
        """What the patterns find in free text."""
        for span in choose(find(text)):
            self._learn(span.kind, text[span.start : span.end])

    def _learn(self, kind: Kind, value: str) -> None:
        value = value.strip()
        key = _key(kind, value)
        known = self._forms.get(value.casefold())
        if _too_short(kind, key) or (known and (known[0] != Kind.NUMBER or kind == Kind.NUMBER)):
            return  # too short to be anyone's; or the spelling stands for a value already
        if known:  # a bare number first, now known by its field: the field's kind wins
            self._by_digits = {d: v for d, v in self._by_digits.items() if v != known[:2]}
        self._id(kind, key)
        self._forms[value.casefold()] = (kind, key, value)
        escaped = json.dumps(value, ensure_ascii=False)[1:-1]
        if escaped != value:  # as it reads inside a JSON text cut short
            self._forms.setdefault(escaped.casefold(), (kind, key, escaped))
        if kind in _DIGIT_KINDS:
            for digits in _digit_forms(value):
                self._by_digits.setdefault(digits, (kind, key))
        if kind == Kind.NAME:
            # "Alice Smith" learned: "Alice" and "Smith" alone are the same person.
            for part in value.split():
                part = part.strip("\"'()“”‘’,.")
                if len(part) >= 3:
                    self._forms.setdefault(part.casefold(), (kind, key, part))

    def _id(self, kind: Kind, key: str) -> str:
        if (kind, key) not in self._ids:
            self._numbered[kind] += 1
            self._ids[(kind, key)] = f"<{kind}_{self._numbered[kind]}>"
        return self._ids[(kind, key)]

    # --- replacing -------------------------------------------------------------------------

    def replace_json(self, value: Any) -> Any:
        """`value` with every string replaced (keys are ours and stay)."""
        if isinstance(value, dict):
            return {name: self.replace_json(item) for name, item in value.items()}
        if isinstance(value, list):
            return [self.replace_json(item) for item in value]
        if isinstance(value, str):
            return self.replace(value)
        if isinstance(value, int) and not isinstance(value, bool):
            # A number learned as someone's (an order number the model sent as a number).
            text = str(value)
            return self.replace(text) if text.casefold() in self._forms else value
        return value

    def replace(self, text: str) -> str:
        """`text` with each learned value, and whatever the patterns find, replaced."""
        out: list[str] = []
        pos = 0
        for span in choose(self._known_spans(text) + find(text)):
            value = text[span.start : span.end].strip()
            kind, key = self._value_of(span.kind, value)
            if _too_short(kind, key):
                continue
            out += [text[pos : span.start], self._id(kind, key)]
            self.replaced[kind] += 1
            pos = span.end
        out.append(text[pos:])
        return "".join(out)

    def _value_of(self, kind: Kind, found: str) -> tuple[Kind, str]:
        """The learned value a found spelling stands for, else a new one of the kind found."""
        learned = self._forms.get(found.casefold())
        if learned is not None:
            return learned[0], learned[1]
        if kind in _DIGIT_KINDS:
            for digits in _digit_forms(found):
                if digits in self._by_digits:
                    return self._by_digits[digits]
        return kind, _key(kind, found)

    def _known_spans(self, text: str) -> list[Span]:
        """Every occurrence of a learned spelling as a whole word, in any case; a one-word
        name that is also a common word only as learned ("May" the name, not "may")."""
        spans: list[Span] = []
        for form, (kind, _, learned) in self._forms.items():
            one_word_name = kind == Kind.NAME and form in _WORD_NAMES
            # A literal: no repetition to backtrack on, so linear in the text.
            pattern = re.compile(re.escape(learned), 0 if one_word_name else re.IGNORECASE)
            spans += [
                Span(m.start(), m.end(), kind)
                for m in pattern.finditer(text)
                if _whole(text, m.start(), m.end())
            ]
        return spans


def _field_kind(field: str, in_address: bool) -> Kind | None:
    if in_address and field not in _COARSE:
        return Kind.NAME if field in _NAME_FIELDS else _FIELDS.get(field, Kind.ADDRESS)
    return _FIELDS.get(field)


def _whole(text: str, start: int, end: int) -> bool:
    """Not part of a longer word or number."""
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    return not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_")


def _digit_forms(value: str) -> list[str]:
    """A number's digits, and a phone number's last ten (its country code left out)."""
    digits = "".join(c for c in value if c.isdigit())
    if len(digits) < 5:
        return []
    return [digits, digits[-10:]] if len(digits) > 10 else [digits]


def scrub_tool_result(placeholders: Placeholders, content: str) -> str:
    """A tool result with its personal data replaced: as JSON when it is JSON (dumped as the
    toolbox dumps it), as text when it was cut at the size cap."""
    try:
        value = json.loads(content)
    except (ValueError, RecursionError):  # cut short, or nested past the decoder's depth
        return placeholders.replace(content)
    return json.dumps(placeholders.replace_json(value), ensure_ascii=False)


def learn_tool_result(placeholders: Placeholders, content: str) -> None:
    """A tool result's personal values by field. A result cut at the size cap is read as far
    as it goes (the value it was cut in included), so an address cut short is still known by
    its fields."""
    try:
        value = json.loads(content)
    except (ValueError, RecursionError):  # cut short, or nested past the decoder's depth
        placeholders.learn_json(_read_cut(content.removesuffix(_CUT_MARK)))
        placeholders.learn_text(content)
        return
    placeholders.learn_json(value)


def _read_cut(content: str) -> Any:
    """The JSON value a text cut short begins, completed; None when it begins none, or nests
    deeper than any tool result does (the parser recurses, and takes seconds on "[[[[…")."""
    if not content.startswith(("{", "[")) or _depth(content) > _MAX_DEPTH:
        return None
    try:
        return partial_loads(content)
    except Exception:  # the parser's errors have no common type; the text was learned anyway
        return None


def _depth(content: str) -> int:
    """How deep the arrays and objects of a JSON text nest, strings skipped; one pass."""
    depth = deepest = 0
    in_string = escaped = False
    for char in content:
        if in_string:
            in_string = escaped or char != '"'
            escaped = not escaped and char == "\\"
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest
