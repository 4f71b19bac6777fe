"""Customer links: a lead's manual link of a Slack user to a customer email."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.store.db import Database
from bot.store.models import Conversation, CustomerLink, Message


async def load_link(s: AsyncSession, team_id: str, user_id: str) -> CustomerLink | None:
    """A lead's manual link of this Slack user to a customer email in workspace `team_id`, if
    any (in the caller's session)."""
    return await s.get(CustomerLink, (team_id, user_id))


async def sender_of(db: Database, message_id: int) -> tuple[str, CustomerLink | None]:
    """Who sent a message (their Slack user id, "" if unknown) and their link in the thread's
    workspace, if any."""
    async with db.session() as s:
        message = await s.get(Message, message_id)
        if message is None or not message.user_id:
            return "", None
        conversation = await s.get(Conversation, message.conversation_id)
        team = conversation.team_id if conversation else ""
        return message.user_id, await load_link(s, team, message.user_id)
