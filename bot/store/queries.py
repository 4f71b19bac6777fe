"""The writes and reads of the message path: dedupe, pending work, replies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, exists, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.store.db import Database
from bot.store.models import (
    Conversation,
    Escalation,
    EscalationStatus,
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
                set_={"updated_at": conversation.excluded.updated_at},
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

    One transaction: the event id, the conversation (created on first message) and the message,
    whose (channel, ts) is unique, so an event redelivered or arriving twice (`app_mention` and
    `message` for one mention) is answered once.
    """
    now = utcnow()
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
        }
        conv_id = (await conn.execute(stmts.conversation, conversation)).scalar_one()
        message = {
            "conversation_id": conv_id,
            "role": MessageRole.USER,
            "user_id": msg.user_id,
            "text": msg.text,
            "channel_id": msg.channel_id,
            "slack_ts": msg.ts,
            "files": list(msg.files),
            "status": MessageStatus.PENDING,
            "verdict": MessageVerdict.UNDECIDED,
            "created_at": now,
        }
        message_id = (await conn.execute(stmts.message, message)).scalar_one_or_none()
        return int(message_id) if message_id is not None else None


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
class Claim:
    """A message this process took, with its conversation; `token` fences renewals."""

    token: datetime
    message: Message
    conversation: Conversation


# One thread's messages are answered in order: none is claimed while an earlier one is
# unanswered (whoever finishes that one takes it up, see `next_waiting`). Built once: an
# aliased entity costs over a millisecond to build.
_earlier = aliased(Message, name="earlier")
_EARLIER_UNANSWERED = exists().where(
    col(_earlier.conversation_id) == col(Message.conversation_id),
    col(_earlier.id) < col(Message.id),
    col(_earlier.status).in_([MessageStatus.PENDING, MessageStatus.WORKING]),
)


async def claim(db: Database, message_id: int, stale_before: datetime) -> Claim | None:
    """Take a pending message, or one whose claim ran out, for this process, and load it.

    One conditional UPDATE, so two replicas can never both take it. The claim's timestamp is
    also its fencing token: renewals compare and set it.
    """
    condition = (col(Message.status) == MessageStatus.PENDING) | (
        (col(Message.status) == MessageStatus.WORKING) & (col(Message.claimed_at) < stale_before)
    )
    token = utcnow()
    async with db.session() as s:
        result = await s.exec(
            update(Message)
            .where(col(Message.id) == message_id, condition, ~_EARLIER_UNANSWERED)
            .values(status=MessageStatus.WORKING, claimed_at=token)
        )
        if not result.rowcount:
            await s.commit()
            return None
        message = await s.get(Message, message_id)
        conversation = await s.get(Conversation, message.conversation_id) if message else None
        await s.commit()
        if message is None or conversation is None:
            raise LookupError(f"message {message_id} or its conversation does not exist")
        return Claim(token, message, conversation)


async def next_waiting(db: Database, conversation_id: int) -> int | None:
    """The first message of a thread still waiting to be answered, if any."""
    async with db.session() as s:
        row = await s.exec(
            select(func.min(col(Message.id))).where(
                col(Message.conversation_id) == conversation_id,
                col(Message.status) == MessageStatus.PENDING,
            )
        )
        first = row.one()
        return int(first) if first is not None else None


def _still_held(
    message_id: int, token: datetime, status: str = MessageStatus.WORKING
) -> tuple[Any, ...]:
    """The message is as this process's claim (`token`) left it: a compare-and-set fence."""
    return (
        col(Message.id) == message_id,
        col(Message.status) == status,
        col(Message.claimed_at) == token,
    )


async def renew_claim(
    db: Database, message_id: int, token: datetime, status: str = MessageStatus.WORKING
) -> datetime | None:
    """Extend this process's claim if it still holds it; the new token, or None if lost.

    The claim on a message being answered (`working`), or on a reply being posted (`failed`,
    taken by a sweep or stored by a lead: a slow post must not let another sweep take it)."""
    renewed = utcnow()
    async with db.session() as s:
        result = await s.exec(
            update(Message)
            .where(*_still_held(message_id, token, status))
            .values(claimed_at=renewed)
        )
        await s.commit()
        return renewed if result.rowcount else None


async def unfinished(db: Database, stale_after: timedelta) -> list[int]:
    """Messages acknowledged but not answered: pending, or claimed too long ago."""
    stale_before = utcnow() - stale_after
    async with db.session() as s:
        rows = await s.exec(
            select(col(Message.id))
            .where(
                (col(Message.status) == MessageStatus.PENDING)
                | (
                    (col(Message.status) == MessageStatus.WORKING)
                    & (col(Message.claimed_at) < stale_before)
                ),
                ~_EARLIER_UNANSWERED,
            )
            .order_by(col(Message.id))
        )
        return [int(i) for i in rows if i is not None]


