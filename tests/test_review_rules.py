"""The lead review's rules as pure functions (`escalation/review.py`): which action moves an
escalation from which status, what a lead's first action records about the draft (what
`supportbot calibrate` and the fine-tuning export read), and when the draft may not be sent as
it is. The Slack surfaces that use them are tested in `test_lead_review.py`."""

from __future__ import annotations

import pytest

from escalation.policy import Check, Reason
from escalation.review import (
    HUMAN_OWNED,
    LeadAction,
    Resolution,
    ReviewStatus,
    allowed_actions,
    draft_flagged,
    next_status,
    resolution,
    sends_answer,
)

A, S = LeadAction, ReviewStatus
ALLOWED = {
    S.OPEN: {
        A.SEND_DRAFT: S.ANSWERED,
        A.SEND_EDITED: S.ANSWERED,
        A.TAKE_OVER: S.CLAIMED,
        A.DISMISS: S.DISMISSED,
    },
    S.CLAIMED: {A.SEND_EDITED: S.ANSWERED, A.RESOLVE: S.ANSWERED, A.HAND_BACK: S.DISMISSED},
    S.ANSWERED: {},
    S.DISMISSED: {},
}


@pytest.mark.parametrize("status", list(ReviewStatus))
@pytest.mark.parametrize("action", list(LeadAction))
def test_each_action_is_allowed_from_its_statuses_only(
    status: ReviewStatus, action: LeadAction
) -> None:
    assert next_status(status, action) == ALLOWED[status].get(action)


@pytest.mark.parametrize("status", list(ReviewStatus))
def test_the_actions_offered_are_those_allowed(status: ReviewStatus) -> None:
    assert allowed_actions(status) == list(ALLOWED[status])


def test_only_the_send_actions_send_an_answer() -> None:
    assert {a for a in LeadAction if sends_answer(a)} == {A.SEND_DRAFT, A.SEND_EDITED}


DRAFT = "Your order 1042 shipped on 3 March.\nTracking: 1Z999."


@pytest.mark.parametrize(
    ("action", "sent", "expected"),
    [
        (A.SEND_DRAFT, DRAFT, Resolution.DRAFT_SENT),
        # The edit form joins a long draft's boxes with line breaks and trims the ends.
        (A.SEND_EDITED, "  Your order 1042 shipped on 3 March. Tracking:\n1Z999.  ", "draft_sent"),
        (A.SEND_EDITED, "Your order 1042 shipped on 4 March. Tracking: 1Z999.", "edited"),
        (A.SEND_EDITED, "Your order 1042 shipped on 3 March.", "edited"),
        (A.TAKE_OVER, None, Resolution.TAKEN_OVER),
        (A.DISMISS, None, Resolution.DISMISSED),
    ],
)
def test_a_leads_first_action_records_whether_the_draft_was_right(
    action: LeadAction, sent: str | None, expected: str
) -> None:
    assert resolution(S.OPEN, action, DRAFT, sent) == expected


def test_an_empty_draft_is_never_sent_unchanged() -> None:
    assert resolution(S.OPEN, A.SEND_EDITED, "", "") == Resolution.EDITED
    assert resolution(S.OPEN, A.SEND_EDITED, "  \n", "") == Resolution.EDITED


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (S.CLAIMED, A.SEND_EDITED),  # after taking over: the resolution was recorded then
        (S.CLAIMED, A.RESOLVE),
        (S.CLAIMED, A.HAND_BACK),
        (S.OPEN, A.RESOLVE),  # not allowed from open
        (S.OPEN, A.HAND_BACK),
        (S.ANSWERED, A.SEND_DRAFT),
        (S.DISMISSED, A.SEND_EDITED),
    ],
)
def test_only_a_first_allowed_action_records_a_resolution(
    status: ReviewStatus, action: LeadAction
) -> None:
    assert resolution(status, action, DRAFT, DRAFT) is None


def _finding(check: str, rule: str) -> dict[str, str]:
    return {"check": check, "rule": rule}


@pytest.mark.parametrize(
    ("reasons", "findings", "flagged"),
    [
        ([Reason.OUTPUT_LEAK], [], True),
        ([Reason.UNAUTHORIZED_DATA], [], True),
        ([Reason.LOW_CONFIDENCE, Reason.INJECTION], [], False),
        ([], [_finding(Check.OUTPUT, "system_prompt_leak")], True),
        ([], [_finding(Check.OUTPUT, "canary_leak")], True),
        ([], [_finding(Check.OUTPUT, "foreign_email")], True),
        ([], [_finding(Check.OUTPUT, "unverified_identifier")], True),
        ([], [_finding(Check.OUTPUT, "no_final_answer")], False),
        # The same rules found by the other checks say nothing about the draft.
        ([], [_finding(Check.INPUT, "system_prompt_leak")], False),
        ([], [_finding(Check.MODEL_REPORT, "canary_leak")], False),
        ([], [_finding(Check.TOOL_OUTPUT, "foreign_email")], False),
        ([], [{"rule": "canary_leak"}], False),
        ([Reason.LOW_CONFIDENCE], [_finding(Check.INPUT, "x"), _finding(Check.OUTPUT, "x")], False),
    ],
)
def test_a_draft_that_failed_an_output_check_is_flagged(
    reasons: list[str], findings: list[dict[str, str]], flagged: bool
) -> None:
    assert draft_flagged(reasons, findings) is flagged


def test_a_thread_is_owned_by_a_person_while_its_escalation_is_open_or_claimed() -> None:
    assert {S.OPEN, S.CLAIMED} == HUMAN_OWNED
