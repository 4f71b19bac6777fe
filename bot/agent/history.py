"""A thread's history for the model, bounded: the last messages plus a running summary.

Input tokens per turn stay flat in long threads: once more than two windows of messages are
unsummarised, all but the last window are folded into the summary (one cheap model call every
`window` messages), stored as a `summary` message row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import case, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.agent.models.base import ChatMessage
from bot.agent.prompts import render
from bot.store.db import Database
from bot.store.models import Message, MessageRole, Tier

SUMMARY_ROLE = "summary"


@dataclass(frozen=True)
class StoredHistory:
    """The latest running summary before a message, and the messages after it."""

    summary: Message | None
    pending: list[Message]


class TextWriter(Protocol):
    async def write_text(
        self, message: Message, system: str, prompt: str, *, purpose: str, max_tokens: int = 300
    ) -> str | None: ...


class History:
    def __init__(self, db: Database, window: int) -> None:
        self._db = db
        self._window = window

    async def before(self, message: Message, writer: TextWriter) -> list[ChatMessage]:
        """The transcript the model sees before `message`: summary (if any), then the window."""
        if self._window == 0:
            return []
        async with self._db.session() as s:
            stored = await self.load(s, message)
        return await self.transcript(message, stored, writer)

    async def load(self, s: AsyncSession, message: Message) -> StoredHistory:
        """The rows the transcript is made of (in the caller's session, one round trip less)."""
        if self._window == 0:
            return StoredHistory(None, [])
        # A reply is stored after its question, possibly after later questions of the thread
        # too: a message's place in the thread is its question's id (`_place`).
        place = case(
            (col(Message.tier) == Tier.HUMAN, col(Message.id)),
            else_=func.coalesce(col(Message.reply_to_id), col(Message.id)),
        )
        summary = (
            await s.exec(
                select(Message)
                .where(
                    col(Message.conversation_id) == message.conversation_id,
                    col(Message.role) == SUMMARY_ROLE,
                    col(Message.reply_to_id) < (message.id or 0),
                )
                .order_by(col(Message.id).desc())
                .limit(1)
            )
        ).first()
        upto = summary.reply_to_id or 0 if summary else 0
        rows = await s.exec(
            select(Message)
            .where(
                col(Message.conversation_id) == message.conversation_id,
                col(Message.role).in_([MessageRole.USER, MessageRole.ASSISTANT]),
                place > upto,
                place < (message.id or 0),
            )
            .order_by(place, col(Message.id))
        )
        return StoredHistory(summary, [m for m in rows.all() if m.text.strip()])

    async def transcript(
        self, message: Message, stored: StoredHistory, writer: TextWriter
    ) -> list[ChatMessage]:
        """Fold old messages into the running summary when the window overflows, then build
        the transcript."""
        pending = stored.pending
        summary_text = stored.summary.text if stored.summary else ""
        if self._window and len(pending) >= 2 * self._window:
            folded, pending = pending[: -self._window], pending[-self._window :]
            new_summary = await writer.write_text(
                message,
                "You keep short running summaries of customer-support conversations.",
                render("history_summary.md.j2", summary=summary_text, messages=folded),
                purpose="history_summary",
            )
            if new_summary:
                summary_text = new_summary
                await self._store(message, new_summary, _place(folded[-1]))
        history = [
            ChatMessage("assistant" if m.role == MessageRole.ASSISTANT else "user", text=m.text)
            for m in pending
        ]
        if summary_text:
            note = (
                f"(Summary of the earlier part of this conversation, for context: {summary_text})"
            )
            history.insert(0, ChatMessage("user", text=note))
        return history

    async def _store(self, message: Message, text: str, upto: int) -> None:
        async with self._db.session() as s:
            s.add(
                Message(
                    conversation_id=message.conversation_id,
                    role=SUMMARY_ROLE,
                    text=text,
                    channel_id=message.channel_id,
                    reply_to_id=upto,
                )
            )
            await s.commit()


def _place(message: Message) -> int:
    """Where a message stands in its thread: the bot's reply right after its question; a
    lead's answer when it was written (after the messages that waited for it)."""
    if message.tier == Tier.HUMAN:
        return message.id or 0
    return message.reply_to_id or message.id or 0
