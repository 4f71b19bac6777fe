"""Who is asking: the confirmed email of a member's Slack profile (or a lead's manual link),
and lead status.

A profile email is an identity only when the workspace vouches for it: the user is a full
member of the team that installed the bot (not a guest, not a user of another team seen through
a shared channel) and Slack has confirmed the address. Anyone can type any address into a
profile of their own workspace, so everyone else needs a lead's link (customer_link).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack_clients import SlackClients, WorkspaceNotInstalled
from bot.store.models import CustomerLink

log = logging.getLogger(__name__)
_CACHE_SECONDS = 300.0
# A workspace's leads (user and group ids), by team id.
LeadsOf = Callable[[str], Awaitable[Iterable[str]]]


@dataclass(frozen=True)
class InstallingTeam:
    """The workspace (and, for an org-wide install, the Enterprise Grid org) of the bot's
    token, from auth.test: not the event's own team_id, which a shared channel's sender sets."""

    team_id: str
    enterprise_id: str | None = None


def vouched_email(user: dict[str, Any], team: InstallingTeam) -> str | None:
    """The profile email of `user` (a users.info user object), if it identifies them: a full,
    active member of `team` whose address Slack confirmed; otherwise None."""
    if (
        user.get("deleted")
        or user.get("is_bot")
        or user.get("is_stranger")  # another team's user, seen through a shared channel
        or user.get("is_restricted")  # multi-channel guest
        or user.get("is_ultra_restricted")  # single-channel guest
        or user.get("is_email_confirmed") is not True
        or not _member_of(user, team)
    ):
        return None
    email = (user.get("profile") or {}).get("email")
    return str(email).lower() if email else None


def _member_of(user: dict[str, Any], team: InstallingTeam) -> bool:
    grid = user.get("enterprise_user") or {}
    if team.enterprise_id is not None:  # org-wide install: any workspace of the org
        return bool(grid) and grid.get("enterprise_id") == team.enterprise_id
    if user.get("team_id") != team.team_id:
        return False
    # A Grid user whose workspaces do not include ours is not our member.
    return not grid or team.team_id in (grid.get("teams") or [])


@dataclass(frozen=True)
class Asker:
    user_id: str
    email: str | None
    is_lead: bool
    name: str = ""


class IdentityResolver:
    """Resolves a Slack user to an `Asker`, caching profile lookups for a few minutes.

    Slack is asked with the client of the workspace the question comes from (`clients`: the
    one bot token, or each installed workspace's own); a user, a user group and the installing
    team are remembered per workspace."""

    def __init__(
        self,
        clients: SlackClients | None,
        leads: list[str],
        known_emails: dict[str, str] | None = None,
    ) -> None:
        self._clients = clients
        self._leads = set(leads)
        # Emails known without Slack (the terminal `supportbot chat` user).
        self._known = dict(known_emails or {})
        self._cache: dict[tuple[str, str], tuple[float, str | None, str]] = {}
        self._groups: dict[tuple[str, str], tuple[float, set[str]]] = {}
        self._teams: dict[str, InstallingTeam] = {}
        self._leads_of: LeadsOf | None = None

    async def _client(self, team_id: str) -> AsyncWebClient | None:
        """The client that speaks for the bot in workspace `team_id`; None without Slack or
        when the workspace has no installation (then no profile is trusted)."""
        if self._clients is None:
            return None
        try:
            return await self._clients.for_team(team_id)
        except WorkspaceNotInstalled:
            return None

    def per_workspace(self, leads_of: LeadsOf) -> None:
        """Who leads a workspace comes from `leads_of` (`Workspaces.lead_users`) from now on,
        for `resolve(..., team_id=)`; set once, when `Workspaces` is built on this resolver."""
        self._leads_of = leads_of

    async def is_lead(self, user_id: str, team_id: str = "") -> bool:
        """A lead is listed in SUPPORTBOT_LEAD_USERS by user id, or is in a listed user group
        (an id starting with S; its members are looked up with usergroups.users.list)."""
        return await self.listed(user_id, self._leads, team_id)

    async def listed(self, user_id: str, leads: Iterable[str], team_id: str = "") -> bool:
        """Whether `user_id` is in `leads`: by user id, or as a member of a user group listed
        (an id starting with S) in workspace `team_id`. A workspace's own list
        (`bot/workspaces.py`)."""
        leads = set(leads)
        if user_id in leads:
            return True
        for group in (g for g in leads if g.startswith("S")):
            if user_id in await self._group_members(group, team_id):
                return True
        return False

    async def _group_members(self, group_id: str, team_id: str) -> set[str]:
        cached = self._groups.get((team_id, group_id))
        if cached and time.monotonic() - cached[0] < _CACHE_SECONDS:
            return cached[1]
        members: set[str] = set()
        client = await self._client(team_id)
        if client is not None:
            try:
                resp = await client.usergroups_users_list(usergroup=group_id)
                members = {str(u) for u in resp.get("users") or []}
            except SlackApiError as exc:
                log.warning("usergroups.users.list failed: %s", exc.response.get("error"))
                return cached[1] if cached else set()
        self._groups[(team_id, group_id)] = (time.monotonic(), members)
        return members

    async def resolve(
        self, user_id: str, link: CustomerLink | None, *, team_id: str | None = None
    ) -> Asker:
        """`link` is the user's row in customer_link (a lead's manual link, see
        `bot.store.customers.load_link`);
        when there is one, its email wins over the Slack profile's. A lead is a lead of
        workspace `team_id` (None, or no `per_workspace`: of SUPPORTBOT_LEAD_USERS)."""
        email, name = await self._profile(user_id, team_id or "")
        if link is not None:
            email = link.email
        if team_id is None or self._leads_of is None:
            is_lead = await self.is_lead(user_id)
        else:
            is_lead = await self.listed(user_id, await self._leads_of(team_id), team_id)
        return Asker(user_id=user_id, email=email, is_lead=is_lead, name=name)

    async def _profile(self, user_id: str, team_id: str) -> tuple[str | None, str]:
        if user_id in self._known:
            return self._known[user_id], user_id
        cached = self._cache.get((team_id, user_id))
        if cached and time.monotonic() - cached[0] < _CACHE_SECONDS:
            return cached[1], cached[2]
        client = await self._client(team_id)
        team = await self.installing_team(team_id)
        if client is None or team is None:
            return None, ""
        try:
            resp = await client.users_info(user=user_id)
        except SlackApiError as exc:
            log.warning("users.info failed for a user: %s", exc.response.get("error"))
            return None, ""
        user = resp.get("user") or {}
        profile = user.get("profile") or {}
        name = profile.get("display_name") or profile.get("real_name") or user.get("name") or ""
        email = vouched_email(user, team)
        self._cache[(team_id, user_id)] = (time.monotonic(), email, name)
        return email, name

    async def installing_team(self, team_id: str = "") -> InstallingTeam | None:
        """auth.test's team, as the bot's token in workspace `team_id` answers it (asked once
        per workspace); None (no profile is trusted) while Slack cannot say."""
        found = self._teams.get(team_id)
        client = await self._client(team_id) if found is None else None
        if client is not None:
            try:
                resp = await client.auth_test()
            except SlackApiError as exc:
                log.warning("auth.test failed: %s", exc.response.get("error"))
                return None
            enterprise = resp.get("enterprise_id") if resp.get("is_enterprise_install") else None
            found = InstallingTeam(str(resp.get("team_id") or ""), enterprise or None)
            self._teams[team_id] = found
        return found
