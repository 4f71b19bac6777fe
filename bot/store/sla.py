"""Tickets and SLA clocks in the store (`bot/sla/lifecycle.py` says what each event does).

- A customer message opens a clock in `record_inbound`'s transaction (`OPEN_CLOCK`, one
  conditional INSERT … SELECT … WHERE NOT EXISTS an open clock); the conversation's upsert
  sets the ticket waiting on us (`REOPEN`).
- A response closes the open clock as responded (`respond`, or `CLOSE_CLOCK` in the caller's
  transaction: a turn's answer, a lead's answer), and leaves the ticket waiting on the
  customer unless it is resolved.
- The sweep's statements (`bot/sla/sweep.py`): schedule, then remind and breach as
  conditional UPDATE … RETURNING, so each clock is reminded and breached once across replicas.

Statements are built once, here, and run with parameters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Integer,
    String,
    and_,
    bindparam,
    case,
    exists,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.accounts.views import ChannelMapping
from bot.sla.lifecycle import ClockEnd, TicketStatus
from bot.sla.policy import ClockKind
from bot.store.account_models import ACCOUNT as _A
from bot.store.account_models import SHARED_CHANNEL as _SC
from bot.store.db import Database
from bot.store.models import MessageRole, MessageStatus
from bot.store.sla_models import SLA_CLOCK as _K
from bot.store.tables import CONVERSATION as _C
from bot.store.tables import MESSAGE as _M

_at = DateTime(timezone=True)
_other = _K.alias("other")

# The conversation upsert of an inbound customer message: waiting on us, a resolved ticket too.
REOPEN: dict[str, Any] = {"ticket_status": TicketStatus.WAITING_ON_US}

_OPEN_ONE = exists().where(
    _other.c.conversation_id == bindparam("p_conversation_id", type_=Integer),
    _other.c.closed_at.is_(None),
)
_RESPONDED_BEFORE = exists().where(
    _other.c.conversation_id == bindparam("p_conversation_id", type_=Integer),
    _other.c.closed_reason == ClockEnd.RESPONDED,
)
OPEN_CLOCK = insert(_K).from_select(
    ["conversation_id", "team_id", "kind", "started_at"],
    select(
        bindparam("p_conversation_id", type_=Integer),
        bindparam("p_team_id", type_=String),
        case(
            (_RESPONDED_BEFORE, literal(ClockKind.NEXT_RESPONSE.value)),
            else_=literal(ClockKind.FIRST_RESPONSE.value),
        ),
        bindparam("p_started_at", type_=_at),
    ).where(~_OPEN_ONE),
)

CLOSE_CLOCK = (
    update(_K)
    .where(_K.c.conversation_id == bindparam("p_conversation_id"), _K.c.closed_at.is_(None))
    .values(closed_at=bindparam("p_closed_at"), closed_reason=bindparam("p_reason"))
)
_later = _M.alias("later")
# A customer message of the conversation written while the response was prepared.
_STILL_WAITING = exists().where(
    _later.c.conversation_id == _C.c.id,
    _later.c.role == MessageRole.USER,
    _later.c.status == MessageStatus.PENDING,
)
# A response leaves the ticket waiting on the customer, unless the customer wrote meanwhile;
# a resolved ticket stays resolved.
AFTER_RESPONSE = case(
    (_C.c.ticket_status == TicketStatus.RESOLVED, _C.c.ticket_status),
    (_STILL_WAITING, literal(TicketStatus.WAITING_ON_US.value)),
    else_=literal(TicketStatus.WAITING_ON_CUSTOMER.value),
)
# After an answer: the clock of the thread's next message, written while it was prepared.
OPEN_NEXT_CLOCK = insert(_K).from_select(
    ["conversation_id", "team_id", "kind", "started_at"],
    select(
        _M.c.conversation_id,
        bindparam("p_team_id", type_=String),
        literal(ClockKind.NEXT_RESPONSE.value),
        _M.c.created_at,
    ).where(_M.c.id == bindparam("p_message_id", type_=Integer), ~_OPEN_ONE),
)
_RESPONDED = update(_C).where(_C.c.id == bindparam("p_conversation_id"))
_SET_TICKET = _RESPONDED.values(ticket_status=AFTER_RESPONSE)
_RESOLVE = _RESPONDED.values(
    ticket_status=TicketStatus.RESOLVED, resolved_at=bindparam("p_closed_at")
)
_OWN = _RESPONDED.values(owner_user_id=bindparam("p_owner"))


async def open_clock(
    conn: AsyncConnection, conversation_id: int, team_id: str, started_at: datetime
) -> None:
    """Open a clock for the conversation unless one is open (in the caller's transaction)."""
    params = {
        "p_conversation_id": conversation_id,
        "p_team_id": team_id,
        "p_started_at": started_at,
    }
    await conn.execute(OPEN_CLOCK, params)


async def close_clock(
    conn: AsyncConnection, conversation_id: int, at: datetime, reason: ClockEnd
) -> None:
    """Close the conversation's open clock, if any (in the caller's transaction)."""
    params = {"p_conversation_id": conversation_id, "p_closed_at": at, "p_reason": reason}
    await conn.execute(CLOSE_CLOCK, params)


async def open_next_clock(
    conn: AsyncConnection, conversation_id: int, team_id: str, message_id: int
) -> None:
    """The clock of a customer message that came while the answer before it was prepared (the
    answer closed the clock that message would have found open)."""
    params = {
        "p_conversation_id": conversation_id,
        "p_team_id": team_id,
        "p_message_id": message_id,
    }
    await conn.execute(OPEN_NEXT_CLOCK, params)


async def close_responded(conn: AsyncConnection, conversation_id: int, at: datetime) -> None:
    """A response, in the caller's transaction: the open clock closed, the ticket waiting on
    the customer (unless resolved)."""
    params = {
        "p_conversation_id": conversation_id,
        "p_closed_at": at,
        "p_reason": ClockEnd.RESPONDED,
    }
    await conn.execute(CLOSE_CLOCK, params)
    await conn.execute(_SET_TICKET, params)


async def respond(db: Database, conversation_id: int, at: datetime) -> None:
    async with db.engine.begin() as conn:
        await close_responded(conn, conversation_id, at)


async def close_resolved(conn: AsyncConnection, conversation_id: int, at: datetime) -> None:
    """Resolved, in the caller's transaction: the open clock closed as resolved (never a
    breach), the ticket resolved."""
    params = {
        "p_conversation_id": conversation_id,
        "p_closed_at": at,
        "p_reason": ClockEnd.RESOLVED,
    }
    await conn.execute(CLOSE_CLOCK, params)
    await conn.execute(_RESOLVE, params)


async def resolve(db: Database, conversation_id: int, at: datetime) -> None:
    async with db.engine.begin() as conn:
        await close_resolved(conn, conversation_id, at)


async def own(db: Database, conversation_id: int, owner: str) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(_OWN, {"p_conversation_id": conversation_id, "p_owner": owner})


# ---- the sweep's statements ----

_UNSCHEDULED = (
    select(_K.c.id, _K.c.kind, _K.c.started_at, _A.c.tier.label("account_tier"))
    .select_from(_K)
    .join(_C, _C.c.id == _K.c.conversation_id)
    .outerjoin(
        _SC,
        and_(
            _SC.c.team_id == _C.c.team_id,
            _SC.c.channel_id == _C.c.channel_id,
            _SC.c.mapping == ChannelMapping.CONFIRMED,
        ),
    )
    .outerjoin(_A, _A.c.id == _SC.c.account_id)
    .where(_K.c.closed_at.is_(None), _K.c.tier.is_(None))
    .limit(500)
)
_SCHEDULE = (
    update(_K)
    .where(_K.c.id == bindparam("p_id"), _K.c.tier.is_(None))
    .values(
        tier=bindparam("p_tier"), remind_at=bindparam("p_remind_at"), due_at=bindparam("p_due_at")
    )
)
_UNMEASURED = (
    select(_K.c.id, _K.c.started_at, _K.c.closed_at)
    .where(_K.c.closed_reason == ClockEnd.RESPONDED, _K.c.business_seconds.is_(None))
    .limit(500)
)
_MEASURE = (
    update(_K).where(_K.c.id == bindparam("p_id")).values(business_seconds=bindparam("p_seconds"))
)
_OPEN_DUE = and_(_K.c.closed_at.is_(None), _K.c.due_at.is_not(None))
# Of the workspaces whose leads channel the sweep looked up before its transaction.
_OF_TEAMS = _K.c.team_id.in_(bindparam("p_teams", expanding=True))
_REMIND = (
    update(_K)
    .where(
        _OPEN_DUE,
        _OF_TEAMS,
        _K.c.reminded_at.is_(None),
        _K.c.breached_at.is_(None),
        _K.c.remind_at <= bindparam("p_now"),
        _K.c.due_at > bindparam("p_now"),
    )
    .values(reminded_at=bindparam("p_now"))
    .returning(_K.c.id)
)
_BREACH = (
    update(_K)
    .where(_OPEN_DUE, _OF_TEAMS, _K.c.breached_at.is_(None), _K.c.due_at <= bindparam("p_now"))
    .values(breached_at=bindparam("p_now"))
    .returning(_K.c.id)
)
_TEAMS_DUE = (
    select(_K.c.team_id)
    .where(
        _OPEN_DUE,
        ((_K.c.remind_at <= bindparam("p_now")) & _K.c.reminded_at.is_(None))
        | ((_K.c.due_at <= bindparam("p_now")) & _K.c.breached_at.is_(None)),
    )
    .distinct()
)
_DETAILS = (
    select(
        _K.c.id,
        _K.c.team_id,
        _K.c.kind,
        _K.c.due_at,
        _C.c.channel_id,
        _C.c.thread_ts,
        _C.c.owner_user_id,
        _A.c.name.label("account"),
    )
    .select_from(_K)
    .join(_C, _C.c.id == _K.c.conversation_id)
    .outerjoin(
        _SC,
        and_(
            _SC.c.team_id == _C.c.team_id,
            _SC.c.channel_id == _C.c.channel_id,
            _SC.c.mapping == ChannelMapping.CONFIRMED,
        ),
    )
    .outerjoin(_A, _A.c.id == _SC.c.account_id)
    .where(_K.c.id.in_(bindparam("p_ids", expanding=True)))
    .order_by(_K.c.id)
)


def utc(at: datetime) -> datetime:
    """A stored time as aware UTC (SQLite returns it naive)."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Unscheduled:
    id: int
    kind: ClockKind
    started_at: datetime
    account_tier: str | None


@dataclass(frozen=True)
class Due:
    """A clock whose reminder or breach this process won, with what its alert says."""

    id: int
    team_id: str
    kind: ClockKind
    due_at: datetime
    channel_id: str
    thread_ts: str
    owner: str | None
    account: str | None


async def unscheduled(db: Database) -> list[Unscheduled]:
    async with db.engine.connect() as conn:
        rows = (await conn.execute(_UNSCHEDULED)).all()
    return [Unscheduled(r.id, ClockKind(r.kind), utc(r.started_at), r.account_tier) for r in rows]


async def schedule(db: Database, times: list[tuple[int, str, datetime | None, datetime]]) -> None:
    """(clock id, tier, remind_at, due_at) for each clock not scheduled yet."""
    params = [
        {"p_id": i, "p_tier": tier, "p_remind_at": remind, "p_due_at": due}
        for i, tier, remind, due in times
    ]
    if params:
        async with db.engine.begin() as conn:
            await conn.execute(_SCHEDULE, params)


async def unmeasured(db: Database) -> list[tuple[int, datetime, datetime]]:
    async with db.engine.connect() as conn:
        rows = (await conn.execute(_UNMEASURED)).all()
    return [(r.id, utc(r.started_at), utc(r.closed_at)) for r in rows]


async def measure(db: Database, seconds: list[tuple[int, int]]) -> None:
    if seconds:
        async with db.engine.begin() as conn:
            await conn.execute(_MEASURE, [{"p_id": i, "p_seconds": s} for i, s in seconds])


async def teams_due(db: Database, now: datetime) -> list[str]:
    """The workspaces with a reminder or a breach to tell now (their leads channels are looked
    up before the alerts are written)."""
    async with db.engine.connect() as conn:
        return list((await conn.execute(_TEAMS_DUE, {"p_now": now})).scalars())


async def take_due(
    conn: AsyncConnection, now: datetime, teams: list[str]
) -> tuple[list[Due], list[Due]]:
    """Mark the clocks of `teams` due for a reminder and those breached, in the caller's
    transaction: only the transaction whose UPDATE matched gets a clock, so its alert is
    written once."""
    params = {"p_now": now, "p_teams": teams}
    reminded = list((await conn.execute(_REMIND, params)).scalars())
    breached = list((await conn.execute(_BREACH, params)).scalars())
    if not reminded and not breached:
        return [], []
    rows = await conn.execute(_DETAILS, {"p_ids": reminded + breached})
    details = {
        r.id: Due(
            r.id,
            r.team_id,
            ClockKind(r.kind),
            utc(r.due_at),
            r.channel_id,
            r.thread_ts,
            r.owner_user_id,
            r.account,
        )
        for r in rows
    }
    return [details[i] for i in reminded], [details[i] for i in breached]
