"""What the bot spends: reports for a period, one thread, one customer; daily spend by tier.

Every figure is aggregated in SQL from `model_call` rows (GROUP BY over the period's calls, which
the `created_at` index finds); only the per-conversation totals are fetched, for the 95th
percentile. Periods are UTC windows ending now.

Savings are computed from recorded usage, never assumed: for each inbound message, if the strong
tier was called, its always-strong cost is what its strong calls cost; otherwise the recorded
tokens of its primary (and fallback) calls are re-priced at the strong model's prices, price
overrides included. Calls whose cost is unknown are left out of both sides of that comparison.
"""

from __future__ import annotations

import asyncio
import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

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

from bot.config import parse_model_ref
from bot.store.cost_results import (
    CallDetail,
    CostReport,
    CustomerSpend,
    DailySpend,
    HumanEscalation,
    ModelSpend,
    Savings,
    ThreadDetail,
    ThreadSpend,
    TierSpend,
)
from bot.store.db import Database
from bot.store.models import Conversation, Escalation, Message, ModelCall, Tier
from bot.store.pricing import PriceOverrides, flat_price, model_price, price_usage, tier_starts

PERIODS = ("today", "week", "month", "7d", "30d")
TOP_THREADS = 5
_PLACES = Decimal("1e-10")  # the precision of the cost columns
_MIN_ELAPSED = timedelta(hours=1)  # a rate is not extrapolated from less than this

_mc = ModelCall.__table__.c  # type: ignore[attr-defined]
_conv = Conversation.__table__.c  # type: ignore[attr-defined]
_esc = Escalation.__table__.c  # type: ignore[attr-defined]
_msg = Message.__table__.c  # type: ignore[attr-defined]
_conversation_table = Conversation.__table__  # type: ignore[attr-defined]
_model_call_table = ModelCall.__table__  # type: ignore[attr-defined]


class PeriodError(ValueError):
    """An unknown period; the message lists the valid ones."""


# ---------------------------------------------------------------------------------------------
# Periods, money and links


