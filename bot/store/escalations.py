"""Escalation rows: opening a handoff, applying a lead's action, listing what is open."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import col, select

from bot.store.db import Database
from bot.store.models import Conversation, ConversationStatus, Escalation, utcnow
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


async def apply_action(
    db: Database,
    escalation_id: int,
    action: LeadAction,
    lead_user_id: str,
    final_answer: str | None = None,
) -> Escalation | None:
    """Move the escalation on; None if the action is not allowed now (e.g. another lead was
    first). One conditional UPDATE, so two clicks can never both win."""
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
        if target not in HUMAN_OWNED:
            await s.exec(
                update(Conversation)
                .where(col(Conversation.id) == esc.conversation_id)
                .values(status=ConversationStatus.ACTIVE, updated_at=now)
            )
        await s.commit()
        await s.refresh(esc)
        return esc


async def get(db: Database, escalation_id: int) -> tuple[Escalation, Conversation] | None:
    async with db.session() as s:
        esc = await s.get(Escalation, escalation_id)
        if esc is None:
            return None
        conv = await s.get(Conversation, esc.conversation_id)
        return (esc, conv) if conv else None


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


async def human_owned(db: Database) -> list[tuple[Escalation, Conversation]]:
    """Open and claimed escalations with their threads, oldest first (App Home)."""
    async with db.session() as s:
        rows = await s.exec(
            select(Escalation, Conversation)
            .join(Conversation, col(Conversation.id) == col(Escalation.conversation_id))
            .where(col(Escalation.status).in_([str(x) for x in HUMAN_OWNED]))
            .order_by(col(Escalation.created_at), col(Escalation.id))
        )
        return [(esc, conv) for esc, conv in rows.all()]
