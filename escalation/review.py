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


class Resolution(StrEnum):
    """What a lead did with the bot's draft (`escalation.resolution`), recorded at their first
    action on the open escalation: whether the draft was right, for `supportbot calibrate`."""

    DRAFT_SENT = "draft_sent"  # sent as drafted: *Send draft*, or *Edit and send* unchanged
    EDITED = "edited"  # *Edit and send* with changes: the draft was not right
    TAKEN_OVER = "taken_over"  # the lead answered personally (whatever they did next)
    DISMISSED = "dismissed"  # nothing sent: says nothing about the draft


# While an escalation is in one of these, a person owns the thread and the bot stays quiet.
HUMAN_OWNED = {ReviewStatus.OPEN, ReviewStatus.CLAIMED}


def next_status(status: ReviewStatus, action: LeadAction) -> ReviewStatus | None:
    """The status after `action`, or None when the action is not allowed from `status`."""
    return _TRANSITIONS.get((status, action))


def resolution(
    status: ReviewStatus, action: LeadAction, draft: str, sent: str | None
) -> Resolution | None:
    """What `action` on an escalation in `status` records about its draft, `sent` being the
    answer it sends; None for the actions after the first (resolving or handing back a thread
    taken over). A draft counts as sent unchanged whatever the whitespace: the edit form joins
    a long draft's boxes with line breaks and trims the ends."""
    if status != ReviewStatus.OPEN or next_status(status, action) is None:
        return None
    if action == LeadAction.TAKE_OVER:
        return Resolution.TAKEN_OVER
    if action == LeadAction.DISMISS:
        return Resolution.DISMISSED
    unchanged = sent is not None and bool(draft.split()) and sent.split() == draft.split()
    return Resolution.DRAFT_SENT if unchanged else Resolution.EDITED


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
