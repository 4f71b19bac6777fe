"""Escalation rows: opening a handoff, applying a lead's action, listing what is open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.store.db import Database
from bot.store.models import (
    Conversation,
    ConversationStatus,
    Escalation,
    Message,
    MessageRole,
    MessageStatus,
    ReplyKind,
    Tier,
    utcnow,
)
from bot.store.queries import Undelivered
from escalation.review import HUMAN_OWNED, LeadAction, ReviewStatus, next_status


async def open_handoff(
    db: Database,
    *,
    conversation_id: int,
    message_id: int,
    reasons: list[str],
    confidence: float | None,
    findings: list[dict[str, str]],
    summary: str,
    draft: str,
    leads_channel: str,
) -> Escalation:
    """Record the handoff and make the thread the humans' own, in one transaction."""
    async with db.session() as s:
        esc = Escalation(
            conversation_id=conversation_id,
            message_id=message_id,
            reasons=reasons,
            confidence=confidence,
            findings=findings,
            summary=summary,
            draft=draft,
            leads_channel=leads_channel,
        )
        s.add(esc)
        await s.exec(
            update(Conversation)
            .where(col(Conversation.id) == conversation_id)
            .values(status=ConversationStatus.HANDED_OFF, updated_at=utcnow())
        )
        await s.commit()
        await s.refresh(esc)
        return esc


@dataclass(frozen=True)
class Applied:
    """A lead's action, applied: the escalation as it is now, and the lead's answer to the
    customer when the action sends one (stored, not yet posted)."""

    escalation: Escalation
    answer: Undelivered | None = None


async def apply_action(
    db: Database,
    escalation_id: int,
    action: LeadAction,
    lead_user_id: str,
    final_answer: str | None = None,
    reply_text: str | None = None,
) -> Applied | None:
    """Move the escalation on; None if the action is not allowed now (e.g. another lead was
    first). One conditional UPDATE, so two clicks can never both win.

    `reply_text`, the lead's answer as the customer sees it, is stored in the same transaction
    (a reply of tier human to the escalated message, not yet posted; the message marked
    `failed`, as for any reply Slack has not taken): the thread is the bot's again only with
    the answer in it, and if this process dies before posting it, the sweeper posts it."""
    async with db.session() as s:
        esc = await s.get(Escalation, escalation_id)
        if esc is None:
            return None
        target = next_status(esc.status, action)
        if target is None:
            return None
        now = utcnow()
        values: dict[str, object] = {"status": target, "lead_user_id": lead_user_id}
        if target == ReviewStatus.CLAIMED:
            values["claimed_at"] = now
        else:
            values["resolved_at"] = now
        if final_answer is not None:
            values["final_answer"] = final_answer
        result = await s.exec(
            update(Escalation)
            .where(col(Escalation.id) == escalation_id, col(Escalation.status) == esc.status)
            .values(**values)
        )
        if not result.rowcount:
            return None
        reply = None
        if reply_text is not None:
            reply = await _store_answer(s, esc, reply_text, now)
        if target not in HUMAN_OWNED:
            await s.exec(
                update(Conversation)
                .where(col(Conversation.id) == esc.conversation_id)
                .values(status=ConversationStatus.ACTIVE, updated_at=now)
            )
        await s.commit()
        await s.refresh(esc)
        if reply is None:
            return Applied(esc)
        conv = await s.get(Conversation, esc.conversation_id)
        assert conv is not None
        answer = Undelivered(
            esc.message_id, reply.id or 0, reply.text, Tier.HUMAN, "answer", conv, 0, now
        )
        return Applied(esc, answer)


async def _store_answer(s: AsyncSession, esc: Escalation, text: str, now: datetime) -> Message:
    message = await s.get(Message, esc.message_id)
    assert message is not None
    reply = Message(
        conversation_id=esc.conversation_id,
        role=MessageRole.ASSISTANT,
        text=text,
        channel_id=message.channel_id,
        reply_to_id=message.id,
        tier=Tier.HUMAN,
        kind=ReplyKind.ANSWER,
    )
    # A reply Slack has not taken yet (the handoff notice, refused) would only come after the
    # lead's answer and contradict it: the answer replaces it.
    await s.exec(
        delete(Message).where(
            col(Message.reply_to_id) == message.id,
            col(Message.role) == MessageRole.ASSISTANT,
            col(Message.slack_ts).is_(None),
            col(Message.posted_pieces) == 0,
        )
    )
    s.add(reply)
    # Posted at once; a lease from now the sweeper posts it, if it is still not posted.
    message.status = MessageStatus.FAILED
    message.claimed_at = now
    s.add(message)
    await s.flush()
    return reply


async def get(db: Database, escalation_id: int) -> tuple[Escalation, Conversation] | None:
    async with db.session() as s:
        esc = await s.get(Escalation, escalation_id)
        if esc is None:
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


async def set_leads_post(db: Database, escalation_id: int, channel: str, ts: str) -> None:
    async with db.session() as s:
        await s.exec(
            update(Escalation)
            .where(col(Escalation.id) == escalation_id)
            .values(leads_channel=channel, leads_ts=ts)
        )
        await s.commit()


async def listing(db: Database, status: str | None = None) -> list[Escalation]:
    """Escalations oldest first; all of them, or those with one status."""
    async with db.session() as s:
        query = select(Escalation).order_by(col(Escalation.created_at), col(Escalation.id))
        if status:
            query = query.where(col(Escalation.status) == status)
        return list((await s.exec(query)).all())


async def human_owned(db: Database) -> list[tuple[Escalation, Conversation, str]]:
    """Open and claimed escalations with their threads and who asked (the sender of the
    escalated message: in a shared thread, not always who started it), oldest first."""
    async with db.session() as s:
        rows = await s.exec(
            select(Escalation, Conversation, col(Message.user_id))
            .join(Conversation, col(Conversation.id) == col(Escalation.conversation_id))
            .join(Message, col(Message.id) == col(Escalation.message_id))
            .where(col(Escalation.status).in_([str(x) for x in HUMAN_OWNED]))
            .order_by(col(Escalation.created_at), col(Escalation.id))
        )
        return [(esc, conv, asker) for esc, conv, asker in rows.all()]
