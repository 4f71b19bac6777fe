"""The inbound path: an event stored once, as pending work (dedupe in one transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select

from bot.store import sla
from bot.store.db import Database
from bot.store.models import (
    Conversation,
    Message,
    MessageRole,
    MessageStatus,
    MessageVerdict,
    SlackEvent,
    utcnow,
)


@dataclass(frozen=True)
class Inbound:
    team_id: str
    channel_id: str
    thread_ts: str
    user_id: str
    text: str
    ts: str
    event_id: str = ""
    event_type: str = ""
    files: tuple[dict[str, Any], ...] = ()
    # The sender's own team ('' when unknown): in a Slack Connect channel not `team_id`, which
    # is always the team that installed the bot (bot/slack_origin.py).
    sender_team_id: str = ""
    shared: bool = False  # the event came from a Slack Connect (externally shared) channel
    received_at: datetime | None = None  # when the listener took it (`Services.clock`); else now


async def insert_ignore(conn: AsyncConnection, table: Any, values: dict[str, Any]) -> bool:
    """INSERT that silently skips a unique-key conflict; True when a row was written."""
    tbl: Table = table.__table__
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(tbl).values(**values).on_conflict_do_nothing()
    result = await conn.execute(stmt)
    return bool(result.rowcount)


@dataclass(frozen=True)
class _InboundStatements:
    """The three INSERTs that store an event, built once per dialect and run with parameters:
    building them for each event (values, coercion, cache key) cost more CPU than running them."""

    event: Any
    conversation: Any
    message: Any

    @classmethod
    def build(cls, dialect: Any) -> _InboundStatements:
        conversation = dialect.insert(Conversation.__table__)  # type: ignore[attr-defined]
        return cls(
            event=dialect.insert(SlackEvent.__table__).on_conflict_do_nothing(),  # type: ignore[attr-defined]
            conversation=conversation.on_conflict_do_update(
                index_elements=["channel_id", "thread_ts"],
                set_={"updated_at": conversation.excluded.updated_at, **sla.REOPEN},
            ).returning(Conversation.__table__.c.id),  # type: ignore[attr-defined]
            message=dialect.insert(Message.__table__)  # type: ignore[attr-defined]
            .on_conflict_do_nothing()
            .returning(Message.__table__.c.id),  # type: ignore[attr-defined]
        )


_INBOUND = {
    "postgresql": _InboundStatements.build(postgresql),
    "sqlite": _InboundStatements.build(sqlite),
}


async def record_inbound(db: Database, msg: Inbound) -> int | None:
    """Store an inbound customer message as pending work; None if Slack already delivered it.

    One transaction: the event id, the conversation (created on first message; its ticket
    waiting on us), the message, whose (channel, ts) is unique, so an event redelivered or
    arriving twice (`app_mention` and `message` for one mention) is answered once, and the
    ticket's SLA clock unless one is open (`bot/store/sla.py`).
    """
    now = msg.received_at or utcnow()
    async with db.engine.begin() as conn:
        stmts = _INBOUND[conn.dialect.name]
        if msg.event_id:
            event = {"event_id": msg.event_id, "event_type": msg.event_type, "received_at": now}
            if not (await conn.execute(stmts.event, event)).rowcount:
                return None
        conversation = {
            "team_id": msg.team_id,
            "channel_id": msg.channel_id,
            "thread_ts": msg.thread_ts,
            "user_id": msg.user_id,
            "status": "active",
            "tier": "primary",
            "total_cost_usd": 0,
            "created_at": now,
            "updated_at": now,
            **sla.REOPEN,
        }
        conv_id = (await conn.execute(stmts.conversation, conversation)).scalar_one()
        message = {
            "conversation_id": conv_id,
            "role": MessageRole.USER,
            "user_id": msg.user_id,
            "sender_team_id": msg.sender_team_id,
            "text": msg.text,
            "channel_id": msg.channel_id,
            "slack_ts": msg.ts,
            "files": list(msg.files),
            "status": MessageStatus.PENDING,
            "verdict": MessageVerdict.UNDECIDED,
            "created_at": now,
        }
        message_id = (await conn.execute(stmts.message, message)).scalar_one_or_none()
        if message_id is None:
            return None
        await sla.open_clock(conn, conv_id, msg.team_id, now)  # the customer waits on us
        return int(message_id)


async def message_and_conversation(db: Database, message_id: int) -> tuple[Message, Conversation]:
    """A stored message and its conversation, in one statement."""
    async with db.session() as s:
        found = await s.exec(
            select(Message, Conversation)
            .join(Conversation, col(Conversation.id) == col(Message.conversation_id))
            .where(col(Message.id) == message_id)
        )
        row = found.first()
    if row is None:
        raise LookupError(f"message {message_id} does not exist")
    return row[0], row[1]


async def conversation_exists(db: Database, channel_id: str, thread_ts: str) -> bool:
    async with db.session() as s:
        row = await s.exec(
            select(col(Conversation.id)).where(
                col(Conversation.channel_id) == channel_id,
                col(Conversation.thread_ts) == thread_ts,
            )
        )
        return row.first() is not None


@dataclass(frozen=True)
class StaffReply:
    """A message of the company's own staff in a bot's thread of a Slack Connect channel."""

    channel_id: str
    thread_ts: str
    user_id: str
    sender_team_id: str
    text: str
    ts: str
    received_at: datetime


async def record_staff_reply(db: Database, reply: StaffReply) -> int | None:
    """Store a staff reply in the thread's conversation (role STAFF, nothing to answer); its
    conversation's id, or None when the thread is no conversation of the bot's or Slack
    delivered this message already (`message` and `app_mention` for one mention)."""
    async with db.engine.begin() as conn:
        found = await conn.execute(
            select(col(Conversation.id)).where(
                col(Conversation.channel_id) == reply.channel_id,
                col(Conversation.thread_ts) == reply.thread_ts,
            )
        )
        conv_id = found.scalar_one_or_none()
        if conv_id is None:
            return None
        message = {
            "conversation_id": conv_id,
            "role": MessageRole.STAFF,
            "user_id": reply.user_id,
            "sender_team_id": reply.sender_team_id,
            "text": reply.text,
            "channel_id": reply.channel_id,
            "slack_ts": reply.ts,
            "files": [],
            "status": MessageStatus.NONE,
            "verdict": MessageVerdict.NONE,
            "created_at": reply.received_at,
        }
        stored = await conn.execute(_INBOUND[conn.dialect.name].message, message)
        return int(conv_id) if stored.scalar_one_or_none() is not None else None
