"""The SQL of the cost reports: every figure an aggregate over the period's `model_call` rows
(GROUP BY over the calls the `created_at` index finds); only the per-conversation totals are
ranked, for the 95th percentile and the priciest threads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    exists,
    func,
    literal,
    select,
    text,
    union_all,
)
from sqlalchemy.sql.elements import Label

from bot.store.db import Database
from bot.store.models import Conversation, Escalation, Message, ModelCall, Tier
from bot.store.tables import CONVERSATION as conversation_table
from bot.store.tables import MODEL_CALL as model_call_table

TOP_THREADS = 5

mc = ModelCall.__table__.c  # type: ignore[attr-defined]
conv = Conversation.__table__.c  # type: ignore[attr-defined]
esc = Escalation.__table__.c  # type: ignore[attr-defined]
msg = Message.__table__.c  # type: ignore[attr-defined]


def in_window(start: datetime, end: datetime, team: str | None) -> ColumnElement[bool]:
    """The calls of the period, of workspace `team` (None: of every workspace, the
    operator's view in the terminal)."""
    period = and_(mc.created_at >= start, mc.created_at < end)
    return period if team is None else and_(period, mc.team_id == team)


def cost_sum() -> Label[Any]:
    return func.coalesce(func.sum(mc.cost_usd), 0).label("cost")


def unknown_count() -> Label[Any]:
    return func.sum(case((mc.cost_usd.is_(None), 1), else_=0)).label("unknown")


async def tune_for_reports(conn: Any) -> None:
    """PostgreSQL: these aggregates over many rows are planned as costly, which switches JIT
    compilation on (seconds of compiling for a sub-second query) and spills hash aggregates of
    per-conversation totals to disk with the default work_mem. Both for this transaction only."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SET LOCAL jit = off"))
        await conn.execute(text("SET LOCAL work_mem = '64MB'"))


def by_model_statement(window: ColumnElement[bool], starts: list[int]) -> Any:
    """Spend, calls and tokens by model and tier, plus the sums to re-price at the strong model.

    `r{b}_*` sum the priced primary (and fallback) calls of messages that never called the
    strong tier, in strong-price bucket b: 0, or i when one call's input crosses the strong
    model's i-th tier threshold (tiers are cliffs decided per call). Grouping by model and tier
    only, with the rest as conditional sums, keeps it one hash aggregate over one scan.
    """
    strong_messages = (
        select(mc.message_id.label("mid"))
        .where(window, mc.tier == Tier.STRONG, mc.message_id.is_not(None))
        .distinct()
        .subquery("strong_messages")
    )
    # A primary call of a message that also called the strong tier (it joins a strong message):
    # that message counts at what its strong calls cost, so this call is not re-priced.
    repriced = and_(
        mc.cost_usd.is_not(None), mc.tier != Tier.STRONG, strong_messages.c.mid.is_(None)
    )
    bounds = [0, *starts]
    sums: list[Label[Any]] = []
    for b, low in enumerate(bounds):
        in_bucket = [mc.input_tokens > low] if b else []
        if b + 1 < len(bounds):
            in_bucket.append(mc.input_tokens <= bounds[b + 1])
        condition = and_(repriced, *in_bucket)
        sums.append(func.sum(case((condition, 1), else_=0)).label(f"r{b}_calls"))
        for name, column in (
            ("input", mc.input_tokens),
            ("cached", mc.cached_input_tokens),
            ("cache_write", mc.cache_write_tokens),
            ("output", mc.output_tokens),
        ):
            sums.append(func.sum(case((condition, column), else_=0)).label(f"r{b}_{name}"))
    return (
        select(
            mc.provider,
            mc.model,
            mc.tier,
            func.count().label("calls"),
            func.count(mc.cost_usd).label("priced"),
            unknown_count(),
            cost_sum(),
            func.sum(mc.input_tokens).label("input"),
            func.sum(mc.cached_input_tokens).label("cached"),
            func.sum(mc.cache_write_tokens).label("cache_write"),
            func.sum(mc.output_tokens).label("output"),
            *sums,
        )
        .select_from(model_call_table)
        .outerjoin(strong_messages, strong_messages.c.mid == mc.message_id)
        .where(window)
        .group_by(mc.provider, mc.model, mc.tier)
    )


def conversations_statement(
    window: ColumnElement[bool], start: datetime, end: datetime, team: str | None
) -> Any:
    """Per conversation, in one statement: the five most expensive, each row carrying the
    period's figures (conversations, with a strong call, with a person, the 95th percentile by
    nearest rank); one row without a conversation when there is none.

    A conversation counts when it has a model call or an escalation in the period (a thread
    handed straight to a person costs nothing but is a conversation all the same).
    """
    per_conv = (
        select(
            mc.conversation_id.label("cid"),
            func.count().label("calls"),
            cost_sum(),
            func.max(case((mc.tier == Tier.STRONG, 1), else_=0)).label("strong"),
        )
        .where(window)
        .group_by(mc.conversation_id)
        .cte("per_conv")
    )
    human = (
        select(esc.conversation_id.label("cid"))
        .where(
            esc.created_at >= start,
            esc.created_at < end,
            *([esc.team_id == team] if team is not None else []),
        )
        .distinct()
        .cte("human")
    )
    stats = _stats(per_conv, human)
    top = (
        select(per_conv)
        .order_by(per_conv.c.cost.desc(), per_conv.c.cid)
        .limit(TOP_THREADS)
        .subquery("top")
    )
    return (
        select(
            stats,
            top.c.cid,
            top.c.calls,
            top.c.cost,
            conv.channel_id,
            conv.thread_ts,
            _top_payer(top, start, end).label("user_id"),
        )
        .select_from(stats)
        .outerjoin(top, literal(True))
        .outerjoin(conversation_table, conv.id == top.c.cid)
        .order_by(top.c.cost.desc(), top.c.cid)
    )


def _stats(per_conv: Any, human: Any) -> Any:
    """The period's figures over the conversations with a call (`per_conv`) or with a person
    (`human`): how many, with a strong call, with a person, the 95th percentile of their cost."""
    every = union_all(
        select(per_conv.c.cid, per_conv.c.cost),
        select(human.c.cid, literal(0).label("cost")).where(
            ~exists().where(per_conv.c.cid == human.c.cid)
        ),
    ).cte("every")
    ranked = select(
        every.c.cost,
        func.row_number().over(order_by=every.c.cost).label("rn"),
        func.count().over().label("n"),
    ).cte("ranked")
    return select(
        select(func.count()).select_from(every).scalar_subquery().label("conversations"),
        select(func.count())
        .select_from(per_conv)
        .where(per_conv.c.strong == 1)
        .scalar_subquery()
        .label("with_strong"),
        select(func.count()).select_from(human).scalar_subquery().label("with_human"),
        select(ranked.c.cost)
        .where(ranked.c.rn == (ranked.c.n * 95 + 99) // 100)
        .scalar_subquery()
        .label("p95"),
    ).cte("stats")


def _top_payer(top: Any, start: datetime, end: datetime) -> Any:
    """A thread's customer is the one it cost most for: in a shared thread, each message's
    calls are charged to its sender, not to whoever started the thread."""
    payer = model_call_table.alias("payer")
    return (
        select(payer.c.user_id)
        .where(
            payer.c.conversation_id == top.c.cid,
            payer.c.created_at >= start,
            payer.c.created_at < end,
        )
        .group_by(payer.c.user_id)
        .order_by(func.coalesce(func.sum(payer.c.cost_usd), 0).desc(), payer.c.user_id)
        .limit(1)
        .scalar_subquery()
    )


async def fetch(db: Database, statement: Any) -> Sequence[Any]:
    async with db.session() as s:
        conn = await s.connection()
        await tune_for_reports(conn)
        return (await conn.execute(statement)).all()