async def conversation_of(db: Database, message_id: int) -> Conversation:
    async with db.session() as s:
        message = await s.get(Message, message_id)
        if message is None:
            raise LookupError(f"message {message_id} does not exist")
        conv = await s.get(Conversation, message.conversation_id)
        if conv is None:
            raise LookupError(f"conversation of message {message_id} does not exist")
        return conv


async def finish(
    db: Database,
    message: Message,
    token: datetime,
    *,
    reply_text: str,
    reply_ts: str | None,
    status: str,
    tier: str | None = None,
    kind: str | None = None,
    posted_pieces: int = 0,
    verdict: str = MessageVerdict.UNDECIDED,
) -> bool:
    """Store the bot's reply and close the inbound message, in one transaction, if this
    process's claim (`token`) still holds it. `posted_pieces`: of a reply Slack refused
    partway, the pieces it did post. `verdict`: what the checks decided about the message.

    If the claim was lost meanwhile (a lead answered the case in the moment between the
    handoff and this, or the lease ran out), the message is left as its new owner set it, and
    the reply is kept only if Slack took it (it is in the thread); False then."""
    values: dict[str, Any] = {"status": status, "verdict": verdict}
    if status == MessageStatus.FAILED:
        values["claimed_at"] = utcnow()  # the sweeper posts the reply again a lease later
    async with db.session() as s:
        closed = await s.exec(
            update(Message).where(*_still_held(message.id or 0, token)).values(**values)
        )
        if not closed.rowcount:
            # A lead answered meanwhile: the checks' decision stands all the same.
            await _decide(s, message.id or 0, verdict)
        if not closed.rowcount and reply_ts is None:
            await s.commit()
            return False
        s.add(
            Message(
                conversation_id=message.conversation_id,
                role=MessageRole.ASSISTANT,
                text=reply_text,
                channel_id=message.channel_id,
                slack_ts=reply_ts,
                reply_to_id=message.id,
                tier=tier,
                kind=kind,
                posted_pieces=posted_pieces,
            )
        )
        await s.commit()
        return bool(closed.rowcount)


async def hold(db: Database, message_id: int, token: datetime, verdict: str) -> None:
    """The bot stays silent (a person owns the thread, or the sender is over the rate): the
    message stays unanswered by the bot, if this process's claim still holds it."""
    async with db.session() as s:
        await s.exec(
            update(Message)
            .where(*_still_held(message_id, token))
            .values(status=MessageStatus.HELD, verdict=verdict)
        )
        await s.commit()


async def _decide(s: AsyncSession, message_id: int, verdict: str) -> None:
    """Record the checks' verdict on a message not decided yet (the first decision stands)."""
    if verdict != MessageVerdict.UNDECIDED:
        await s.exec(
            update(Message)
            .where(col(Message.id) == message_id, col(Message.verdict) == MessageVerdict.UNDECIDED)
            .values(verdict=verdict)
        )


def _unposted_reply_to(message_id: Any, written_after: datetime | None = None) -> Any:
    """A reply of the bot (or a lead) to this message (an id, or a column to correlate with)
    that is stored but not posted yet; only those written after `written_after`, if given."""
    other = aliased(Message, name="other")
    unposted = exists().where(
        col(other.reply_to_id) == message_id,
        col(other.role) == MessageRole.ASSISTANT,
        col(other.slack_ts).is_(None),
    )
    return (
        unposted if written_after is None else unposted.where(col(other.created_at) > written_after)
    )


@dataclass(frozen=True)
class Undelivered:
    """A reply stored but not posted: Slack refused it even after its retries."""

    message_id: int
    reply_id: int
    text: str
    tier: str | None
    kind: str | None
    conversation: Conversation
    posted_pieces: int = 0
    token: datetime | None = None  # the message's claimed_at when taken: renewals compare it


async def take_undelivered(
    db: Database, newer_than: datetime, stale_before: datetime, limit: int = 50
) -> list[Undelivered]:
    """Failed messages whose reply, written after `newer_than`, was never posted, each taken for
    this process (its `claimed_at` set, if older than `stale_before`): one replica re-posts
    a reply, and not more often than once a lease."""
    reply = aliased(Message, name="reply")
    async with db.session() as s:
        rows = await s.exec(
            select(Message, reply, Conversation)
            .join(reply, col(reply.reply_to_id) == col(Message.id))
            .join(Conversation, col(Conversation.id) == col(Message.conversation_id))
            .where(
                col(Message.status) == MessageStatus.FAILED,
                col(reply.created_at) > newer_than,
                col(Message.claimed_at) < stale_before,
                col(reply.role) == MessageRole.ASSISTANT,
                col(reply.slack_ts).is_(None),
            )
            .order_by(col(Message.id), col(reply.id))
            .limit(limit)
        )
        candidates = list(rows.all())
        taken = []
        for message, answer, conversation in candidates:
            token = utcnow()
            result = await s.exec(
                update(Message)
                .where(
                    col(Message.id) == message.id,
                    col(Message.status) == MessageStatus.FAILED,
                    col(Message.claimed_at) < stale_before,
                )
                .values(claimed_at=token)
            )
            if result.rowcount:
                taken.append(
                    Undelivered(
                        message.id or 0,
                        answer.id or 0,
                        answer.text,
                        answer.tier,
                        answer.kind,
                        conversation,
                        answer.posted_pieces,
                        token,
                    )
                )
        await s.commit()
        return taken


