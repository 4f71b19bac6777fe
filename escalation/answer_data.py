"""Output check for data: an answer may only show order data an authorised tool call returned."""

from __future__ import annotations

import re
from collections.abc import Iterable

from escalation.guards import MAX_CHECKED_CHARS, GuardFinding
from escalation.policy import Check

# An email is a run of local-part characters that ends at "@" and a dotted domain.  Runs are
# found first and each is read once: ``[\w.+-]+@`` searched directly retried every position of
# a long run without "@", quadratic in the run.
_LOCAL_RUN = re.compile(r"[\w.+-]++")
_DOMAIN = re.compile(r"@[\w-]++(?:\.[\w-]++)+")
# Tracking numbers and similar identifiers: long runs of letters and digits with some digits.
_IDENTIFIER = re.compile(r"\b(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z]|\d{12,})[A-Z0-9]{10,}\b")


def email_spans(text: str) -> list[tuple[int, int]]:
    """Where the email addresses in ``text`` are (start, end), left to right (as
    ``[\\w.+-]+@[\\w-]+(?:\\.[\\w-]+)+`` would find them, in linear time)."""
    found: list[tuple[int, int]] = []
    pos = 0
    while run := _LOCAL_RUN.search(text, pos):
        domain = _DOMAIN.match(text, run.end())
        if domain is None:
            pos = run.end()  # no start inside this run can reach an "@" either
            continue
        found.append((run.start(), domain.end()))
        pos = domain.end()
    return found


def emails(text: str) -> list[str]:
    """The email addresses in ``text``, left to right."""
    return [text[start:end] for start, end in email_spans(text)]


def identifier_spans(text: str) -> list[tuple[int, int]]:
    """Where the tracking numbers and similar identifiers in ``text`` are (start, end)."""
    return [m.span() for m in _IDENTIFIER.finditer(text)]


def check_answer_data(
    answer: str, *, asker_email: str | None, tool_texts: Iterable[str]
) -> list[GuardFinding]:
    """Flag emails other than the asker's, and identifiers no authorised tool result contains."""
    answer = answer[:MAX_CHECKED_CHARS]  # check_output flags a longer answer
    seen = "\n".join(tool_texts)
    findings: list[GuardFinding] = []
    own = (asker_email or "").lower()
    foreign = {e.lower() for e in emails(answer)} - {own}
    foreign = {e for e in foreign if e not in seen.lower()}
    if foreign:
        findings.append(
            GuardFinding(
                Check.OUTPUT, "foreign_email", f"{len(foreign)} email address(es) not the asker's"
            )
        )
    unverified = {i for i in _IDENTIFIER.findall(answer) if i not in seen}
    if unverified:
        findings.append(
            GuardFinding(
                Check.OUTPUT,
                "unverified_identifier",
                f"{len(unverified)} identifier(s) not returned by an authorised tool call",
            )
        )
    return findings
