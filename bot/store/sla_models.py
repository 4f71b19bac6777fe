"""The `sla_clock` table (migration 0018): one row per wait of a customer for a response.

A customer message opens a clock when none of its conversation is open (`bot/store/sla.py`);
the sweep schedules it (tier, reminder and due times from `bot/sla/lifecycle.clock_for`) and
marks it reminded and breached, each once; a response or a resolution closes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

_OPEN = text("closed_at IS NULL")


class SlaClock(SQLModel, table=True):
    __tablename__ = "sla_clock"
    __table_args__ = (
        # The sweep: open clocks by due time.
        Index("ix_sla_clock_open", "due_at", postgresql_where=_OPEN, sqlite_where=_OPEN),
    )

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    team_id: str = Field(max_length=32)
    kind: str = Field(max_length=16)  # a ClockKind: first_response | next_response
    tier: str | None = Field(default=None, max_length=32)  # set when scheduled
    started_at: datetime  # when the customer's message was received
    remind_at: datetime | None = None  # None once scheduled: reminders are off
    due_at: datetime | None = None
    reminded_at: datetime | None = None
    breached_at: datetime | None = None
    closed_at: datetime | None = None
    closed_reason: str | None = Field(default=None, max_length=16)  # a ClockEnd
    business_seconds: int | None = None  # of a responded clock, filled by the sweep


SLA_CLOCK: Any = SlaClock.__table__  # type: ignore[attr-defined]