@dataclass(frozen=True)
class GivenUp:
    """A message whose reply Slack refused for the whole redelivery window."""

    message_id: int
    tier: str | None


async def give_up_undelivered(
    db: Database, written_before: datetime, stale_before: datetime
) -> list[GivenUp]:
    """Messages whose unposted replies were all written before `written_before`, and that no
    process is posting (taken before `stale_before`): marked `undelivered` (one conditional
    UPDATE each, so one replica reports each) and returned."""
    reply = aliased(Message, name="reply")
    still_in_time = _unposted_reply_to(col(Message.id), written_after=written_before)
    async with db.session() as s:
        rows = await s.exec(
            select(col(Message.id), col(reply.tier))
            .join(reply, col(reply.reply_to_id) == col(Message.id))
            .where(
                col(Message.status) == MessageStatus.FAILED,
                col(reply.role) == MessageRole.ASSISTANT,
                col(reply.slack_ts).is_(None),
                col(reply.created_at) <= written_before,
                col(Message.claimed_at) < stale_before,
                ~still_in_time,
            )
            .order_by(col(Message.id), col(reply.id))
        )
        candidates = list(rows.all())
        given_up = []
        for message_id, tier in candidates:
            result = await s.exec(
                update(Message)
                .where(
                    col(Message.id) == message_id,
                    col(Message.status) == MessageStatus.FAILED,
                    col(Message.claimed_at) < stale_before,
                )
                .values(status=MessageStatus.UNDELIVERED)
            )
            if result.rowcount:
                given_up.append(GivenUp(int(message_id or 0), tier))
        await s.commit()
        return given_up


async def note_refused(db: Database, item: Undelivered, posted_pieces: int) -> None:
    """Slack refused the reply again: the next try is a lease from now, and starts after the
    pieces Slack did take this time."""
    async with db.session() as s:
        if posted_pieces > item.posted_pieces:
            await s.exec(
                update(Message)
                .where(col(Message.id) == item.reply_id)
                .values(posted_pieces=posted_pieces)
            )
        await s.exec(
            update(Message)
            .where(col(Message.id) == item.message_id, col(Message.status) == MessageStatus.FAILED)
            .values(claimed_at=utcnow())
        )
        await s.commit()


async def mark_delivered(db: Database, item: Undelivered, reply_ts: str | None) -> None:
    """The reply was posted after all: its ts; and the message answered, unless another reply
    to it is still unposted (a lead's answer after a refused notice: the next sweep posts it)."""
    async with db.session() as s:
        posted = await s.exec(
            update(Message).where(col(Message.id) == item.reply_id).values(slack_ts=reply_ts)
        )
        # No row: a lead's answer replaced this reply, and the message is that answer's now.
        if posted.rowcount:
            # The message row first (a lead storing an answer holds it), then the check, in a
            # statement of its own: on PostgreSQL it then sees what that lead committed.
            await s.exec(
                select(col(Message.id)).where(col(Message.id) == item.message_id).with_for_update()
            )
            await s.exec(
                update(Message)
                .where(col(Message.id) == item.message_id, ~_unposted_reply_to(item.message_id))
                .values(status=MessageStatus.ANSWERED)
            )
        await s.commit()


async def recent_from_user(s: AsyncSession, user_id: str, since: datetime, upto_id: int) -> int:
    """How many messages this user sent since `since`, up to and including message `upto_id`."""
    result = await s.exec(
        select(func.count())
        .select_from(Message)
        .where(
            col(Message.user_id) == user_id,
            col(Message.role) == MessageRole.USER,
            col(Message.created_at) >= since,
            col(Message.id) <= upto_id,
        )
    )
    return int(result.one())


async def waiting(db: Database) -> tuple[int, datetime | None, int]:
    """For the metrics: open escalations, when the oldest was opened, and replies written but
    not posted yet (failed messages whose reply has no Slack ts). Two indexed counts."""
    reply = aliased(Message, name="reply")
    async with db.session() as s:
        handoffs = await s.exec(
            select(func.count(), func.min(col(Escalation.created_at))).where(
                col(Escalation.status) == EscalationStatus.OPEN
            )
        )
        count, oldest = handoffs.one()
        undelivered = await s.exec(
            select(func.count())
            .select_from(Message)
            .join(reply, col(reply.reply_to_id) == col(Message.id))
            .where(
                col(Message.status) == MessageStatus.FAILED,
                col(reply.role) == MessageRole.ASSISTANT,
                col(reply.slack_ts).is_(None),
            )
        )
        return int(count), oldest, int(undelivered.one())
