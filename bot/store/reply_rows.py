"""The rows a reply and a handoff are written as, in the caller's transaction: the reply's
transcript row (`message`, role assistant) and its outbox row; the escalation and its post
for the leads. Used by the end of a turn (`bot/store/turns.py`) and by a handoff the customer
asks for after an answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.delivery import Handoff, Reply
from bot.store import outbox
from bot.store.db import Database
from bot.store.models import (
    Conversation,
    ConversationStatus,
    EscalationStatus,
    Message,
    MessageRole,
    MessageStatus,
    MessageVerdict,
    PostKind,
    PostState,
    utcnow,
)
from bot.store.tables import CONVERSATION as _C
from bot.store.tables import ESCALATION as _E
from bot.store.tables import MESSAGE as _M

_ADD_MESSAGE = insert(_M).returning(_M.c.id)
_ADD_ESCALATION = insert(_E).returning(_E.c.id)
_HAND_OFF = (
    update(_C)
    .where(_C.c.id == bindparam("p_conversation_id"), _C.c.status != ConversationStatus.HANDED_OFF)
    .values(status=ConversationStatus.HANDED_OFF, updated_at=bindparam("p_now"))
)


async def hand_off_on_request(
    db: Database,
    message: Message,
    conversation: Conversation,
    notice: Reply,
    holder: str,
    leads_channel: str,
) -> list[outbox.Post] | None:
    """A thread handed to the leads outside a turn (the customer asked, after an answer): the
    escalation, the notice in the thread and the leads post, in one transaction; None if a
    person already owns the thread (a second click)."""
    assert notice.handoff is not None
    now = utcnow()
    async with db.engine.begin() as conn:
        taken = await conn.execute(_HAND_OFF, {"p_conversation_id": conversation.id, "p_now": now})
        if not taken.rowcount:
            return None
        posts = await write_reply(conn, message, conversation, notice, holder, now)
        posts += await write_handoff(
            conn, message, notice.handoff, leads_channel, holder, now, team_id=conversation.team_id
        )
    return posts


async def write_reply(
    conn: AsyncConnection,
    message: Message,
    conversation: Conversation,
    reply: Reply,
    holder: str,
    now: datetime,
) -> list[outbox.Post]:
    """The reply's transcript row and its outbox row (held by `holder` unless it must wait
    for an earlier post of the thread)."""
    assert reply.text is not None
    reply_id = (
        await conn.execute(
            _ADD_MESSAGE,
            {
                "conversation_id": message.conversation_id,
                "role": MessageRole.ASSISTANT,
                "user_id": "",
                "text": reply.text,
                "channel_id": message.channel_id,
                "status": MessageStatus.NONE,
                "verdict": MessageVerdict.NONE,
                "reply_to_id": message.id,
                "files": [],
                "tier": reply.tier,
                "kind": reply.kind,
                "created_at": now,
            },
        )
    ).scalar_one()
    post_id, state = await outbox.add_thread_post(
        conn,
        conversation,
        channel_id=message.channel_id,
        message_id=reply_id,
        holder=holder,
        now=now,
    )
    if state != PostState.POSTING:
        return []  # a sweep posts it, after the earlier post of the thread
    return [
        outbox.held_reply(
            post_id,
            conversation,
            message.channel_id,
            now,
            holder,
            text=reply.text,
            reply_kind=reply.kind,
            tier=reply.tier,
            message_id=reply_id,
        )
    ]


async def write_handoff(
    conn: AsyncConnection,
    message: Message,
    handoff: Handoff,
    leads_channel: str,
    holder: str,
    now: datetime,
    *,
    team_id: str,
) -> list[outbox.Post]:
    """The escalation row, and its post for the leads of workspace `team_id` (the thread's;
    rendered when it is posted)."""
    escalation_id = (
        await conn.execute(
            _ADD_ESCALATION,
            {
                "team_id": team_id,
                "conversation_id": message.conversation_id,
                "message_id": message.id,
                "status": EscalationStatus.OPEN,
                "reasons": handoff.reasons,
                "confidence": handoff.confidence,
                "findings": handoff.findings,
                "summary": handoff.summary,
                "draft": handoff.draft,
                "leads_channel": leads_channel,
                "created_at": now,
            },
        )
    ).scalar_one()
    post_id = await outbox.add_leads_post(
        conn,
        PostKind.LEADS_ESCALATION,
        leads_channel,
        holder,
        now,
        team_id=team_id,
        escalation_id=escalation_id,
        conversation_id=message.conversation_id,
    )
    return [
        outbox.Post(
            post_id,
            PostKind.LEADS_ESCALATION,
            leads_channel,
            None,
            now,
            escalation_id=escalation_id,
            team_id=team_id,
            holder=holder,
        )
    ]
