"""Background answering: claim a stored message, answer it, deliver, record; resume on start."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta
from typing import Protocol

from bot.agent import replies
from bot.agent.pipeline import Answerer
from bot.store import queries
from bot.store.db import Database
from bot.store.models import Conversation, MessageStatus, utcnow

log = logging.getLogger(__name__)
# A claim older than this belongs to a process that died; a live answer takes seconds.
STALE_CLAIM = timedelta(minutes=5)


class Delivery(Protocol):
    """Where replies go: Slack in production, the terminal for `supportbot chat`."""

    async def send(self, conversation: Conversation, text: str) -> str | None:
        """Post `text` in the conversation's thread; returns the posted message's ts."""
        ...

    async def notify_leads(self, escalation_id: int) -> None:
        """Tell the support leads about a new escalation."""
        ...


class Worker:
    def __init__(self, db: Database, answerer: Answerer, delivery: Delivery) -> None:
        self._db = db
        self._answerer = answerer
        self._delivery = delivery
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, message_id: int) -> None:
        """Answer in the background; the caller (a Slack listener) returns at once."""
        task = asyncio.create_task(self.process(message_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for every answer in flight (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def resume(self) -> int:
        """Answer what was acknowledged but never answered (e.g. the process was killed)."""
        ids = await queries.unfinished(self._db, STALE_CLAIM)
        for message_id in ids:
            task = asyncio.create_task(self.process(message_id, stale=True))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if ids:
            log.info("resuming %d unanswered message(s)", len(ids))
        return len(ids)

    async def process(self, message_id: int, *, stale: bool = False) -> None:
        stale_before = utcnow() - STALE_CLAIM if stale else None
        if not await queries.claim(self._db, message_id, stale_before):
            return  # another replica (or an earlier delivery) has it
        conversation = await queries.conversation_of(self._db, message_id)
        try:
            reply = await self._answerer.answer(message_id)
        except Exception:
            error_id = uuid.uuid4().hex[:8]
            log.exception("answering message %s failed [error %s]", message_id, error_id)
            await self._deliver(message_id, conversation, replies.apology(error_id), failed=True)
            return
        if reply.text is None:
            await queries.set_status(self._db, message_id, MessageStatus.HELD)
            return
        await self._deliver(message_id, conversation, reply.text, failed=False)
        if reply.escalation_id is not None:
            try:
                await self._delivery.notify_leads(reply.escalation_id)
            except Exception:
                error_id = uuid.uuid4().hex[:8]
                log.exception(
                    "posting escalation %s for leads failed [error %s]",
                    reply.escalation_id,
                    error_id,
                )

    async def _deliver(
        self, message_id: int, conversation: Conversation, text: str, *, failed: bool
    ) -> None:
        try:
            ts = await self._delivery.send(conversation, text)
        except Exception:
            error_id = uuid.uuid4().hex[:8]
            log.exception(
                "delivering the reply to message %s failed [error %s]", message_id, error_id
            )
            ts, failed = None, True
        status = MessageStatus.FAILED if failed else MessageStatus.ANSWERED
        await queries.finish(self._db, message_id, reply_text=text, reply_ts=ts, status=status)
