"""Data retention: delete old conversations' words, keep their spend."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import col, select

from bot.store.db import Database
from bot.store.models import (
    BudgetNotice,
    Conversation,
    Escalation,
    Feedback,
    Message,
    ModelCall,
    Outbox,
    SlackEvent,
    TurnTranscript,
)

PURGED = "purged"


@dataclass(frozen=True)
class PurgeResult:
    conversations: int
    messages: int
    escalations: int


async def purge(db: Database, older_than: datetime) -> PurgeResult:
    """Delete the messages, escalations, feedback and turn transcripts of conversations last
    active before `older_than`, in one transaction. The conversation rows (ids, total spend)
    and the model calls (tokens, costs) stay, so spend reports keep their history; they hold
    no text."""
    async with db.session() as s:
        old = select(col(Conversation.id)).where(
            col(Conversation.updated_at) < older_than, col(Conversation.status) != PURGED
        )
        ids = [i for i in (await s.exec(old)).all() if i is not None]
        if not ids:
            return PurgeResult(0, 0, 0)
        in_old = col(Message.conversation_id).in_(ids)
        await s.exec(
            update(ModelCall).where(col(ModelCall.conversation_id).in_(ids)).values(message_id=None)
        )
        await s.exec(delete(Feedback).where(col(Feedback.conversation_id).in_(ids)))
        await s.exec(delete(Outbox).where(col(Outbox.conversation_id).in_(ids)))
        await s.exec(delete(TurnTranscript).where(col(TurnTranscript.conversation_id).in_(ids)))
        escalations = await s.exec(
            delete(Escalation).where(col(Escalation.conversation_id).in_(ids))
        )
        await s.exec(update(Message).where(in_old).values(reply_to_id=None))
        messages = await s.exec(delete(Message).where(in_old))
        await s.exec(
            update(Conversation).where(col(Conversation.id).in_(ids)).values(status=PURGED)
        )
        await s.exec(delete(SlackEvent).where(col(SlackEvent.received_at) < older_than))
        await s.exec(delete(BudgetNotice).where(col(BudgetNotice.created_at) < older_than))
        await s.commit()
        return PurgeResult(len(ids), messages.rowcount, escalations.rowcount)
