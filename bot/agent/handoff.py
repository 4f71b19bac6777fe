"""Handing a thread to the support leads: the handoff's summary and the reply that says so.

The pipeline decides that a person takes over; this builds what the turn's end records (the
escalation, as a `Handoff`) and the notice the customer reads. Nothing is written here: the
store writes the escalation, its leads post and the notice with the turn
(`bot/store/turns.py`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot import metrics
from bot.agent import replies
from bot.agent.models.base import ChatMessage
from bot.delivery import Handoff, Reply
from bot.store.models import MessageVerdict, ReplyKind
from escalation.guards import GuardFinding
from escalation.policy import Check, Reason, Verdict

log = logging.getLogger(__name__)
# Writes the handoff summary for the leads: (transcript, reasons, draft) -> text.
Summarise = Callable[[list[ChatMessage], list[str], str], Awaitable[str]]


def verdict_for(reasons: tuple[Reason, ...]) -> MessageVerdict:
    """The verdict on a message handed to a person (or answered by the strong tier) for these
    reasons: an injection, from the input check or the model, or a leaked prompt, is flagged."""
    if Reason.INJECTION in reasons or Reason.OUTPUT_LEAK in reasons:
        return MessageVerdict.FLAGGED
    if Reason.BUDGET in reasons:
        return MessageVerdict.BUDGET
    if Reason.CUSTOMER_REQUEST in reasons or Reason.REPEATED_COMPLAINT in reasons:
        return MessageVerdict.HANDED_OVER
    return MessageVerdict.PASSED


def recorded(conversation_id: int, handoff: Handoff) -> None:
    """Logs and counts a handoff the store has written: not when it is prepared, since a turn
    held because a person took the thread meanwhile, or a second click, writes none."""
    log.info("conversation %s handed to a person: %s", conversation_id, handoff.reasons)
    metrics.escalated(handoff.reasons)


async def hand_off(
    conversation_id: int,
    transcript: list[ChatMessage],
    verdict: Verdict,
    findings: list[GuardFinding],
    summarise: Summarise,
    *,
    draft: str,
    confidence: float | None,
    escalated: bool = False,
) -> Reply:
    """The notice that a person takes over, carrying the handoff to record."""
    reasons = [str(r) for r in verdict.reasons]
    if Reason.INJECTION in verdict.reasons:
        # No model reads a message that tried to take it over, not even to summarise it.
        rules = ", ".join(sorted({f.rule for f in findings if f.check == Check.INPUT}))
        said = [f"The input check flagged this message: {rules}."] if rules else []
        said += [f"{f.detail}." for f in findings if f.check == Check.MODEL_REPORT]
        summary = " ".join(said)
    elif Reason.BUDGET in verdict.reasons:
        summary = "A spending limit was reached; no model was asked for a summary."
    else:
        summary = await summarise(transcript, reasons, draft)
    models_down = Reason.PROVIDER_FAILURE in verdict.reasons
    handoff = Handoff(
        reasons=reasons,
        confidence=confidence,
        findings=[{"check": f.check, "rule": f.rule, "detail": f.detail} for f in findings],
        summary=summary,
        draft=draft,
    )
    return Reply(
        replies.MODELS_DOWN if models_down else replies.HANDED_OFF,
        ReplyKind.HANDOFF,
        handoff=handoff,
        verdict=verdict_for(verdict.reasons),
        escalated=escalated,
    )
