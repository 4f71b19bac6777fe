"""The ticket lifecycle behind `TicketEvents` (`bot/sla/lifecycle.py` says what each event
does): a staff reply closes the open SLA clock as responded; resolving (✅) closes it as
resolved, never a breach; taking it (👀) sets the owner."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.store import sla
from bot.store.db import Database

log = logging.getLogger(__name__)


class Tickets:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def staff_replied(self, conversation_id: int, user_id: str, at: datetime) -> None:
        await sla.respond(self._db, conversation_id, at)

    async def resolved(self, conversation_id: int, by: str, at: datetime) -> None:
        await sla.resolve(self._db, conversation_id, at)
        log.info("conversation %s resolved", conversation_id)

    async def owned(self, conversation_id: int, by: str, at: datetime) -> None:
        await sla.own(self._db, conversation_id, by)
