"""A thread's stored history: the latest running summary before a message, the messages
after it, and new summaries."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, bindparam, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.db import Database
from bot.store.models import Message, MessageRole, Tier
from bot.store.tables import MESSAGE as _M

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
    (_M.c.tier == Tier.HUMAN, _M.c.id), else_=func.coalesce(_M.c.reply_to_id, _M.c.id)
)
# Built once: every turn reads them (hot path). One statement: the latest summary before the
# message, and the messages between what it folded and the message.
_summaries = _M.alias("summaries")
_LATEST_SUMMARY = (
    select(func.max(_summaries.c.id))
    .where(
        _summaries.c.conversation_id == bindparam("p_conversation_id"),
        _summaries.c.role == SUMMARY_ROLE,
        _summaries.c.reply_to_id < bindparam("p_message_id"),
    )
    .scalar_subquery()
)
_folded = _M.alias("folded")
_FOLDED_UPTO = func.coalesce(
    select(_folded.c.reply_to_id).where(_folded.c.id == _LATEST_SUMMARY).scalar_subquery(), 0
)
_HISTORY = (
    select(_M)
    .where(
        _M.c.conversation_id == bindparam("p_conversation_id"),
        or_(
            and_(
                _M.c.role.in_([MessageRole.USER, MessageRole.ASSISTANT]),
                _place_sql > _FOLDED_UPTO,
                _place_sql < bindparam("p_message_id"),
            ),
            _M.c.id == _LATEST_SUMMARY,
        ),
    )
    .order_by(_place_sql, _M.c.id)
)


async def load(conn: AsyncConnection, message: Message) -> StoredHistory:
    """The latest summary before `message` and the non-empty messages of its thread between
    that summary and it, in one statement (in the caller's transaction, so a turn reads them
    with its other rows)."""
    params = {"p_conversation_id": message.conversation_id, "p_message_id": message.id or 0}
    rows = [Message(**row._mapping) for row in await conn.execute(_HISTORY, params)]
    summary = next((m for m in rows if m.role == SUMMARY_ROLE), None)
    pending = [m for m in rows if m.role != SUMMARY_ROLE and m.text.strip()]
    return StoredHistory(summary, pending)


async def load_for(db: Database, message: Message) -> StoredHistory:
    """`load` outside a turn (a handoff the customer asked for after an answer)."""
    async with db.engine.connect() as conn:
        return await load(conn, message)


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
