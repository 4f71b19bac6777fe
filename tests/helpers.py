"""What the end-to-end tests share beyond their fixtures: reading back what the bot stored."""

from __future__ import annotations

from typing import Any, TypeVar

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


async def open_escalation(db: Database, **fields: Any) -> Escalation:
    """An escalation stored directly (as a handoff would), its thread the humans' own; `fields`
    are the escalation's (conversation_id, message_id, reasons, draft, ...)."""
    async with db.session() as s:
        esc = Escalation(**fields)
        conversation_id = esc.conversation_id
        conversation = await s.get(Conversation, conversation_id)
        if conversation is not None and "team_id" not in fields:  # the thread's workspace
            esc.team_id = conversation.team_id
        s.add(esc)
        await s.exec(
            update(Conversation)
            .where(col(Conversation.id) == conversation_id)
            .values(status=ConversationStatus.HANDED_OFF, updated_at=utcnow())
        )
        await s.commit()
        await s.refresh(esc)
        return esc
