"""The account tables (schema 0016): customer accounts, their email domains, their own Slack
teams, and the Slack Connect channels shared with them. Every row carries `team_id`, the
workspace that owns it, so two workspaces may each have an account of the same name.

What the rest of the bot reads of them is `bot/accounts/views.py`; the queries are
`bot/store/accounts.py`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.accounts.views import ChannelMapping, ReplyMode
from bot.store.models import utcnow


class Account(SQLModel, table=True):
    """A customer organisation, in one workspace."""

    __tablename__ = "account"
    __table_args__ = (
        UniqueConstraint("team_id", "name", name="uq_account_name"),
        UniqueConstraint("team_id", "external_id", name="uq_account_external_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)  # the owning workspace
    name: str = Field(max_length=200)
    tier: str = Field(max_length=32)  # a key of SUPPORTBOT_SLA, once SLAs exist
    external_id: str | None = Field(default=None, max_length=64)  # the order service's id
    created_at: datetime = Field(default_factory=utcnow)


class AccountDomain(SQLModel, table=True):
    """An email domain of an account, lower-cased; one account per domain in a workspace."""

    __tablename__ = "account_domain"
    __table_args__ = (UniqueConstraint("team_id", "domain", name="uq_account_domain"),)

    account_id: int = Field(foreign_key="account.id", primary_key=True)
    domain: str = Field(max_length=253, primary_key=True)
    team_id: str = Field(max_length=32)


class AccountTeam(SQLModel, table=True):
    """One of the customer's own Slack teams (`T…` or an organisation's `E…`)."""

    __tablename__ = "account_team"

    team_id: str = Field(max_length=32, primary_key=True)  # the owning workspace
    slack_team_id: str = Field(max_length=32, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)


class SharedChannel(SQLModel, table=True):
    """A channel of the workspace shared with other organisations, and whose it is."""

    __tablename__ = "shared_channel"

    team_id: str = Field(max_length=32, primary_key=True)
    channel_id: str = Field(max_length=32, primary_key=True)
    account_id: int | None = Field(default=None, foreign_key="account.id", index=True)
    mapping: str = Field(default=ChannelMapping.PENDING, max_length=16)
    suggested_account_id: int | None = Field(default=None, foreign_key="account.id")
    # The connected organisations as Slack names them: [{"id", "name", "domain"}] (data).
    external_teams: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    reply_mode: str = Field(default=ReplyMode.MENTIONS, max_length=16)
    suggested_at: datetime | None = None  # the leads' suggestion is posted once
    confirmed_by: str | None = Field(default=None, max_length=32)
    confirmed_at: datetime | None = None
    checked_at: datetime | None = None  # when Slack was last asked about the channel
    created_at: datetime = Field(default_factory=utcnow)


ACCOUNT: Any = Account.__table__  # type: ignore[attr-defined]
ACCOUNT_DOMAIN: Any = AccountDomain.__table__  # type: ignore[attr-defined]
ACCOUNT_TEAM: Any = AccountTeam.__table__  # type: ignore[attr-defined]
SHARED_CHANNEL: Any = SharedChannel.__table__  # type: ignore[attr-defined]
