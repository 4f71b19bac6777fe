"""What a customer's words ask for: a person, or a correction ("that's wrong")."""

from __future__ import annotations

import functools
import re

from escalation.guards import MAX_CHECKED_CHARS
from escalation.normalize import nfkc_bounded

_PERSON = (
    r"(?:(?:a|an|some|the)\s+)?(?:(?:real|live|actual)\s+)?"
    r"(?:human|person|people|agent|somebody|someone|representative|rep|operator|"
    r"staff(?:\s+member)?|support\s+(?:person|team|agent)|manager|supervisor)"
)
_HUMAN_REQUEST = re.compile(
    rf"""
    \b(?:talk|speak|chat|connect\ me|put\ me\ through|transfer\ me|escalate\ (?:me|this))
        (?:\ (?:to|with))?\ {_PERSON}\b
    | \b(?:i\ want|i\ need|i'd\ like|can\ i\ get|can\ i\ have|get\ me|give\ me)\ {_PERSON}\b
        (?=\s*(?:$|[.,!?]|please|pls|now|to\ (?:talk|speak|help|call|contact|look)))
    | ^\W*(?:human|agent|person|representative|operator)(?:\ please|\ pls|\ now)?\W*$
    | \b(?:agent|human|representative|operator)\ (?:please|pls|now)\b
    | \bis\ there\ (?:a|an|any)\ (?:human|person|real\ person|agent)\b
    """,
    re.IGNORECASE | re.VERBOSE,
)
_COMPLAINT = re.compile(
    r"""
    \b(?:that'?s|that\ is|it'?s|it\ is|you'?re|you\ are|answer\ is|still)
        \ (?:not\ right|wrong|incorrect|not\ correct|not\ true)\b
    | \bwrong\ (?:answer|order|status|info(?:rmation)?)\b
    | \bnot\ what\ i\ asked\b
    | \bthat\ didn'?t\ help\b
    """,
    re.IGNORECASE | re.VERBOSE,
)


@functools.lru_cache(maxsize=64)  # both matchers read the same message
def _plain(text: str) -> str:
    # History replays earlier messages of any length: read no more than the guards do, and
    # no more of what NFKC makes of it (text that grows past that is flagged by the guards).
    text = nfkc_bounded(text[:MAX_CHECKED_CHARS]).replace("’", "'").replace("‘", "'")
    return " ".join(text.split())


def asks_for_human(text: str) -> bool:
    """True when the customer explicitly asks for a person ("can I talk to a human?")."""
    return bool(_HUMAN_REQUEST.search(_plain(text)))


def says_answer_was_wrong(text: str) -> bool:
    """True when the customer says the bot's answer was wrong or did not help."""
    return bool(_COMPLAINT.search(_plain(text)))
