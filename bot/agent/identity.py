"""Who is asking: the confirmed email of a member's Slack profile (or a lead's manual link),
lead status, and in a Slack Connect channel the customer account (`bot/agent/attribution.py`).

A profile email is an identity only when the workspace vouches for it: the user is a full
member of the team that installed the bot (not a guest, not a user of another team seen through
a shared channel) and Slack has confirmed the address. Anyone can type any address into a
profile of their own workspace, so everyone else needs a lead's link (customer_link).

In a shared channel (a channel the directory knows as shared, or a sender of another team) the
rule is the account's: a sender of a confirmed account's Slack team is its CUSTOMER, any other
external sender is UNATTRIBUTED (no email, no account), and the company's own staff are STAFF
(no lead power: nothing internal is shown in a customer's channel).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.accounts.views import AccountView, ChannelDirectory, SharedChannelView
from bot.agent.attribution import AskerRole, account_of, email_in_account, profile_email
from bot.slack_clients import SlackClients, WorkspaceNotInstalled
from bot.store.models import Conversation, CustomerLink, Message

__all__ = ["Asker", "AskerRole", "IdentityResolver", "InstallingTeam", "vouched_email"]

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
    team_id: str = ""  # the asker's own Slack team, when the message named it
    role: AskerRole = AskerRole.CUSTOMER
    account: AccountView | None = None  # set for a CUSTOMER attributed in a shared channel


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
        channels: ChannelDirectory | None = None,
    ) -> None:
        self._clients = clients
        self._channels = channels  # the shared channels (`services.channels`); None: none
        self._leads = set(leads)
        # Emails known without Slack (the terminal `supportbot chat` user).
        self._known = dict(known_emails or {})
        self._cache: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
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
        self,
        user_id: str,
        link: CustomerLink | None,
        *,
        team_id: str | None = None,
        sender_team: str | None = None,
        channel: SharedChannelView | None = None,
    ) -> Asker:
        """`link` is the user's row in customer_link (a lead's manual link, see
        `bot.store.customers.load_link`); when there is one, its email wins over the Slack
        profile's. A lead is a lead of workspace `team_id` (None, or no `per_workspace`: of
        SUPPORTBOT_LEAD_USERS). `sender_team` is the message's sender's team and `channel` the
        shared channel's view: with either saying "shared", the account rule decides."""
        sender = sender_team or ""
        if channel is not None or await self._is_external(sender, team_id or ""):
            return await self._in_shared_channel(user_id, link, team_id or "", sender, channel)
        email, name = await self._profile(user_id, team_id or "")
        if link is not None:
            email = link.email
        if team_id is None or self._leads_of is None:
            is_lead = await self.is_lead(user_id)
        else:
            is_lead = await self.listed(user_id, await self._leads_of(team_id), team_id)
        role = AskerRole.LEAD if is_lead else AskerRole.CUSTOMER
        return Asker(user_id, email, is_lead, name, team_id=sender, role=role)

    async def resolve_turn(
        self, message: Message, conversation: Conversation, link: CustomerLink | None
    ) -> Asker:
        """`resolve` for a turn: the channel's view comes from the directory (which may ask
        Slack on first sight); a DM is never a shared channel."""
        team_id, channel_id = conversation.team_id, conversation.channel_id
        if channel_id.startswith("D"):  # a DM (a Slack Connect one too) keeps today's rule
            return await self.resolve(message.user_id, link, team_id=team_id)
        channel = None
        if self._channels is not None:
            channel = await self._channels.channel(team_id, channel_id)
        return await self.resolve(
            message.user_id,
            link,
            team_id=team_id,
            sender_team=message.sender_team_id,
            channel=channel,
        )

    async def _is_external(self, sender_team: str, team_id: str) -> bool:
        """Whether the sender's team is another organisation than the installing workspace."""
        if not sender_team or not team_id or sender_team == team_id:
            return False
        team = await self.installing_team(team_id)
        return team is None or sender_team not in {team.team_id, team.enterprise_id}

    async def _in_shared_channel(
        self,
        user_id: str,
        link: CustomerLink | None,
        team_id: str,
        sender_team: str,
        channel: SharedChannelView | None,
    ) -> Asker:
        user = await self._user(user_id, team_id)
        name = _name(user)
        if not await self._is_external(sender_team, team_id):
            # The company's own people: not customers here, and no lead power in a
            # customer's channel (whatever the bot says there, the customer reads).
            return Asker(user_id, None, False, name, team_id=sender_team, role=AskerRole.STAFF)
        account = account_of(channel, sender_team)
        if account is None:
            role = AskerRole.UNATTRIBUTED
            return Asker(user_id, None, False, name, team_id=sender_team, role=role)
        email = profile_email(user, account)
        if link is not None:
            email = email_in_account(link.email, account)
        return Asker(
            user_id, email, False, name, sender_team, role=AskerRole.CUSTOMER, account=account
        )

    async def _profile(self, user_id: str, team_id: str) -> tuple[str | None, str]:
        if user_id in self._known:
            return self._known[user_id], user_id
        team = await self.installing_team(team_id)
        user = await self._user(user_id, team_id) if team is not None else None
        if user is None or team is None:
            return None, ""
        return vouched_email(user, team), _name(user)

    async def _user(self, user_id: str, team_id: str) -> dict[str, Any] | None:
        """users.info's user, remembered for a few minutes; None when Slack cannot say."""
        cached = self._cache.get((team_id, user_id))
        if cached and time.monotonic() - cached[0] < _CACHE_SECONDS:
            return cached[1]
        client = await self._client(team_id)
        if client is None:
            return None
        try:
            resp = await client.users_info(user=user_id)
        except SlackApiError as exc:
            log.warning("users.info failed for a user: %s", exc.response.get("error"))
            return None
        user = resp.get("user") or {}
        self._cache[(team_id, user_id)] = (time.monotonic(), user)
        return user

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


def _name(user: dict[str, Any] | None) -> str:
    profile = (user or {}).get("profile") or {}
    return str(
        profile.get("display_name") or profile.get("real_name") or (user or {}).get("name") or ""
    )
