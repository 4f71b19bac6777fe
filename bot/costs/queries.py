"""One thread's calls, one customer's spend, spend per day: what `/costs` shows beside the
period report (`bot/costs/report.py`)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select

from bot.costs.money import usd
from bot.costs.periods import period_window
from bot.costs.results import (
    CallDetail,
    CustomerSpend,
    DailySpend,
    HumanEscalation,
    ThreadDetail,
    ThreadSpend,
    by_tier,
    thread_spend,
)
from bot.costs.statements import (
    TOP_THREADS,
    conv,
    cost_sum,
    esc,
    in_window,
    mc,
    msg,
    tune_for_reports,
    unknown_count,
)
from bot.slack_links import thread_url
from bot.store.db import Database
from bot.store.models import Conversation, ModelCall
from bot.store.tables import CONVERSATION, MESSAGE

# What a thread's detail takes from its conversation row as it is.
_THREAD_COLUMNS = {"channel_id", "thread_ts", "user_id", "status", "tier"}


async def _top_threads(conn: Any, window: ColumnElement[bool], user_id: str) -> list[ThreadSpend]:
    """The threads where one customer's messages cost most, with what they cost for them."""
    cost = func.coalesce(func.sum(mc.cost_usd), 0)
    per = (
        select(
            mc.conversation_id.label("cid"),
            func.count().label("calls"),
            cost.label("cost"),
        )
        .where(window, mc.user_id == user_id)
        .group_by(mc.conversation_id)
        .order_by(cost.desc(), mc.conversation_id)
        .limit(TOP_THREADS)
        .subquery()
    )
    rows = (
        await conn.execute(
            select(per, conv.channel_id, conv.thread_ts)
            .join_from(per, CONVERSATION, conv.id == per.c.cid)
            .order_by(per.c.cost.desc(), per.c.cid)
        )
    ).all()
    return [thread_spend(r, user_id) for r in rows]


async def find_thread(
    db: Database, channel_id: str, ts: str, team: str | None = None
) -> int | None:
    """The conversation of a thread, from its root ts or the ts of any message in it; of
    workspace `team` only (None: of any), so another workspace's thread is not found."""
    ours = [conv.team_id == team] if team is not None else []
    async with db.session() as s:
        conn = await s.connection()
        found = (
            await conn.execute(
                select(conv.id).where(conv.channel_id == channel_id, conv.thread_ts == ts, *ours)
            )
        ).scalar()
        if found is None:
            found = (
                await conn.execute(
                    select(msg.conversation_id)
                    .join_from(MESSAGE, CONVERSATION, conv.id == msg.conversation_id)
                    .where(msg.channel_id == channel_id, msg.slack_ts == ts, *ours)
                )
            ).scalar()
    return int(found) if found is not None else None


async def thread_detail(
    db: Database, channel_id: str, thread_ts: str, team: str | None = None
) -> ThreadDetail | None:
    """Every model call of one thread, oldest first; None when the thread is unknown (or of
    another workspace than `team`; None: of any)."""
    conversation_id = await find_thread(db, channel_id, thread_ts, team)
    if conversation_id is None:
        return None
    async with db.session() as s:
        conversation = await s.get(Conversation, conversation_id)
        conn = await s.connection()
        calls = (
            await conn.execute(
                select(ModelCall.__table__)  # type: ignore[attr-defined]
                .where(mc.conversation_id == conversation_id)
                .order_by(mc.created_at, mc.id)
            )
        ).all()
        escs = (
            await conn.execute(
                select(esc.id, esc.created_at, esc.status, esc.reasons)
                .where(esc.conversation_id == conversation_id)
                .order_by(esc.id)
            )
        ).all()
    assert conversation is not None
    details = [CallDetail.model_validate(c) for c in calls]
    return ThreadDetail(
        conversation_id=conversation_id,
        **conversation.model_dump(include=_THREAD_COLUMNS),
        link=thread_url(conversation.channel_id, conversation.thread_ts),
        total_usd=usd(sum((d.cost_usd for d in details if d.cost_usd is not None), Decimal(0))),
        unknown_cost_calls=sum(1 for d in details if d.cost_usd is None),
        calls=details,
        escalations=[
            HumanEscalation(
                id=e.id, created_at=e.created_at, status=e.status, reasons=e.reasons or []
            )
            for e in escs
        ],
    )


async def customer_spend(
    db: Database,
    user_id: str,
    period: str = "today",
    *,
    now: datetime | None = None,
    team: str | None = None,
) -> CustomerSpend:
    """One customer's spend in a period in workspace `team` (None: in every workspace): the
    model calls that answered their messages, in any thread (in a shared thread, each sender
    pays for their own)."""
    start, end = period_window(period, now)
    window = in_window(start, end, team)
    theirs = mc.user_id == user_id
    async with db.session() as s:
        conn = await s.connection()
        rows = (
            await conn.execute(
                select(
                    mc.tier,
                    func.count().label("calls"),
                    unknown_count(),
                    cost_sum(),
                    func.count(func.distinct(mc.conversation_id)).label("conversations"),
                )
                .where(window, theirs)
                .group_by(mc.tier)
            )
        ).all()
        conversations = (
            await conn.execute(
                select(func.count(func.distinct(mc.conversation_id))).where(window, theirs)
            )
        ).scalar()
        top = await _top_threads(conn, window, user_id)
    tiers = by_tier((r.tier, r.calls, int(r.unknown or 0), r.cost) for r in rows)
    return CustomerSpend(
        user_id=user_id,
        period=period.strip().lower(),
        start=start,
        end=end,
        total_usd=usd(sum((t.cost_usd for t in tiers), Decimal(0))),
        calls=sum(t.calls for t in tiers),
        unknown_cost_calls=sum(t.unknown_cost_calls for t in tiers),
        conversations=int(conversations or 0),
        by_tier=tiers,
        top_threads=top,
    )


async def daily_spend(
    db: Database, period: str = "7d", *, now: datetime | None = None, team: str | None = None
) -> tuple[datetime, datetime, list[DailySpend]]:
    """Spend per UTC day and tier in the period, of workspace `team` (None: of every
    workspace); days without spend are absent."""
    start, end = period_window(period, now)
    async with db.session() as s:
        conn = await s.connection()
        await tune_for_reports(conn)
        if conn.dialect.name == "postgresql":
            day: ColumnElement[Any] = func.date(func.timezone("UTC", mc.created_at))
        else:  # SQLite keeps UTC timestamps as text
            day = func.date(mc.created_at)
        rows = (
            await conn.execute(
                select(day.label("day"), mc.tier, cost_sum())
                .where(in_window(start, end, team))
                .group_by(day, mc.tier)
                .order_by(day, mc.tier)
            )
        ).all()
    spend = [
        DailySpend(
            day=r.day if isinstance(r.day, date) else date.fromisoformat(str(r.day)),
            tier=r.tier,
            cost_usd=usd(r.cost),
        )
        for r in rows
    ]
    return start, end, spend
