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
# A tool result cut at the size cap is no JSON: its fields are read from the text.
_FIELD_IN_TEXT = re.compile(
    r'"(' + "|".join(_FIELDS) + r')"[^\S\n]{0,3}:[^\S\n]{0,3}"([^"\\\n]{1,200})"'
)


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
        """What the patterns find in free text, and the fields of JSON cut short."""
        for match in _FIELD_IN_TEXT.finditer(text):
            self._learn(_FIELDS[match.group(1)], match.group(2))
        for span in choose(find(text)):
            self._learn(span.kind, text[span.start : span.end])

    def _learn(self, kind: Kind, value: str) -> None:
        value = value.strip()
        key = _key(kind, value)
        if _too_short(kind, key) or value.casefold() in self._forms:
            return  # too short to be anyone's; or the spelling stands for a value already
        self._id(kind, key)
        self._forms[value.casefold()] = (kind, key, value)
        if kind == Kind.NAME:
            # "Alice Smith" learned: "Alice" and "Smith" alone are the same person.
            for part in value.split():
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
            kind, key, _ = self._forms.get(value.casefold()) or (span.kind, "", "")
            key = key or _key(kind, value)
            if _too_short(kind, key):
                continue
            out += [text[pos : span.start], self._id(kind, key)]
            self.replaced[kind] += 1
            pos = span.end
        out.append(text[pos:])
        return "".join(out)

    def _known_spans(self, text: str) -> list[Span]:
        """Every occurrence of a learned spelling as a whole word, in any case; a one-word
        name only as learned ("May" the name, not "may")."""
        spans: list[Span] = []
        for form, (kind, _, learned) in self._forms.items():
            one_word_name = kind == Kind.NAME and " " not in form
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


def scrub_tool_result(placeholders: Placeholders, content: str) -> str:
    """A tool result with its personal data replaced: as JSON when it is JSON (dumped as the
    toolbox dumps it), as text when it was cut at the size cap."""
    try:
        value = json.loads(content)
    except ValueError:
        return placeholders.replace(content)
    return json.dumps(placeholders.replace_json(value), ensure_ascii=False)


def learn_tool_result(placeholders: Placeholders, content: str) -> None:
    try:
        value = json.loads(content)
    except ValueError:
        placeholders.learn_text(content)
        return
    placeholders.learn_json(value)
