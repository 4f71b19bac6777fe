"""Model calls: each stored with its cost, and the cost added to its conversation's total."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlmodel import col, select

from bot.agent.models.calls import CallRecord
from bot.store.db import Database
from bot.store.models import USD, Conversation, Message, ModelCall, utcnow
from bot.store.pricing import PriceOverrides, call_cost

# Built once: a model call is stored on every turn (hot path). Bound names differ from the
# columns', which SQLAlchemy reserves for the SET clause.
# The call's workspace is its conversation's, read in the INSERT itself (no round trip).
_INSERT_CALL = insert(ModelCall).values(
    team_id=select(col(Conversation.team_id))
    .where(col(Conversation.id) == bindparam("p_team_of"))
    .scalar_subquery()
)
_ADD_COST = (
    update(Conversation)
    .where(col(Conversation.id) == bindparam("conversation"))
    .values(
        updated_at=bindparam("now"),
        total_cost_usd=col(Conversation.total_cost_usd) + bindparam("cost", type_=USD),
    )
)
_TOUCH = (
    update(Conversation)
    .where(col(Conversation.id) == bindparam("conversation"))
    .values(updated_at=bindparam("now"))
)


async def record_call(
    db: Database,
    message: Message,
    call: CallRecord,
    reasons: str = "",
    overrides: PriceOverrides | None = None,
) -> Decimal | None:
    """Store one model call made for `message` and add its cost to the thread's total, in one
    transaction; the cost (at the batch price for a call answered through a Batch API), or None
    when the model's price is unknown (`overrides` is `settings.price_overrides`)."""
    usage = call.usage
    cost = call_cost(
        call.provider, call.model, **asdict(call.usage), overrides=overrides, batch=call.batch
    )
    now = utcnow()
    row: dict[str, Any] = {
        "conversation_id": message.conversation_id,
        "message_id": message.id,
        "user_id": message.user_id,  # charged to the sender, not the thread's starter
        "provider": call.provider,
        "model": call.model,
        "tier": call.tier,
        "input_tokens": usage.input_tokens,
        "cached_input_tokens": usage.cached_input_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "output_tokens": usage.output_tokens,
        "cost_usd": cost,
        "latency_ms": call.latency_ms,
        "outcome": call.outcome,
        "stop_reason": call.stop_reason,
        "confidence": call.confidence,
        "reasons": reasons,
        "usage_raw": call.usage_raw,
        "batch": call.batch,
        "created_at": now,
    }
    thread = {"conversation": message.conversation_id, "now": now}
    async with db.engine.begin() as conn:
        await conn.execute(_INSERT_CALL, row | {"p_team_of": message.conversation_id})
        if cost is None:
            await conn.execute(_TOUCH, thread)
        else:
            await conn.execute(_ADD_COST, {**thread, "cost": cost})
    return cost
