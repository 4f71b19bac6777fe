"""What the rest of the bot sees of accounts and shared channels, and where it asks.

Read-only views, so the listener, the identity resolver and the tools depend on these types
only, never on the account tables. Until accounts exist, `NoChannels` knows no shared channel:
no message is attributed to an account, and no account data is shown anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class ChannelMapping(StrEnum):
    """Whether a lead tied a shared channel to an account."""

    PENDING = "pending"  # seen, suggested to leads, not confirmed: no account data disclosed
    CONFIRMED = "confirmed"
    IGNORED = "ignored"  # a lead said the channel is no customer's


class ReplyMode(StrEnum):
    """What the bot answers in a shared channel."""

    MENTIONS = "mentions"  # only @mentions (and its own threads)
    REQUESTS = "requests"  # also top-level messages that read as a request


@dataclass(frozen=True)
class AccountView:
    id: int
    team_id: str  # the workspace that owns the account
    name: str
    tier: str
    external_id: str | None  # the order service's account id
    domains: frozenset[str]
    slack_team_ids: frozenset[str]  # the customer's own Slack teams (`T…` or `E…`)


@dataclass(frozen=True)
class SharedChannelView:
    team_id: str
    channel_id: str
    mapping: ChannelMapping
    account: AccountView | None  # set only when `mapping` is confirmed
    reply_mode: ReplyMode
    external_team_ids: frozenset[str]


class ChannelDirectory(Protocol):
    async def cached(self, team_id: str, channel_id: str) -> SharedChannelView | None:
        """From the database (and a short memo), never from Slack: for the listener."""
        ...

    async def channel(self, team_id: str, channel_id: str) -> SharedChannelView | None:
        """As `cached`, and asks Slack (conversations.info) on first sight: for the worker."""
        ...

    async def is_shared(self, team_id: str, channel_id: str) -> bool:
        """For the internal-only guards: is this channel shared with another organisation?"""
        ...


class NoChannels:
    """The directory before accounts exist: no channel is a known shared channel."""

    async def cached(self, team_id: str, channel_id: str) -> SharedChannelView | None:
        return None

    async def channel(self, team_id: str, channel_id: str) -> SharedChannelView | None:
        return None

    async def is_shared(self, team_id: str, channel_id: str) -> bool:
        return False
