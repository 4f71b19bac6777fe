"""Customer links: a lead's manual link of a Slack user to a customer email."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.store.db import Database
from bot.store.models import CustomerLink, Message


async def load_link(s: AsyncSession, user_id: str) -> CustomerLink | None:
    """A lead's manual link of this Slack user to a customer email, if any (in the caller's
    session, so a turn reads it with its other rows)."""
    return await s.get(CustomerLink, user_id)


async def sender_of(db: Database, message_id: int) -> tuple[str, CustomerLink | None]:
    """Who sent a message (their Slack user id, "" if unknown) and their link, if any."""
    async with db.session() as s:
        message = await s.get(Message, message_id)
        user_id = message.user_id if message else ""
        return user_id, await load_link(s, user_id) if user_id else None
