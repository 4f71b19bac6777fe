"""A thread's stored history: the latest running summary before a message, the messages
after it, and new summaries."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, case, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.store.db import Database
from bot.store.models import Message, MessageRole, Tier

SUMMARY_ROLE = "summary"


@dataclass(frozen=True)
class StoredHistory:
    """The latest running summary before a message, and the messages after it."""

    summary: Message | None
    pending: list[Message]


def place(message: Message) -> int:
    """Where a message stands in its thread: the bot's reply right after its question (a
    reply is stored after it, possibly after later questions too); a lead's answer when it was
    written (after the messages that waited for it). `_place_sql` is the same in SQL."""
    if message.tier == Tier.HUMAN:
        return message.id or 0
    return message.reply_to_id or message.id or 0


_place_sql = case(
    (col(Message.tier) == Tier.HUMAN, col(Message.id)),
    else_=func.coalesce(col(Message.reply_to_id), col(Message.id)),
)
# Built once: every turn reads them (hot path).
_LATEST_SUMMARY = (
    select(Message)
    .where(
        col(Message.conversation_id) == bindparam("conversation"),
        col(Message.role) == SUMMARY_ROLE,
        col(Message.reply_to_id) < bindparam("before"),
    )
    .order_by(col(Message.id).desc())
    .limit(1)
)
_SINCE_SUMMARY = (
    select(Message)
    .where(
        col(Message.conversation_id) == bindparam("conversation"),
        col(Message.role).in_([MessageRole.USER, MessageRole.ASSISTANT]),
        _place_sql > bindparam("after"),
        _place_sql < bindparam("before"),
    )
    .order_by(_place_sql, col(Message.id))
)


async def load(s: AsyncSession, message: Message) -> StoredHistory:
    """The latest summary before `message` and the non-empty messages of its thread between
    that summary and it (in the caller's session, so a turn reads them with its other rows)."""
    thread = {"conversation": message.conversation_id, "before": message.id or 0}
    summary = (await s.exec(_LATEST_SUMMARY, params=thread)).first()
    upto = summary.reply_to_id or 0 if summary else 0
    rows = await s.exec(_SINCE_SUMMARY, params={**thread, "after": upto})
    return StoredHistory(summary, [m for m in rows.all() if m.text.strip()])


async def add_summary(db: Database, message: Message, text: str, upto: Message) -> None:
    """Store a running summary, written in `message`'s turn, of its thread up to `upto`."""
    async with db.session() as s:
        s.add(
            Message(
                conversation_id=message.conversation_id,
                role=SUMMARY_ROLE,
                text=text,
                channel_id=message.channel_id,
                reply_to_id=place(upto),
            )
        )
        await s.commit()
