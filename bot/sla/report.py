"""SLA figures for `supportbot stats` and the leads' App Home: response times in business
minutes (median, 90th percentile), breaches, and the open clocks at risk or breached."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select

from bot.accounts.views import ChannelMapping
from bot.sla.lifecycle import UNRESOLVED, ClockEnd, ClockState, ClockTimes
from bot.sla.policy import ClockKind, SlaPolicy
from bot.store.account_models import ACCOUNT as _A
from bot.store.account_models import SHARED_CHANNEL as _SC
from bot.store.db import Database
from bot.store.sla import utc
from bot.store.sla_models import SLA_CLOCK as _K
from bot.store.tables import CONVERSATION as _C


@dataclass(frozen=True)
class ResponseTimes:
    """The clocks of one kind started in the period."""

    count: int  # answered (closed as responded)
    median_business_minutes: float | None
    p90_business_minutes: float | None
    breached: int  # reminded past their due time, or answered after it

    def as_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "median_business_minutes": self.median_business_minutes,
            "p90_business_minutes": self.p90_business_minutes,
            "breached": self.breached,
        }


@dataclass(frozen=True)
class SlaFigures:
    first_response: ResponseTimes
    next_response: ResponseTimes
    open_at_risk: int
    open_breached: int

    def as_json(self) -> dict[str, Any]:
        return {
            "first_response": self.first_response.as_json(),
            "next_response": self.next_response.as_json(),
            "open": {"at_risk": self.open_at_risk, "breached": self.open_breached},
        }


def _p90(values: list[float]) -> float:
    return sorted(values)[max(0, math.ceil(0.9 * len(values)) - 1)]  # nearest rank


def _times(rows: Sequence[Any], kind: ClockKind, policy: SlaPolicy) -> ResponseTimes:
    mine = [r for r in rows if r.kind == kind]
    answered = [r for r in mine if r.closed_reason == ClockEnd.RESPONDED]
    minutes = [
        (
            r.business_seconds
            if r.business_seconds is not None
            else policy.calendar.between(utc(r.started_at), utc(r.closed_at))
        )
        / 60
        for r in answered
    ]
    late = [
        r
        for r in mine
        if r.breached_at is not None
        or (
            r.closed_reason == ClockEnd.RESPONDED
            and r.due_at is not None
            and r.closed_at > r.due_at
        )
    ]
    return ResponseTimes(
        len(answered),
        round(statistics.median(minutes), 1) if minutes else None,
        round(_p90(minutes), 1) if minutes else None,
        len(late),
    )


def _state(row: Any, now: datetime) -> ClockState:
    kind = ClockKind(row.kind)
    remind = utc(row.remind_at) if row.remind_at is not None else None
    return ClockTimes(kind, utc(row.started_at), remind, utc(row.due_at), 0).state(now)


async def figures(
    db: Database, policy: SlaPolicy, since: datetime, now: datetime, team: str | None = None
) -> SlaFigures:
    """The clocks started since `since` (of workspace `team`; None: every workspace), and the
    open clocks' states at `now`."""
    ours = [] if team is None else [_K.c.team_id == team]
    async with db.engine.connect() as conn:
        rows = (await conn.execute(select(_K).where(_K.c.started_at >= since, *ours))).all()
        open_rows = (
            await conn.execute(
                select(_K).where(_K.c.closed_at.is_(None), _K.c.due_at.is_not(None), *ours)
            )
        ).all()
    states = [_state(r, now) for r in open_rows]
    return SlaFigures(
        _times(rows, ClockKind.FIRST_RESPONSE, policy),
        _times(rows, ClockKind.NEXT_RESPONSE, policy),
        states.count(ClockState.AT_RISK),
        states.count(ClockState.BREACHED),
    )


@dataclass(frozen=True)
class OpenTicket:
    """An open clock at risk or breached, or a ticket a lead owns, for the App Home."""

    channel_id: str
    thread_ts: str
    account: str | None
    owner: str | None
    status: str
    kind: ClockKind | None = None
    due_at: datetime | None = None
    state: ClockState | None = None


_ACCOUNT_OF = and_(
    _SC.c.team_id == _C.c.team_id,
    _SC.c.channel_id == _C.c.channel_id,
    _SC.c.mapping == ChannelMapping.CONFIRMED,
)
_TICKETS = (
    select(_C, _A.c.name.label("account"))
    .select_from(_C)
    .outerjoin(_SC, _ACCOUNT_OF)
    .outerjoin(_A, _A.c.id == _SC.c.account_id)
)


async def at_risk(db: Database, team: str, now: datetime, limit: int = 15) -> list[OpenTicket]:
    """The workspace's open clocks past their reminder or due time, soonest due first."""
    stmt = (
        _TICKETS.add_columns(_K.c.kind, _K.c.due_at, _K.c.remind_at, _K.c.started_at)
        .join(_K, _K.c.conversation_id == _C.c.id)
        .where(
            _C.c.team_id == team,
            _K.c.closed_at.is_(None),
            _K.c.due_at.is_not(None),
            ((_K.c.remind_at <= now) | (_K.c.due_at <= now)),
        )
        .order_by(_K.c.due_at)
        .limit(limit)
    )
    async with db.engine.connect() as conn:
        rows = (await conn.execute(stmt)).all()
    return [
        OpenTicket(
            r.channel_id,
            r.thread_ts,
            r.account,
            r.owner_user_id,
            r.ticket_status,
            ClockKind(r.kind),
            utc(r.due_at),
            _state(r, now),
        )
        for r in rows
    ]


async def owned_by(db: Database, team: str, user: str, limit: int = 15) -> list[OpenTicket]:
    """The workspace's unresolved tickets `user` took (👀), newest first."""
    stmt = (
        _TICKETS.where(
            _C.c.team_id == team,
            _C.c.owner_user_id == user,
            _C.c.ticket_status.in_([str(s) for s in UNRESOLVED]),
        )
        .order_by(_C.c.updated_at.desc())
        .limit(limit)
    )
    async with db.engine.connect() as conn:
        rows = (await conn.execute(stmt)).all()
    return [
        OpenTicket(r.channel_id, r.thread_ts, r.account, r.owner_user_id, r.ticket_status)
        for r in rows
    ]
