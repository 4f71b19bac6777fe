"""What the pipeline stored for one customer turn, read back from the throwaway database: who
answered it (the route) and why, and the model calls it made with their cost and time.

The route, from the rows `bot/store/turns.py` writes:
- the bot's reply (`message`, role assistant, `reply_to_id` the turn) of kind `handoff`, and
  the turn's `escalation` row: a person, for the escalation's reasons;
- no reply, and the turn `held` (a person already owns the thread): a person, for the reasons
  of the thread's latest escalation;
- a reply of kind `answer` by the strong tier: the strong tier, for the reasons stored with its
  calls (`model_call.reasons`);
- any other reply the customer reads (an answer by the primary tier, a greeting, a note that
  the account is not linked, a budget notice): the primary tier, no reasons;
- an apology (answering failed): an error; a notice to slow down, or nothing at all (over the
  rate, which the eval turns off): no reply."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from sqlmodel import col, select

from bot.store.db import Database
from bot.store.models import (
    Escalation,
    Message,
    MessageRole,
    MessageStatus,
    ModelCall,
    ReplyKind,
    Tier,
)


class SeenRoute(StrEnum):
    """Who answered a turn, as stored; the first three are the expected routes' values."""

    ANSWER = "answer"
    STRONG = "strong"
    PERSON = "person"
    ERROR = "error"  # an apology: answering failed
    NO_REPLY = "no_reply"  # nothing was said (over the rate)


@dataclass(frozen=True)
class CallSeen:
    """One model call of a turn, as `model_call` stored it (a run's JSON holds it as is)."""

    tier: str
    provider: str
    model: str
    cost_usd: Decimal | None
    latency_ms: int
    outcome: str
    confidence: float | None  # of a final answer


@dataclass(frozen=True)
class StoredTurn:
    route: SeenRoute
    reasons: list[str]
    calls: list[CallSeen]


def _route(
    reply: Message | None,
    status: str,
    escalations: list[Escalation],
    calls: list[ModelCall],
) -> tuple[SeenRoute, list[str]]:
    """The route and its reasons (see the module's docstring); `escalations` are the thread's,
    the turn's own last."""
    if reply is None:
        if status == MessageStatus.HELD:
            return SeenRoute.PERSON, list(escalations[-1].reasons) if escalations else []
        return SeenRoute.NO_REPLY, []
    if reply.kind == ReplyKind.HANDOFF:
        return SeenRoute.PERSON, list(escalations[-1].reasons) if escalations else []
    if reply.kind == ReplyKind.APOLOGY:
        return SeenRoute.ERROR, []
    if reply.kind == ReplyKind.RATE_LIMITED:
        return SeenRoute.NO_REPLY, []
    if reply.kind == ReplyKind.ANSWER and reply.tier == Tier.STRONG:
        strong = next((c for c in calls if c.tier == Tier.STRONG), None)
        reasons = strong.reasons.split(",") if strong and strong.reasons else []
        return SeenRoute.STRONG, reasons
    return SeenRoute.ANSWER, []


async def stored_turn(db: Database, message_id: int) -> StoredTurn:
    """What was stored for the customer message `message_id` once its turn finished."""
    async with db.session() as s:
        message = await s.get(Message, message_id)
        assert message is not None
        reply = (
            await s.exec(
                select(Message).where(
                    col(Message.reply_to_id) == message_id,
                    col(Message.role) == MessageRole.ASSISTANT,
                )
            )
        ).first()
        escalations = list(
            (
                await s.exec(
                    select(Escalation)
                    .where(
                        col(Escalation.conversation_id) == message.conversation_id,
                        col(Escalation.message_id) <= message_id,
                    )
                    .order_by(col(Escalation.id))
                )
            ).all()
        )
        calls = list(
            (
                await s.exec(
                    select(ModelCall)
                    .where(col(ModelCall.message_id) == message_id)
                    .order_by(col(ModelCall.id))
                )
            ).all()
        )
    route, reasons = _route(reply, message.status, escalations, calls)
    return StoredTurn(
        route,
        reasons,
        [
            CallSeen(c.tier, c.provider, c.model, c.cost_usd, c.latency_ms, c.outcome, c.confidence)
            for c in calls
        ],
    )