def period_window(period: str, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The UTC window [start, end) of a period, ending now.

    `today` since midnight, `week` since Monday midnight, `month` since the 1st, `7d` and `30d`
    the last 7 or 30 times 24 hours.
    """
    end = (now or datetime.now(UTC)).astimezone(UTC)
    midnight = end.replace(hour=0, minute=0, second=0, microsecond=0)
    key = period.strip().lower()
    if key == "today":
        return midnight, end
    if key == "week":
        return midnight - timedelta(days=midnight.weekday()), end
    if key == "month":
        return midnight.replace(day=1), end
    match = re.fullmatch(r"(7|30)d", key)
    if match:
        return end - timedelta(days=int(match.group(1))), end
    raise PeriodError(f"unknown period {period!r}; use one of: {', '.join(PERIODS)}")


_LINK = re.compile(
    r"^<?https?://[^/\s]*slack\.com/archives/(?P<channel>[A-Z0-9]+)/p(?P<sec>\d{10})(?P<usec>\d{6})"
    r"(?:\?(?P<query>[^\s|>]*))?(?:\|[^>]*)?>?$"
)


def parse_thread_link(link: str) -> tuple[str, str] | None:
    """(channel, thread ts) of a Slack message link, None if it is not one.

    `https://acme.slack.com/archives/C123/p1700000000123456` is the message 1700000000.123456;
    a reply's link carries its thread as `?thread_ts=...`. Slack may wrap links in `<...|label>`.
    """
    match = _LINK.match(link.strip())
    if not match:
        return None
    ts = f"{match['sec']}.{match['usec']}"
    thread_ts = (parse_qs(match["query"] or "").get("thread_ts") or [ts])[0]
    if not re.fullmatch(r"\d{10}\.\d{6}", thread_ts):
        return None
    return match["channel"], thread_ts


def usd(value: Any) -> Decimal:
    """A cost as an exact Decimal at the columns' precision, without trailing zeros."""
    if value is None:
        return Decimal(0)
    amount = value if isinstance(value, Decimal) else Decimal(repr(value))
    return Decimal(format(amount.quantize(_PLACES).normalize(), "f"))


def format_usd(value: Decimal | None) -> str:
    """Dollars for people: cents for big sums, more digits for the tiny costs of single calls."""
    if value is None:
        return "unknown"
    if value == 0:
        return "$0.00"
    if abs(value) >= 1:
        return f"${value:,.2f}"
    if abs(value) >= Decimal("0.01"):
        return f"${value:.4f}"
    return f"${value:.6f}"


def thread_url(channel_id: str, thread_ts: str) -> str:
    return f"https://slack.com/archives/{channel_id}/p{thread_ts.replace('.', '')}"


def p95(values: Sequence[Decimal]) -> Decimal:
    """95th percentile by nearest rank: the ceil(0.95 n)-th smallest value (0 when empty)."""
    if not values:
        return Decimal(0)
    ordered = sorted(values)
    rank = (95 * len(ordered) + 99) // 100
    return ordered[rank - 1]


# ---------------------------------------------------------------------------------------------
# Queries


@dataclass
class _Sum:
    calls: int = 0
    unknown: int = 0
    cost: Decimal = Decimal(0)
    input: int = 0
    cached: int = 0
    cache_write: int = 0
    output: int = 0

    def add(self, row: Any) -> None:
        self.calls += int(row.calls)
        self.unknown += int(row.unknown or 0)
        self.cost += usd(row.cost)
        self.input += int(row.input or 0)
        self.cached += int(row.cached or 0)
        self.cache_write += int(row.cache_write or 0)
        self.output += int(row.output or 0)


@dataclass
class _Tokens:
    """Token sums of priced calls in one price bucket, to re-price at the strong model."""

    calls: int = 0
    input: int = 0
    cached: int = 0
    cache_write: int = 0
    output: int = 0

    def add(self, row: Any, b: int) -> None:
        self.calls += int(getattr(row, f"r{b}_calls") or 0)
        self.input += int(getattr(row, f"r{b}_input") or 0)
        self.cached += int(getattr(row, f"r{b}_cached") or 0)
        self.cache_write += int(getattr(row, f"r{b}_cache_write") or 0)
        self.output += int(getattr(row, f"r{b}_output") or 0)


def _in_window(start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(_mc.created_at >= start, _mc.created_at < end)


def _cost_sum() -> Label[Any]:
    return func.coalesce(func.sum(_mc.cost_usd), 0).label("cost")


def _unknown_count() -> Label[Any]:
    return func.sum(case((_mc.cost_usd.is_(None), 1), else_=0)).label("unknown")


async def _tune_for_reports(conn: Any) -> None:
    """PostgreSQL: these aggregates over many rows are planned as costly, which switches JIT
    compilation on (seconds of compiling for a sub-second query) and spills hash aggregates of
    per-conversation totals to disk with the default work_mem. Both for this transaction only."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SET LOCAL jit = off"))
        await conn.execute(text("SET LOCAL work_mem = '64MB'"))


def _by_model_statement(window: ColumnElement[bool], starts: list[int]) -> Any:
    """Spend, calls and tokens by model and tier, plus the sums to re-price at the strong model.

    `r{b}_*` sum the priced primary (and fallback) calls of messages that never called the
    strong tier, in strong-price bucket b: 0, or i when one call's input crosses the strong
    model's i-th tier threshold (tiers are cliffs decided per call). Grouping by model and tier
    only, with the rest as conditional sums, keeps it one hash aggregate over one scan.
    """
    strong_messages = (
        select(_mc.message_id.label("mid"))
        .where(window, _mc.tier == Tier.STRONG, _mc.message_id.is_not(None))
        .distinct()
        .subquery("strong_messages")
    )
    # A primary call of a message that also called the strong tier (it joins a strong message):
    # that message counts at what its strong calls cost, so this call is not re-priced.
    repriced = and_(
        _mc.cost_usd.is_not(None), _mc.tier != Tier.STRONG, strong_messages.c.mid.is_(None)
    )
    bounds = [0, *starts]
    sums: list[Label[Any]] = []
    for b, low in enumerate(bounds):
        in_bucket = [_mc.input_tokens > low] if b else []
        if b + 1 < len(bounds):
            in_bucket.append(_mc.input_tokens <= bounds[b + 1])
        condition = and_(repriced, *in_bucket)
        sums.append(func.sum(case((condition, 1), else_=0)).label(f"r{b}_calls"))
        for name, column in (
            ("input", _mc.input_tokens),
            ("cached", _mc.cached_input_tokens),
            ("cache_write", _mc.cache_write_tokens),
            ("output", _mc.output_tokens),
        ):
            sums.append(func.sum(case((condition, column), else_=0)).label(f"r{b}_{name}"))
    return (
        select(
            _mc.provider,
            _mc.model,
            _mc.tier,
            func.count().label("calls"),
            func.count(_mc.cost_usd).label("priced"),
            _unknown_count(),
            _cost_sum(),
            func.sum(_mc.input_tokens).label("input"),
            func.sum(_mc.cached_input_tokens).label("cached"),
            func.sum(_mc.cache_write_tokens).label("cache_write"),
            func.sum(_mc.output_tokens).label("output"),
            *sums,
        )
        .select_from(_model_call_table)
        .outerjoin(strong_messages, strong_messages.c.mid == _mc.message_id)
        .where(window)
        .group_by(_mc.provider, _mc.model, _mc.tier)
    )


def _conversations_statement(window: ColumnElement[bool], start: datetime, end: datetime) -> Any:
    """Per conversation, in one statement: the five most expensive, each row carrying the
    period's figures (conversations, with a strong call, with a person, the 95th percentile by
    nearest rank); one row without a conversation when there is none.

    A conversation counts when it has a model call or an escalation in the period (a thread
    handed straight to a person costs nothing but is a conversation all the same).
    """
    per_conv = (
        select(
            _mc.conversation_id.label("cid"),
            func.count().label("calls"),
            _cost_sum(),
            func.max(case((_mc.tier == Tier.STRONG, 1), else_=0)).label("strong"),
        )
        .where(window)
        .group_by(_mc.conversation_id)
        .cte("per_conv")
    )
    human = (
        select(_esc.conversation_id.label("cid"))
        .where(_esc.created_at >= start, _esc.created_at < end)
        .distinct()
        .cte("human")
    )
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
    stats = select(
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
    top = (
        select(per_conv)
        .order_by(per_conv.c.cost.desc(), per_conv.c.cid)
        .limit(TOP_THREADS)
        .subquery("top")
    )
    # A thread's customer is the one it cost most for: in a shared thread, each message's
    # calls are charged to its sender, not to whoever started the thread.
    payer = _model_call_table.alias("payer")
    top_payer = (
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
    return (
        select(
            stats,
            top.c.cid,
            top.c.calls,
            top.c.cost,
            _conv.channel_id,
            _conv.thread_ts,
            top_payer.label("user_id"),
        )
        .select_from(stats)
        .outerjoin(top, literal(True))
        .outerjoin(_conversation_table, _conv.id == top.c.cid)
        .order_by(top.c.cost.desc(), top.c.cid)
    )


async def _fetch(db: Database, statement: Any) -> Sequence[Any]:
    async with db.session() as s:
        conn = await s.connection()
        await _tune_for_reports(conn)
        return (await conn.execute(statement)).all()


async def report(
    db: Database,
    period: str = "today",
    *,
    strong_model: str,
    overrides: PriceOverrides | None = None,
    now: datetime | None = None,
) -> CostReport:
    """Everything `/costs [period]` shows. `strong_model` is a `provider:model` reference."""
    start, end = period_window(period, now)
    window = _in_window(start, end)
    strong_provider, strong_name = parse_model_ref(strong_model)
    strong_price = model_price(strong_provider, strong_name, overrides)
    starts = tier_starts(strong_price) if strong_price is not None else []

    # Two scans of the period's calls; on two connections at once, they take as long as one.
    model_rows, conv_rows = await asyncio.gather(
        _fetch(db, _by_model_statement(window, starts)),
        _fetch(db, _conversations_statement(window, start, end)),
    )

    by_model: dict[tuple[str, str], _Sum] = {}
    by_tier: dict[str, _Sum] = {}
    everything = _Sum()
    strong_cost = Decimal(0)
    strong_calls = 0
    repriced: dict[int, _Tokens] = {}
    for r in model_rows:
        for acc in (
            by_model.setdefault((r.provider, r.model), _Sum()),
            by_tier.setdefault(r.tier, _Sum()),
            everything,
        ):
            acc.add(r)
        if r.tier == Tier.STRONG:
            strong_cost += usd(r.cost)
            strong_calls += int(r.priced or 0)
        else:
            for b in range(len(starts) + 1):
                repriced.setdefault(b, _Tokens()).add(r, b)
    total = usd(everything.cost)

    first = conv_rows[0]
    conversations = int(first.conversations or 0)
    with_strong = int(first.with_strong or 0)
    with_human = int(first.with_human or 0)
    top_threads = [
        ThreadSpend(
            conversation_id=r.cid,
            channel_id=r.channel_id,
            thread_ts=r.thread_ts,
            user_id=r.user_id,
            calls=r.calls,
            cost_usd=usd(r.cost),
            link=thread_url(r.channel_id, r.thread_ts),
        )
        for r in conv_rows
        if r.cid is not None
    ]

    # Savings: priced calls only, on both sides.
    actual = usd(everything.cost)
    always: Decimal | None = None
    if strong_price is not None:
        always = strong_cost
        for b, tokens in repriced.items():
            always += price_usage(
                flat_price(strong_price, starts[b - 1] + 1 if b else 0),
                input_tokens=tokens.input,
                cached_input_tokens=tokens.cached,
                cache_write_tokens=tokens.cache_write,
                output_tokens=tokens.output,
            )
    saved = always - actual if always is not None else None
    savings = Savings(
        strong_model=strong_model,
        actual_usd=actual,
        always_strong_usd=usd(always) if always is not None else None,
        saved_usd=usd(saved) if saved is not None else None,
        saved_share=round(float(saved / always), 4) if saved is not None and always else None,
        compared_calls=everything.calls - everything.unknown,
        repriced_calls=sum(t.calls for t in repriced.values()),
        strong_calls=strong_calls,
    )

    elapsed = max(end - start, _MIN_ELAPSED)
    daily_rate = total * Decimal(86400) / Decimal(elapsed.total_seconds())
    days_in_month = calendar.monthrange(end.year, end.month)[1]

    return CostReport(
        period=period.strip().lower(),
        start=start,
        end=end,
        total_usd=total,
        calls=everything.calls,
        unknown_cost_calls=everything.unknown,
        input_tokens=everything.input,
        cached_input_tokens=everything.cached,
        cache_write_tokens=everything.cache_write,
        output_tokens=everything.output,
        by_model=sorted(
            (
                ModelSpend(
                    provider=p,
                    model=m,
                    calls=a.calls,
                    unknown_cost_calls=a.unknown,
                    cost_usd=usd(a.cost),
                )
                for (p, m), a in by_model.items()
            ),
            key=lambda x: (-x.cost_usd, x.provider, x.model),
        ),
        by_tier=sorted(
            (
                TierSpend(tier=t, calls=a.calls, unknown_cost_calls=a.unknown, cost_usd=usd(a.cost))
                for t, a in by_tier.items()
            ),
            key=lambda x: (-x.cost_usd, x.tier),
        ),
        conversations=conversations,
        cost_per_conversation_mean_usd=usd(total / conversations) if conversations else usd(0),
        cost_per_conversation_p95_usd=usd(first.p95),
        conversations_with_strong=with_strong,
        conversations_with_human=with_human,
        strong_escalation_rate=with_strong / conversations if conversations else 0.0,
        human_escalation_rate=with_human / conversations if conversations else 0.0,
        savings=savings,
        daily_rate_usd=usd(daily_rate),
        projected_month_usd=usd(daily_rate * days_in_month),
        top_threads=top_threads,
    )


async def _top_threads(conn: Any, window: ColumnElement[bool], user_id: str) -> list[ThreadSpend]:
    """The threads where one customer's messages cost most, with what they cost for them."""
    cost = func.coalesce(func.sum(_mc.cost_usd), 0)
    per = (
        select(
            _mc.conversation_id.label("cid"),
            func.count().label("calls"),
            cost.label("cost"),
        )
        .where(window, _mc.user_id == user_id)
        .group_by(_mc.conversation_id)
        .order_by(cost.desc(), _mc.conversation_id)
        .limit(TOP_THREADS)
        .subquery()
    )
    rows = (
        await conn.execute(
            select(per, _conv.channel_id, _conv.thread_ts)
            .join_from(per, _conversation_table, _conv.id == per.c.cid)
            .order_by(per.c.cost.desc(), per.c.cid)
        )
    ).all()
    return [
        ThreadSpend(
            conversation_id=r.cid,
            channel_id=r.channel_id,
            thread_ts=r.thread_ts,
            user_id=user_id,
            calls=r.calls,
            cost_usd=usd(r.cost),
            link=thread_url(r.channel_id, r.thread_ts),
        )
        for r in rows
    ]


async def find_thread(db: Database, channel_id: str, ts: str) -> int | None:
    """The conversation of a thread, from its root ts or the ts of any message in it."""
    async with db.session() as s:
        conn = await s.connection()
        found = (
            await conn.execute(
                select(_conv.id).where(_conv.channel_id == channel_id, _conv.thread_ts == ts)
            )
        ).scalar()
        if found is None:
            found = (
                await conn.execute(
                    select(_msg.conversation_id).where(
                        _msg.channel_id == channel_id, _msg.slack_ts == ts
                    )
                )
            ).scalar()
    return int(found) if found is not None else None


async def thread_detail(db: Database, channel_id: str, thread_ts: str) -> ThreadDetail | None:
    """Every model call of one thread, oldest first; None when the thread is unknown."""
    conversation_id = await find_thread(db, channel_id, thread_ts)
    if conversation_id is None:
        return None
    async with db.session() as s:
        conv = await s.get(Conversation, conversation_id)
        conn = await s.connection()
        calls = (
            await conn.execute(
                select(ModelCall.__table__)  # type: ignore[attr-defined]
                .where(_mc.conversation_id == conversation_id)
                .order_by(_mc.created_at, _mc.id)
            )
        ).all()
        escs = (
            await conn.execute(
                select(_esc.id, _esc.created_at, _esc.status, _esc.reasons)
                .where(_esc.conversation_id == conversation_id)
                .order_by(_esc.id)
            )
        ).all()
    assert conv is not None
    details = [
        CallDetail(
            id=c.id,
            created_at=_utc(c.created_at),
            user_id=c.user_id,
            provider=c.provider,
            model=c.model,
            tier=c.tier,
            input_tokens=c.input_tokens,
            cached_input_tokens=c.cached_input_tokens,
            cache_write_tokens=c.cache_write_tokens,
            output_tokens=c.output_tokens,
            cost_usd=usd(c.cost_usd) if c.cost_usd is not None else None,
            outcome=c.outcome,
            reasons=c.reasons,
            confidence=c.confidence,
        )
        for c in calls
    ]
    return ThreadDetail(
        conversation_id=conversation_id,
        channel_id=conv.channel_id,
        thread_ts=conv.thread_ts,
        user_id=conv.user_id,
        status=conv.status,
        tier=conv.tier,
        link=thread_url(conv.channel_id, conv.thread_ts),
        total_usd=usd(sum((d.cost_usd for d in details if d.cost_usd is not None), Decimal(0))),
        unknown_cost_calls=sum(1 for d in details if d.cost_usd is None),
        calls=details,
        escalations=[
            HumanEscalation(
                id=e.id, created_at=_utc(e.created_at), status=e.status, reasons=e.reasons or []
            )
            for e in escs
        ],
    )


async def customer_spend(
    db: Database, user_id: str, period: str = "today", *, now: datetime | None = None
) -> CustomerSpend:
    """One customer's spend in a period: the model calls that answered their messages, in any
    thread (in a shared thread, each sender pays for their own)."""
    start, end = period_window(period, now)
    window = _in_window(start, end)
    theirs = _mc.user_id == user_id
    async with db.session() as s:
        conn = await s.connection()
        rows = (
            await conn.execute(
                select(
                    _mc.tier,
                    func.count().label("calls"),
                    _unknown_count(),
                    _cost_sum(),
                    func.count(func.distinct(_mc.conversation_id)).label("conversations"),
                )
                .where(window, theirs)
                .group_by(_mc.tier)
            )
        ).all()
        conversations = (
            await conn.execute(
                select(func.count(func.distinct(_mc.conversation_id))).where(window, theirs)
            )
        ).scalar()
        top = await _top_threads(conn, window, user_id)
    tiers = sorted(
        (
            TierSpend(
                tier=r.tier,
                calls=r.calls,
                unknown_cost_calls=int(r.unknown or 0),
                cost_usd=usd(r.cost),
            )
            for r in rows
        ),
        key=lambda x: (-x.cost_usd, x.tier),
    )
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
    db: Database, period: str = "7d", *, now: datetime | None = None
) -> tuple[datetime, datetime, list[DailySpend]]:
    """Spend per UTC day and tier in the period (days without spend are absent)."""
    start, end = period_window(period, now)
    async with db.session() as s:
        conn = await s.connection()
        await _tune_for_reports(conn)
        if conn.dialect.name == "postgresql":
            day: ColumnElement[Any] = func.date(func.timezone("UTC", _mc.created_at))
        else:  # SQLite keeps UTC timestamps as text
            day = func.date(_mc.created_at)
        rows = (
            await conn.execute(
                select(day.label("day"), _mc.tier, _cost_sum())
                .where(_in_window(start, end))
                .group_by(day, _mc.tier)
                .order_by(day, _mc.tier)
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


def _utc(moment: datetime) -> datetime:
    """SQLite hands timestamps back naive; they are UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
