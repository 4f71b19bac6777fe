"""`SqlChannelDirectory`: the shared channels as the database knows them, memoised briefly.

`cached` and `channel` read the `shared_channel` row (and its account when a lead confirmed
the mapping), remembering each answer, a missing row too, for `MEMO_SECONDS`, so a busy
channel costs one query per half-minute. `channel` asks Slack once per process about a
channel the database does not know (conversations.info, then team.info for each outside team)
and stores it as pending when it is shared outside; `recognise` asks again, for the
shared-channel events."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.accounts.views import SharedChannelView
from bot.clock import SYSTEM_CLOCK, Clock
from bot.slack_clients import SlackClients, WorkspaceNotInstalled
from bot.store.accounts import load_shared_channel, record_shared_channel
from bot.store.db import Database
from bot.store.shared_channels import drop_shared_channel, save_external_teams, senders_of

log = logging.getLogger(__name__)

MEMO_SECONDS = 30.0


class SqlChannelDirectory:
    """The `ChannelDirectory` of `bot/accounts/views.py`, backed by the account tables."""

    def __init__(
        self,
        db: Database,
        clients: SlackClients | None = None,
        clock: Clock = SYSTEM_CLOCK,
        memo_seconds: float = MEMO_SECONDS,
    ) -> None:
        self._db = db
        self._clients = clients  # None: never ask Slack (`channel` is `cached`)
        self._asked: set[tuple[str, str]] = set()
        self._clock = clock
        self._ttl = timedelta(seconds=memo_seconds)
        self._memo: dict[tuple[str, str], tuple[datetime, SharedChannelView | None]] = {}

    async def cached(self, team_id: str, channel_id: str) -> SharedChannelView | None:
        key = (team_id, channel_id)
        now = self._clock()
        remembered = self._memo.get(key)
        if remembered is not None and now - remembered[0] < self._ttl:
            return remembered[1]
        view = await load_shared_channel(self._db, team_id, channel_id)
        self._memo[key] = (now, view)
        return view

    async def channel(self, team_id: str, channel_id: str) -> SharedChannelView | None:
        view = await self.cached(team_id, channel_id)
        if view is not None or self._clients is None or (team_id, channel_id) in self._asked:
            return view
        return await self.recognise(team_id, channel_id)

    async def recognise(
        self, team_id: str, channel_id: str, *, refresh: bool = False
    ) -> SharedChannelView | None:
        """Ask Slack about a channel (conversations.info, then team.info of each outside team)
        and store what it says: a pending row on first sight, the outside teams refreshed when
        `refresh` (a channel_shared / unshared event, the bot's own join); a channel no longer
        shared outside loses its row then. None when the channel is not shared outside."""
        if self._clients is None:
            return await self.cached(team_id, channel_id)
        info = await self._ask_slack(team_id, channel_id)
        if info is None:
            return await self.cached(team_id, channel_id)  # Slack could not say: asked again
        key = (team_id, channel_id)
        self._asked.add(key)
        self.forget(team_id, channel_id)
        if not info.get("is_ext_shared"):
            if refresh and await drop_shared_channel(self._db, team_id, channel_id):
                log.info("channel %s of %s is no longer shared outside", channel_id, team_id)
            return None
        ids = outside_team_ids(team_id, info) or await senders_of(self._db, team_id, channel_id)
        teams = [await self._describe(team_id, t) for t in ids]
        if refresh:
            view = await save_external_teams(self._db, team_id, channel_id, teams)
        else:
            view = await record_shared_channel(self._db, team_id, channel_id, teams)
        self._memo[key] = (self._clock(), view)
        return view

    async def _describe(self, team_id: str, outside: str) -> dict[str, Any]:
        """An outside team as team.info names it (its id alone when Slack will not say)."""
        assert self._clients is not None
        try:
            client = await self._clients.for_team(team_id)
            team = (await client.team_info(team=outside)).get("team") or {}
        except (SlackApiError, WorkspaceNotInstalled) as exc:
            error = exc.response.get("error") if isinstance(exc, SlackApiError) else "not installed"
            log.warning("team.info of %s (from %s) failed: %s", outside, team_id, error)
            return {"id": outside}
        described = {k: str(team.get(k) or "") for k in ("name", "domain", "email_domain")}
        return {"id": outside, **described, "enterprise_id": team.get("enterprise_id") or None}

    async def _ask_slack(self, team_id: str, channel_id: str) -> dict[str, Any] | None:
        """conversations.info's `channel`; None when Slack cannot say (logged, ids only)."""
        assert self._clients is not None
        try:
            client = await self._clients.for_team(team_id)
            answer = await client.conversations_info(channel=channel_id)
        except (SlackApiError, WorkspaceNotInstalled) as exc:
            error = exc.response.get("error") if isinstance(exc, SlackApiError) else "not installed"
            log.warning("conversations.info of %s in %s failed: %s", channel_id, team_id, error)
            return None
        channel = answer.get("channel")
        return channel if isinstance(channel, dict) else {}

    async def is_shared(self, team_id: str, channel_id: str) -> bool:
        """A channel with a row is shared, whatever its mapping (an ignored one too); one the
        database does not know is asked about once (`channel`). A DM is never shared here."""
        if not channel_id or channel_id.startswith("D"):
            return False
        return await self.channel(team_id, channel_id) is not None

    def forget(self, team_id: str, channel_id: str) -> None:
        """Drop the memo of one channel (after this process changed its row)."""
        self._memo.pop((team_id, channel_id), None)


def outside_team_ids(team_id: str, info: dict[str, Any]) -> list[str]:
    """The other organisations' teams of a Slack Connect channel (docs/issue-15-plan.md §2):
    `connected_team_ids` ∪ `shared_team_ids`, less the installing team and Slack's
    `internal_team_ids`; empty when Slack names none (the caller falls back to the senders)."""
    named = [*(info.get("connected_team_ids") or ()), *(info.get("shared_team_ids") or ())]
    internal = {team_id, *(str(t) for t in info.get("internal_team_ids") or ())}
    return [t for t in dict.fromkeys(str(t) for t in named) if t and t not in internal]
