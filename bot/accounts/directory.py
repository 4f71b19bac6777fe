"""`SqlChannelDirectory`: the shared channels as the database knows them, memoised briefly.

`cached` and `channel` read the `shared_channel` row (and its account when a lead confirmed
the mapping), remembering each answer, a missing row too, for `MEMO_SECONDS`, so a busy
channel costs one query per half-minute. `channel` does not ask Slack yet: a channel the
database does not know is not a known shared channel (recognition on first sight through
conversations.info comes with the shared-channel listeners)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.accounts.views import SharedChannelView
from bot.clock import SYSTEM_CLOCK, Clock
from bot.store.accounts import load_shared_channel
from bot.store.db import Database

MEMO_SECONDS = 30.0


class SqlChannelDirectory:
    """The `ChannelDirectory` of `bot/accounts/views.py`, backed by the account tables."""

    def __init__(
        self, db: Database, clock: Clock = SYSTEM_CLOCK, memo_seconds: float = MEMO_SECONDS
    ) -> None:
        self._db = db
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
        return await self.cached(team_id, channel_id)

    async def is_shared(self, team_id: str, channel_id: str) -> bool:
        """A channel with a row is shared, whatever its mapping (an ignored one too)."""
        return await self.cached(team_id, channel_id) is not None

    def forget(self, team_id: str, channel_id: str) -> None:
        """Drop the memo of one channel (after this process changed its row)."""
        self._memo.pop((team_id, channel_id), None)
