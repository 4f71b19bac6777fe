"""`SqlChannelDirectory`: the shared channels as the database knows them, memoised briefly.

`cached` and `channel` read the `shared_channel` row (and its account when a lead confirmed
the mapping), remembering each answer, a missing row too, for `MEMO_SECONDS`, so a busy
channel costs one query per half-minute. `channel` does not ask Slack yet: a channel the
database does not know is not a known shared channel (recognition on first sight through
conversations.info comes with the shared-channel listeners)."""

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
        key = (team_id, channel_id)
        if view is not None or self._clients is None or key in self._asked:
            return view
        info = await self._ask_slack(team_id, channel_id)
        if info is None:
            return None  # Slack could not say: asked again next time
        self._asked.add(key)
        outside = _outside_teams(team_id, info)
        if not outside:
            return None
        view = await record_shared_channel(self._db, team_id, channel_id, outside)
        self._memo[key] = (self._clock(), view)
        return view

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
        """A channel with a row is shared, whatever its mapping (an ignored one too)."""
        return await self.cached(team_id, channel_id) is not None

    def forget(self, team_id: str, channel_id: str) -> None:
        """Drop the memo of one channel (after this process changed its row)."""
        self._memo.pop((team_id, channel_id), None)


def _outside_teams(team_id: str, info: dict[str, Any]) -> list[dict[str, str]]:
    """The other organisations' teams of a Slack Connect channel: `connected_team_ids` less our
    own, else `shared_team_ids`; none for a channel not shared outside."""
    if not info.get("is_ext_shared"):
        return []
    ids = [str(t) for t in info.get("connected_team_ids") or () if t != team_id]
    if not ids:
        ids = [str(t) for t in info.get("shared_team_ids") or () if t != team_id]
    return [{"id": t} for t in dict.fromkeys(ids)]
