"""What the end-to-end tests share beyond their fixtures: reading back what the bot stored."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import inspect, update
from sqlmodel import SQLModel, col, select

from bot.store.db import Database
from bot.store.models import Conversation, ConversationStatus, Escalation, utcnow
from tests.conftest import Bot

Row = TypeVar("Row", bound=SQLModel)


async def rows(bot: Bot, table: type[Row]) -> list[Row]:
    """Every row of `table`, in the order they were written (by primary key)."""
    async with bot.services.db.session() as s:
        return list((await s.exec(select(table).order_by(*inspect(table).primary_key))).all())


async def open_escalation(
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
    """An escalation stored directly (as a handoff would), its thread the humans' own."""
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
