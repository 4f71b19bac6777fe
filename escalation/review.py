"""The lead review workflow: which action moves an escalation from which status to which."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

from escalation.policy import DATA_RULES, LEAK_RULES, Check, Reason


class ReviewStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    ANSWERED = "answered"
    DISMISSED = "dismissed"


class LeadAction(StrEnum):
    SEND_DRAFT = "send_draft"  # post the bot's draft, as reviewed
    SEND_EDITED = "send_edited"  # post the lead's edited answer
    TAKE_OVER = "take_over"  # the lead answers in the thread personally
    DISMISS = "dismiss"  # nothing to send; the bot resumes
    RESOLVE = "resolve"  # a lead who took over is done
    HAND_BACK = "hand_back"  # a lead who took over gives the thread back to the bot


_TRANSITIONS: dict[tuple[ReviewStatus, LeadAction], ReviewStatus] = {
    (ReviewStatus.OPEN, LeadAction.SEND_DRAFT): ReviewStatus.ANSWERED,
    (ReviewStatus.OPEN, LeadAction.SEND_EDITED): ReviewStatus.ANSWERED,
    (ReviewStatus.OPEN, LeadAction.TAKE_OVER): ReviewStatus.CLAIMED,
    (ReviewStatus.OPEN, LeadAction.DISMISS): ReviewStatus.DISMISSED,
    (ReviewStatus.CLAIMED, LeadAction.SEND_EDITED): ReviewStatus.ANSWERED,
    (ReviewStatus.CLAIMED, LeadAction.RESOLVE): ReviewStatus.ANSWERED,
    (ReviewStatus.CLAIMED, LeadAction.HAND_BACK): ReviewStatus.DISMISSED,
}

# While an escalation is in one of these, a person owns the thread and the bot stays quiet.
HUMAN_OWNED = {ReviewStatus.OPEN, ReviewStatus.CLAIMED}


def next_status(status: ReviewStatus, action: LeadAction) -> ReviewStatus | None:
    """The status after `action`, or None when the action is not allowed from `status`."""
    return _TRANSITIONS.get((status, action))


def allowed_actions(status: ReviewStatus) -> list[LeadAction]:
    return [a for (s, a) in _TRANSITIONS if s == status]


def sends_answer(action: LeadAction) -> bool:
    return action in (LeadAction.SEND_DRAFT, LeadAction.SEND_EDITED)


# Escalations whose draft failed an output check: the draft is not offered to send as it is.
_FLAGGED_REASONS = {Reason.OUTPUT_LEAK, Reason.UNAUTHORIZED_DATA}


def draft_flagged(reasons: Iterable[str], findings: Iterable[Mapping[str, str]]) -> bool:
    """True when the output checks found a leak (canary, system prompt) or data the customer
    may not see in the escalation's draft: *Send draft* is not offered, only *Edit and send*."""
    rules = {f.get("rule", "") for f in findings if f.get("check") == Check.OUTPUT}
    return bool(_FLAGGED_REASONS & set(reasons)) or bool(rules & (LEAK_RULES | DATA_RULES))
