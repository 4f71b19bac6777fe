"""Turn transcripts (`turn_transcript`): written with the turn's end, in its transaction
(`bot/store/turns.py`); read by `supportbot export finetune` (`bot/store/approved.py`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.delivery import Transcript
from bot.store.models import Message
from bot.store.tables import TURN_TRANSCRIPT as _T

_ADD = insert(_T)


async def add(
    conn: AsyncConnection, message: Message, transcript: Transcript, now: datetime
) -> None:
    """Store what the model did in `message`'s turn, in the caller's transaction."""
    await conn.execute(
        _ADD,
        {
            "message_id": message.id,
            "conversation_id": message.conversation_id,
            "tier": transcript.tier,
            "system": transcript.system,
            "tools": transcript.tools,
            "messages": transcript.messages,
            "created_at": now,
        },
    )
