"""Each workspace's own settings: where its leads are told (the leads channel) and who its
leads are (docs/issue-15-plan.md §8).

A workspace's settings are its `workspace` row, remembered for a minute; what the row leaves
empty, and a workspace without a row, take the process's settings (`SUPPORTBOT_LEADS_CHANNEL`,
`SUPPORTBOT_LEAD_USERS`). In single-workspace mode the one team is adopted at start
(`Workspaces.adopt`): its row is written from those settings, and the rows stored before teams
were recorded become its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from bot.store import workspace_rows
from bot.store.db import Database

log = logging.getLogger(__name__)
MEMO_SECONDS = 60.0

# Whether a user is among the leads listed (user ids, or user groups `S…` and their members,
# as the workspace given knows them).
Listed = Callable[[str, Iterable[str], str], Awaitable[bool]]


@dataclass(frozen=True)
class WorkspaceSettings:
    team_id: str
    leads_channel: str
    lead_users: tuple[str, ...]


class Workspaces:
    def __init__(
        self,
        db: Database,
        *,
        leads_channel: str,
        lead_users: Iterable[str],
        listed: Listed,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._leads_channel = leads_channel
        self._lead_users = tuple(lead_users)
        self._listed = listed
        self._clock = clock
        self._memo: dict[str, tuple[float, WorkspaceSettings]] = {}

    async def settings(self, team_id: str) -> WorkspaceSettings:
        """Workspace `team_id`'s settings (read at most once a minute)."""
        memo = self._memo.get(team_id)
        if memo is not None and self._clock() - memo[0] < MEMO_SECONDS:
            return memo[1]
        row = await workspace_rows.load(self._db, team_id)
        found = WorkspaceSettings(
            team_id,
            (row.leads_channel if row else "") or self._leads_channel,
            tuple(row.lead_users if row else ()) or self._lead_users,
        )
        self._memo[team_id] = (self._clock(), found)
        return found

    async def lead_users(self, team_id: str) -> tuple[str, ...]:
        """Workspace `team_id`'s leads: user ids, and user groups (S...)."""
        return (await self.settings(team_id)).lead_users

    async def leads_channel(self, team_id: str) -> str:
        """Where workspace `team_id`'s leads are told of escalations and alerts."""
        return (await self.settings(team_id)).leads_channel

    async def is_lead(self, team_id: str, user_id: str) -> bool:
        """Whether `user_id` is a lead of workspace `team_id` (a lead of another workspace is
        not one here)."""
        return bool(user_id) and await self._listed(
            user_id, (await self.settings(team_id)).lead_users, team_id
        )

    async def adopt(self, team_id: str) -> None:
        """The single workspace's start: its row from the process's settings, and the rows
        stored without a team made its own (idempotent; nothing to do once done)."""
        adopted = await workspace_rows.adopt(
            self._db, team_id, self._leads_channel, list(self._lead_users)
        )
        self._memo.pop(team_id, None)
        if adopted:
            log.info(
                "workspace %s adopted %d rows stored before teams were recorded", team_id, adopted
            )
