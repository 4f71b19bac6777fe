"""What has been spent, for the budgets: a thread's total, a customer's and the workspace's
spend since a moment (the start of the day), and the once-a-day notices of a limit reached."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import BindParameter, bindparam, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select

from bot.store.db import Database
from bot.store.models import Conversation, ModelCall, utcnow
from bot.store.tables import BUDGET_NOTICE as _NOTICE_TABLE


@dataclass(frozen=True)
class Spend:
    thread: Decimal
    customer_today: Decimal
    workspace_today: Decimal


# Built once, one round trip: budgets are checked before every model call (hot path).
_SINCE: BindParameter[datetime] = bindparam("since")
_SPEND = select(
    select(col(Conversation.total_cost_usd))
    .where(col(Conversation.id) == bindparam("conversation"))
    .scalar_subquery(),
    select(func.coalesce(func.sum(ModelCall.cost_usd), 0))
    .where(col(ModelCall.user_id) == bindparam("user"), col(ModelCall.created_at) >= _SINCE)
    .scalar_subquery(),
    select(func.coalesce(func.sum(ModelCall.cost_usd), 0))
    .where(col(ModelCall.team_id) == bindparam("team"), col(ModelCall.created_at) >= _SINCE)
    .scalar_subquery(),
)
_NOTICE = {
    "postgresql": postgresql.insert(_NOTICE_TABLE).on_conflict_do_nothing(),
    "sqlite": sqlite.insert(_NOTICE_TABLE).on_conflict_do_nothing(),
}


async def spend_since(
    db: Database, conversation_id: int | None, user_id: str, since: datetime, team_id: str
) -> Spend:
    """The thread's total, and the spend since `since` of the customer `user_id` (the calls
    that answered their messages, in any thread) and of the workspace `team_id` (its calls
    only)."""
    params = {"conversation": conversation_id, "user": user_id, "since": since, "team": team_id}
    async with db.engine.connect() as conn:
        thread, customer, workspace = (await conn.execute(_SPEND, params)).one()
    return Spend(Decimal(thread or 0), Decimal(customer or 0), Decimal(workspace or 0))


async def first_notice(db: Database, team_id: str, budget: str, scope: str, day: str) -> bool:
    """Note that `budget` was reached for `scope` on `day` (YYYY-MM-DD) in workspace
    `team_id`; True only the first time, so its leads are told once. The scope is cut to the
    column's 64 characters."""
    row = {
        "team_id": team_id,
        "budget": budget,
        "scope": scope[:64],
        "day": day,
        "created_at": utcnow(),
    }
    async with db.engine.begin() as conn:
        return bool((await conn.execute(_NOTICE[conn.dialect.name], row)).rowcount)
