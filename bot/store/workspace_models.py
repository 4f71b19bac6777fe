"""The `workspace` table (migration 0014): one row per Slack team the bot serves, with its
own settings. In single-workspace mode the one team is adopted at start
(`bot/workspaces.py`); every tenant row (conversation, model call, escalation, outbox row,
feedback, budget notice) carries its team's id in `team_id`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from bot.store.models import utcnow


class Workspace(SQLModel, table=True):
    team_id: str = Field(primary_key=True, max_length=32)
    enterprise_id: str | None = Field(default=None, max_length=32)
    name: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    # Where its escalations and alerts go, and who may act on them.
    leads_channel: str = Field(default="", max_length=32, sa_column_kwargs={"server_default": ""})
    lead_users: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    installed_by: str | None = Field(default=None, max_length=32)
    installed_at: datetime = Field(default_factory=utcnow)
    uninstalled_at: datetime | None = None
