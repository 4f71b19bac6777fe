"""Feedback on answers, and the satisfaction and resolution figures built from it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select

from bot.store.db import Database
from bot.store.models import (
    Conversation,
    Escalation,
    Feedback,
    Message,
    MessageRole,
    Thumb,
    utcnow,
)


async def find_reply(db: Database, channel_id: str, ts: str) -> Message | None:
    """The bot's reply with this Slack ts."""
    async with db.session() as s:
        row = await s.exec(
            select(Message).where(
                col(Message.channel_id) == channel_id,
                col(Message.slack_ts) == ts,
                col(Message.role) == MessageRole.ASSISTANT,
            )
        )
        return row.first()


async def askers_of(db: Database, reply: Message) -> set[str]:
    """Who asked what `reply` answers: the sender of the answered message and the customer
    whose conversation it is (they differ in a shared thread someone else started)."""
    async with db.session() as s:
        asked = await s.get(Message, reply.reply_to_id) if reply.reply_to_id else None
        conv = await s.get(Conversation, reply.conversation_id)
    return {u for u in (asked.user_id if asked else "", conv.user_id if conv else "") if u}


async def record(db: Database, reply: Message, user_id: str, value: Thumb) -> None:
    """Store (or change) one person's thumbs up/down on one answer."""
    team = select(col(Conversation.team_id)).where(col(Conversation.id) == reply.conversation_id)
    values = {
        "team_id": team.scalar_subquery(),  # the thread's workspace, read in the INSERT
        "message_id": reply.id,
        "conversation_id": reply.conversation_id,
        "user_id": user_id,
        "value": value,
        "tier": reply.tier or "",
        "created_at": utcnow(),
    }
    async with db.engine.begin() as conn:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(Feedback.__table__).values(**values)  # type: ignore[attr-defined]
        await conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["message_id", "user_id"],
                set_={"value": value, "created_at": values["created_at"]},
            )
        )


@dataclass(frozen=True)
class TierSatisfaction:
    tier: str
    up: int
    down: int

    @property
    def satisfaction(self) -> float | None:
        total = self.up + self.down
        return self.up / total if total else None


@dataclass(frozen=True)
class Stats:
    by_tier: list[TierSatisfaction]
    conversations: int
    resolved_by_bot: int  # no human involved and no thumbs-down

    @property
    def resolution_rate(self) -> float | None:
        return self.resolved_by_bot / self.conversations if self.conversations else None


async def stats(db: Database, since: datetime, team: str | None = None) -> Stats:
    """The figures since `since`, of workspace `team` (None: of every workspace)."""
    ours = [] if team is None else [col(Conversation.team_id) == team]
    async with db.session() as s:
        rows = await s.exec(
            select(col(Feedback.tier), col(Feedback.value), func.count())
            .where(
                col(Feedback.created_at) >= since,
                *([] if team is None else [col(Feedback.team_id) == team]),
            )
            .group_by(col(Feedback.tier), col(Feedback.value))
        )
        counts: dict[str, dict[str, int]] = {}
        for tier, value, n in rows.all():
            counts.setdefault(tier or "unknown", {"up": 0, "down": 0})[value] = int(n)
        conversations = (
            await s.exec(
                select(func.count())
                .select_from(Conversation)
                .where(col(Conversation.created_at) >= since, *ours)
            )
        ).one()
        escalated = select(col(Escalation.conversation_id))
        thumbs_down = select(col(Feedback.conversation_id)).where(col(Feedback.value) == Thumb.DOWN)
        resolved = (
            await s.exec(
                select(func.count())
                .select_from(Conversation)
                .where(
                    col(Conversation.created_at) >= since,
                    *ours,
                    col(Conversation.id).not_in(escalated),
                    col(Conversation.id).not_in(thumbs_down),
                )
            )
        ).one()
    order = ["primary", "strong", "human"]
    by_tier = [
        TierSatisfaction(t, counts.get(t, {}).get("up", 0), counts.get(t, {}).get("down", 0))
        for t in order + sorted(set(counts) - set(order))
    ]
    return Stats(by_tier, int(conversations), int(resolved))
