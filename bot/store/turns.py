"""A turn of the answer path, in the store: take a message with everything its turn needs,
and finish it (the reply, its outbox rows, a handoff, the conversation), each in one
transaction. Statements are built once, here, and run with parameters.

A claim names its holder (`bot/store/holders.py`) and its time, the fencing token: finishing a
turn is one UPDATE on the message's id, status, holder and token, and only a finish that
matched writes the reply and its posts, so two processes never both answer a message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, exists, func, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.delivery import Reply
from bot.sla.lifecycle import ClockEnd
from bot.store import history as stored_history
from bot.store import outbox, reply_rows, sla, transcripts
from bot.store.db import Database
from bot.store.history import StoredHistory
from bot.store.models import (
    Conversation,
    ConversationStatus,
    CustomerLink,
    Message,
    MessageRole,
    MessageStatus,
    ReplyKind,
    Tier,
    utcnow,
)
from bot.store.tables import CONVERSATION as _C
from bot.store.tables import CUSTOMER_LINK as _L
from bot.store.tables import MESSAGE as _M

RATE_WINDOW = timedelta(minutes=1)
_NONE = StoredHistory(None, [])


@dataclass(frozen=True)
class Turn:
    """A message this process claimed, with everything its turn reads before a model."""

    message: Message
    conversation: Conversation
    token: datetime  # the claim's time: finishing compares it
    holder: str  # the id it was claimed under: finishing or giving it back names this one
    history: StoredHistory
    link: CustomerLink | None
    recent: int  # the sender's messages in the minute up to this one, this one included


# One thread's messages are answered in order: none is taken while an earlier one is
# unanswered (whoever finishes that one takes it up: `Finished.next_message`).
_earlier = _M.alias("earlier")
EARLIER_UNANSWERED = exists().where(
    _earlier.c.conversation_id == _M.c.conversation_id,
    _earlier.c.id < _M.c.id,
    _earlier.c.status.in_([MessageStatus.PENDING, MessageStatus.WORKING]),
)
_TAKE = (
    update(_M)
    .where(
        _M.c.id == bindparam("p_message_id"),
        _M.c.status == MessageStatus.PENDING,
        ~EARLIER_UNANSWERED,
    )
    .values(
        status=MessageStatus.WORKING, holder=bindparam("p_holder"), claimed_at=bindparam("p_token")
    )
    .returning(*_M.c)
)
_sent = _M.alias("sent")
_CONTEXT = select(
    _C,
    select(_L.c.email)  # the link a lead of the thread's workspace made
    .where(_L.c.team_id == _C.c.team_id, _L.c.slack_user_id == bindparam("p_user_id"))
    .scalar_subquery()
    .label("link_email"),
    select(func.count())
    .select_from(_sent)
    .where(
        _sent.c.user_id == bindparam("p_user_id"),
        _sent.c.role == MessageRole.USER,
        _sent.c.created_at >= bindparam("p_since"),
        _sent.c.id <= bindparam("p_message_id"),
    )
    .scalar_subquery()
    .label("recent"),
    # Whether the thread has anything before this message: if not, no history to load.
    exists()
    .where(
        _sent.c.conversation_id == bindparam("p_conversation_id"),
        _sent.c.id < bindparam("p_message_id"),
    )
    .label("has_history"),
).where(_C.c.id == bindparam("p_conversation_id"))


async def take_turn(db: Database, message_id: int, holder: str, window: int) -> Turn | None:
    """Claim a pending message for `holder` and load its turn; None if it is not pending (taken
    by another process, answered) or waits for an earlier message of its thread."""
    token = utcnow()
    async with db.engine.begin() as conn:
        taken = (
            await conn.execute(
                _TAKE, {"p_message_id": message_id, "p_holder": holder, "p_token": token}
            )
        ).first()
        if taken is None:
            return None
        message = Message(**taken._mapping)
        context = (
            await conn.execute(
                _CONTEXT,
                {
                    "p_user_id": message.user_id,
                    "p_since": message.created_at - RATE_WINDOW,
                    "p_message_id": message_id,
                    "p_conversation_id": message.conversation_id,
                },
            )
        ).one()
        fields = dict(context._mapping)
        has_history = bool(fields.pop("has_history"))
        history = await stored_history.load(conn, message) if has_history and window else _NONE
    email, recent = fields.pop("link_email"), int(fields.pop("recent"))
    conversation = Conversation(**fields)
    link = (
        CustomerLink(team_id=conversation.team_id, slack_user_id=message.user_id, email=email)
        if email
        else None
    )
    return Turn(message, conversation, token, holder, history, link, recent)


@dataclass(frozen=True)
class Finished:
    """A turn's end as stored: the posts this process now holds (to post at once), and the
    thread's next message waiting to be answered, if any."""

    posts: list[outbox.Post]
    next_message: int | None
    held: bool  # no reply posted: none to post, or a person owns the thread already


