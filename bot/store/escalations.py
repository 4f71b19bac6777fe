"""Escalation rows: applying a lead's action, listing what is open (a handoff writes its
row with the turn, `bot/store/reply_rows.py`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.store import outbox, sla
from bot.store.db import Database
from bot.store.models import (
    Conversation,
    ConversationStatus,
    Escalation,
    Message,
    MessageRole,
    Outbox,
    PostState,
    ReplyKind,
    Tier,
    utcnow,
)
from escalation.review import HUMAN_OWNED, LeadAction, ReviewStatus, next_status, resolution


@dataclass(frozen=True)
class Applied:
    """A lead's action, applied: the escalation as it is now, and the posts this process holds
    to post at once (the lead's answer, when the action sends one and nothing earlier in the
    thread waits to be posted)."""

    escalation: Escalation
    posts: list[outbox.Post] = field(default_factory=list)


async def apply_action(
    db: Database,
    escalation_id: int,
    action: LeadAction,
    lead_user_id: str,
    final_answer: str | None = None,
    reply_text: str | None = None,
    holder: str = "",
    team: str | None = None,
) -> Applied | None:
    """Move the escalation on; None if the action is not allowed now (e.g. another lead was
    first), or the escalation is not of workspace `team` (None: of any; the terminal). One
    conditional UPDATE, so two clicks can never both win.

    `reply_text`, the lead's answer as the customer sees it, is stored in the same transaction
    (a reply of tier human to the escalated message, and its outbox row held by `holder`): the
    thread is the bot's again only with the answer in it, and if this process dies before
    posting it, the sweep posts it."""
    async with db.session() as s:
        esc = await s.get(Escalation, escalation_id)
        if esc is None or (team is not None and esc.team_id != team):
            return None
        status = ReviewStatus(esc.status)
        target = next_status(status, action)
        if target is None:
            return None
        now = utcnow()
        values: dict[str, object] = {"status": target, "lead_user_id": lead_user_id}
        # In the UPDATE conditional on the status: only the action that wins records it.
        if (recorded := resolution(status, action, esc.draft, final_answer)) is not None:
            values["resolution"] = recorded
        if target == ReviewStatus.CLAIMED:
            values["claimed_at"] = now
        else:
            values["resolved_at"] = now
        if final_answer is not None:
            values["final_answer"] = final_answer
        result = await s.exec(
            update(Escalation)
            .where(
                col(Escalation.id) == escalation_id,
                col(Escalation.status) == esc.status,
                col(Escalation.team_id) == esc.team_id,
            )
            .values(**values)
        )
        if not result.rowcount:
            return None
        answer = None if reply_text is None else _store_answer(s, esc, reply_text, holder, now)
        posts: list[outbox.Post] = [] if answer is None else await answer
        await _ticket_after(s, esc.conversation_id, action, reply_text is not None, now)
        if target not in HUMAN_OWNED:
            await s.exec(
                update(Conversation)
                .where(col(Conversation.id) == esc.conversation_id)
                .values(status=ConversationStatus.ACTIVE, updated_at=now)
            )
        await s.commit()
        await s.refresh(esc)
        return Applied(esc, posts)


async def _ticket_after(
    s: AsyncSession, conversation_id: int, action: LeadAction, answered: bool, now: datetime
) -> None:
    """The ticket after a lead's action: an answer is a response (the SLA clock stops); the
    lead who took the thread over marking it resolved resolves it."""
    if answered:
        await sla.close_responded(await s.connection(), conversation_id, now)
    elif action == LeadAction.RESOLVE:
        await sla.close_resolved(await s.connection(), conversation_id, now)


async def _store_answer(
    s: AsyncSession, esc: Escalation, text: str, holder: str, now: datetime
) -> list[outbox.Post]:
    message = await s.get(Message, esc.message_id)
    # The thread's row first, as a turn's finish takes it: two transactions adding posts to
    # one thread then go one after the other, and the later sees the earlier's post waiting.
    conv = await s.get(Conversation, esc.conversation_id, with_for_update=True)
    assert message is not None and conv is not None
    await _drop_unposted_replies(s, message.id)
    reply = Message(
        conversation_id=esc.conversation_id,
        role=MessageRole.ASSISTANT,
        text=text,
        channel_id=message.channel_id,
        reply_to_id=message.id,
        tier=Tier.HUMAN,
        kind=ReplyKind.ANSWER,
        created_at=now,
    )
    s.add(reply)
    await s.flush()
    conn = await s.connection()
    post_id, state = await outbox.add_thread_post(
        conn,
        conv,
        channel_id=message.channel_id,
        message_id=reply.id or 0,
        holder=holder,
        now=now,
    )
    if state != PostState.POSTING:
        return []  # after the notice being posted right now: a sweep posts it
    return [
        outbox.held_reply(
            post_id,
            conv,
            message.channel_id,
            now,
            holder,
            text=text,
            reply_kind=ReplyKind.ANSWER,
            tier=Tier.HUMAN,
            message_id=reply.id,
        )
    ]


async def _drop_unposted_replies(s: AsyncSession, message_id: int | None) -> None:
    """A reply not posted yet and not being posted (the handoff notice, refused) would only
    come after the lead's answer and contradict it: the answer replaces it. One conditional
    DELETE on its state: a sweep posting it right now keeps it, and the answer follows it."""
    replaced = await s.exec(
        delete(Outbox)
        .where(
            col(Outbox.message_id).in_(
                select(col(Message.id)).where(col(Message.reply_to_id) == message_id)
            ),
            col(Outbox.state).in_([PostState.TO_POST, PostState.REFUSED]),
            col(Outbox.posted_pieces) == 0,
        )
        .returning(col(Outbox.message_id))
    )
    gone = [i for i in replaced.scalars() if i is not None]
    if gone:
        await s.exec(delete(Message).where(col(Message.id).in_(gone)))


async def get(
    db: Database, escalation_id: int, team: str | None = None
) -> tuple[Escalation, Conversation] | None:
    """An escalation and its thread; None if there is none of that id in workspace `team`
    (None: in any)."""
    async with db.session() as s:
        esc = await s.get(Escalation, escalation_id)
        if esc is None or (team is not None and esc.team_id != team):
            return None
        conv = await s.get(Conversation, esc.conversation_id)
        return (esc, conv) if conv else None


async def for_message(db: Database, message_id: int) -> Escalation | None:
    """The latest escalation of a customer message, if any."""
    async with db.session() as s:
        rows = await s.exec(
            select(Escalation)
            .where(col(Escalation.message_id) == message_id)
            .order_by(col(Escalation.id).desc())
        )
        return rows.first()


async def leads_view(
    db: Database, escalation_id: int
) -> tuple[Escalation, Conversation, str, str] | None:
    """An escalation as its leads post shows it: with its thread, and the escalated message's
    text and sender (in a shared thread, not always who started it)."""
    async with db.session() as s:
        rows = await s.exec(
            select(Escalation, Conversation, col(Message.text), col(Message.user_id))
            .join(Conversation, col(Conversation.id) == col(Escalation.conversation_id))
            .outerjoin(Message, col(Message.id) == col(Escalation.message_id))
            .where(col(Escalation.id) == escalation_id)
        )
        row = rows.first()
    if row is None:
        return None
    esc, conv, text, asker = row
    return esc, conv, text or "", asker or ""


async def listing(
    db: Database, status: str | None = None, team: str | None = None
) -> list[Escalation]:
    """Escalations oldest first; all of them, or those with one status; of workspace `team`
    (None: of every workspace)."""
    async with db.session() as s:
        query = select(Escalation).order_by(col(Escalation.created_at), col(Escalation.id))
        if status:
            query = query.where(col(Escalation.status) == status)
        if team is not None:
            query = query.where(col(Escalation.team_id) == team)
        return list((await s.exec(query)).all())


async def human_owned(db: Database, team: str) -> list[tuple[Escalation, Conversation, str]]:
    """Workspace `team`'s open and claimed escalations with their threads and who asked (the
    sender of the escalated message: in a shared thread, not always who started it), oldest
    first."""
    async with db.session() as s:
        rows = await s.exec(
            select(Escalation, Conversation, col(Message.user_id))
            .join(Conversation, col(Conversation.id) == col(Escalation.conversation_id))
            .join(Message, col(Message.id) == col(Escalation.message_id))
            .where(
                col(Escalation.team_id) == team,
                col(Escalation.status).in_([str(x) for x in HUMAN_OWNED]),
            )
            .order_by(col(Escalation.created_at), col(Escalation.id))
        )
        return [(esc, conv, asker) for esc, conv, asker in rows.all()]
