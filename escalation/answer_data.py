"""Output check for data: an answer may only show order data an authorised tool call returned."""

from __future__ import annotations

import re
from collections.abc import Iterable

from escalation.guards import GuardFinding

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Tracking numbers and similar identifiers: long runs of letters and digits with some digits.
_IDENTIFIER = re.compile(r"\b(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z]|\d{12,})[A-Z0-9]{10,}\b")


def check_answer_data(
    answer: str, *, asker_email: str | None, tool_texts: Iterable[str]
) -> list[GuardFinding]:
    """Flag emails other than the asker's, and identifiers no authorised tool result contains."""
    seen = "\n".join(tool_texts)
    findings: list[GuardFinding] = []
    own = (asker_email or "").lower()
    foreign = {e.lower() for e in _EMAIL.findall(answer)} - {own}
    foreign = {e for e in foreign if e not in seen.lower()}
    if foreign:
        findings.append(
            GuardFinding(
                "output", "foreign_email", f"{len(foreign)} email address(es) not the asker's"
            )
        )
    unverified = {i for i in _IDENTIFIER.findall(answer) if i not in seen}
    if unverified:
        findings.append(
            GuardFinding(
                "output",
                "unverified_identifier",
                f"{len(unverified)} identifier(s) not returned by an authorised tool call",
            )
        )
    return findings