# The fence: the message is as this holder's claim (its time, the token) left it.
_STILL_HELD = and_(
    _M.c.id == bindparam("p_message_id"),
    _M.c.status == MessageStatus.WORKING,
    _M.c.holder == bindparam("p_holder"),
    _M.c.claimed_at == bindparam("p_token"),
)
_waiting = _M.alias("waiting")
_FINISH = (
    update(_M)
    .where(_STILL_HELD)
    .values(status=bindparam("p_status"), verdict=bindparam("p_verdict"), holder=None)
    .returning(
        select(func.min(_waiting.c.id))
        .where(
            # Spelled out: SQLite's compiler writes the columns of an UPDATE's RETURNING
            # unqualified, the alias's too, so `_M.c.conversation_id` came out as the
            # subquery's own column (every thread's pending messages matched). Unqualified
            # there, `waiting`'s columns are still the subquery's (the innermost scope).
            _waiting.c.conversation_id == literal_column("message.conversation_id"),
            _waiting.c.status == MessageStatus.PENDING,
        )
        .scalar_subquery()
    )
)
# A person owns the thread once it is handed off (a turn's handoff, or the customer's
# request after an answer, `reply_rows.hand_off_on_request`): no turn takes it back.
_NOT_HANDED_OFF = and_(
    _C.c.id == bindparam("p_conversation_id"), _C.c.status != ConversationStatus.HANDED_OFF
)
# Locks the conversation's row (PostgreSQL re-reads it after a concurrent handoff commits;
# SQLite serialises writers) and says whether the bot still answers in it.
_STILL_THE_BOTS = update(_C).where(_NOT_HANDED_OFF).values(status=_C.c.status)
# The same, for a turn that answers: the ticket waits on the customer (a resolved one stays).
_STILL_THE_BOTS_ANSWERING = _STILL_THE_BOTS.values(ticket_status=sla.AFTER_RESPONSE)
_SET_CONVERSATION = (
    update(_C)
    .where(_NOT_HANDED_OFF)
    .values(status=bindparam("p_status"), tier=bindparam("p_tier"), updated_at=bindparam("p_now"))
)


_GIVE_BACK = update(_M).where(_STILL_HELD).values(status=MessageStatus.PENDING, holder=None)


async def give_back(db: Database, turn: Turn) -> None:
    """A turn that could not finish (the database failed it): the message pending again, if
    its holder still holds it, for the next sweep to take up."""
    params = {"p_message_id": turn.message.id, "p_holder": turn.holder, "p_token": turn.token}
    async with db.engine.begin() as conn:
        await conn.execute(_GIVE_BACK, params)


async def finish_turn(
    db: Database,
    turn: Turn,
    reply: Reply,
    leads_channel: str,
    *,
    responded_at: datetime | None = None,
) -> Finished | None:
    """Close the message with the reply, in one transaction, if its holder still holds it as
    `turn.token` left it: its status and verdict, the reply's transcript row and outbox row,
    a handoff's escalation and leads post, what the model did (`turn_transcript`), the
    conversation's status and tier. If a person
    took the thread over while the reply was prepared, the message is held instead (its
    verdict kept, nothing posted, the conversation left to the person). None if the claim
    was lost (nothing is written then). An answer closes the ticket's SLA clock as responded
    at `responded_at` (the services' clock; now if not given); a handoff notice does not."""
    message, now = turn.message, utcnow()
    conversation_id = {"p_conversation_id": message.conversation_id}
    answering = reply.text is not None and reply.kind == ReplyKind.ANSWER
    lock = _STILL_THE_BOTS_ANSWERING if answering else _STILL_THE_BOTS
    async with db.engine.begin() as conn:
        bots = (await conn.execute(lock, conversation_id)).rowcount > 0
        held = reply.text is None or not bots
        params = {
            "p_message_id": message.id,
            "p_holder": turn.holder,
            "p_token": turn.token,
            "p_status": MessageStatus.HELD if held else MessageStatus.ANSWERED,
            "p_verdict": reply.verdict,
        }
        closed = (await conn.execute(_FINISH, params)).first()
        if closed is None:
            return None
        if not bots:
            return Finished([], closed[0], held=True)
        posts = await _write_turn(conn, turn, reply, leads_channel, now)
        if answering:
            at = responded_at or now
            await sla.close_clock(conn, message.conversation_id, at, ClockEnd.RESPONDED)
            if closed[0] is not None:  # the customer wrote again meanwhile: its own clock
                team = turn.conversation.team_id
                await sla.open_next_clock(conn, message.conversation_id, team, closed[0])
    return Finished(posts, closed[0], held=held)


async def _write_turn(
    conn: AsyncConnection,
    turn: Turn,
    reply: Reply,
    leads_channel: str,
    now: datetime,
) -> list[outbox.Post]:
    """The reply's rows, a handoff's rows, the model's transcript and the conversation's new
    status, in the turn's transaction; the posts this process holds."""
    message, holder, posts = turn.message, turn.holder, []
    if reply.text is not None:
        posts += await reply_rows.write_reply(conn, message, turn.conversation, reply, holder, now)
    if reply.handoff is not None:
        posts += await reply_rows.write_handoff(
            conn,
            message,
            reply.handoff,
            leads_channel,
            holder,
            now,
            team_id=turn.conversation.team_id,
        )
    if reply.transcript is not None:
        await transcripts.add(conn, message, reply.transcript, now)
    conversation_status = _conversation_status(turn.conversation, reply)
    if conversation_status is not None:
        tier = Tier.STRONG if reply.escalated else turn.conversation.tier
        values = {"p_status": conversation_status, "p_tier": tier, "p_now": now}
        await conn.execute(
            _SET_CONVERSATION, values | {"p_conversation_id": message.conversation_id}
        )
    return posts


def _conversation_status(conversation: Conversation, reply: Reply) -> ConversationStatus | None:
    """The conversation's status after this turn, when the turn changed it."""
    if reply.handoff is not None:
        return ConversationStatus.HANDED_OFF
    if reply.escalated:
        return ConversationStatus.ESCALATED
    return None
