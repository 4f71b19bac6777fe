"""The sweep's view of the claims: who holds what, releasing a dead holder's claims, and the
work waiting to be taken. Claims have no leases: a claim is released only when its holder is
known dead (`bot/store/holders.py`), so a slow living holder is never overtaken."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select

from bot.store import outbox
from bot.store.db import Database
from bot.store.held_rows import HeldRows
from bot.store.models import EscalationStatus, MessageStatus
from bot.store.tables import ESCALATION as _E
from bot.store.tables import MESSAGE as _M
from bot.store.turns import EARLIER_UNANSWERED

# Messages being answered; given back, they are pending again (a take whose commit raised, a
# failed finish whose give-back failed too: released from a living process by `release_own`).
_ANSWERING = HeldRows(
    _M, _M.c.status, MessageStatus.WORKING, MessageStatus.PENDING, _M.c.claimed_at
)
_UNFINISHED = (
    select(_M.c.id)
    .where(_M.c.status == MessageStatus.PENDING, ~EARLIER_UNANSWERED)
    .order_by(_M.c.id)
)
_OPEN_ESCALATIONS = select(func.count(), func.min(_E.c.created_at)).where(
    _E.c.status == EscalationStatus.OPEN
)


async def holders(db: Database) -> set[str]:
    """The processes holding a claim: answering a message, or posting an outbox row."""
    async with db.engine.connect() as conn:
        return await _ANSWERING.holders(conn) | await outbox.POSTING.holders(conn)


async def release(db: Database, dead: Collection[str]) -> tuple[int, int]:
    """Release the claims of dead holders, in one transaction: their messages back to pending,
    their posts back to be posted. One conditional UPDATE each (still working, still theirs),
    so a claim taken meanwhile by a living process stays. The numbers released."""
    if not dead:
        return 0, 0
    async with db.engine.begin() as conn:
        messages = await _ANSWERING.release(conn, dead)
        posts = await outbox.POSTING.release(conn, dead)
    return messages, posts


async def release_own(
    db: Database,
    holder: str,
    answering: Collection[int],
    posting: Collection[int],
    before: datetime,
) -> tuple[int, int]:
    """Release the claims `holder` (this process) holds with no task of it working on them,
    taken before `before`, in one transaction: a claim is never left with a living process
    that has stopped working on it. The numbers released."""
    async with db.engine.begin() as conn:
        messages = await _ANSWERING.release_own(conn, holder, answering, before)
        posts = await outbox.POSTING.release_own(conn, holder, posting, before)
    return messages, posts


async def unfinished(db: Database) -> list[int]:
    """Messages acknowledged and not taken yet (each the first of its thread waiting)."""
    async with db.engine.connect() as conn:
        return [int(i) for i in (await conn.execute(_UNFINISHED)).scalars()]


async def waiting(db: Database) -> tuple[int, datetime | None, int]:
    """For the metrics: open escalations, when the oldest was opened, and posts not posted."""
    async with db.engine.connect() as conn:
        count, oldest = (await conn.execute(_OPEN_ESCALATIONS)).one()
    return int(count), oldest, await outbox.unposted(db)
