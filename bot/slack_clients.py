"""The Slack Web API client of each workspace the bot serves.

In single-workspace mode (`SLACK_BOT_TOKEN`) one client serves every team: `SingleWorkspace`.
With Slack's install flow each team has its own bot token, found in the installation store
(docs/issue-15-plan.md §3). Tokens are never logged, and never part of an error's text.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from slack_sdk.oauth.installation_store import Bot
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import SupportbotError


class BotStore(Protocol):
    """What a workspace's token is read from (`bot.install.Installations`, slack_sdk's store):
    a bot found by both ids, and the Enterprise Grid org of a workspace to find it by."""

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None: ...

    async def enterprise_of(self, team_id: str) -> str | None: ...


class WorkspaceNotInstalled(SupportbotError):
    """The bot has no installation (no token) in this team: uninstalled, or never installed."""

    def __init__(self, team_id: str) -> None:
        super().__init__(f"supportbot is not installed in Slack team {team_id or '(none)'}")
        self.team_id = team_id


class SlackClients(Protocol):
    async def for_team(self, team_id: str) -> AsyncWebClient:
        """The client that speaks for the bot in `team_id`; raises `WorkspaceNotInstalled`."""
        ...

    async def token_for(self, team_id: str) -> str:
        """The bot token of `team_id` (for downloading files); raises `WorkspaceNotInstalled`."""
        ...

    def evict(self, team_id: str) -> None:
        """Forget what is cached of `team_id` (its token was revoked or rotated)."""
        ...


class SingleWorkspace:
    """One bot token, one workspace: its client answers for any team a stored row names (rows
    stored before teams were recorded name none)."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def for_team(self, team_id: str) -> AsyncWebClient:
        return self._client

    async def token_for(self, team_id: str) -> str:
        if not self._client.token:
            raise WorkspaceNotInstalled(team_id)
        return self._client.token

    def evict(self, team_id: str) -> None:
        """Nothing to forget: the one token comes from the settings."""


# How long a team's token found in the installation store is used before it is looked up again
# (a reinstall's new token is taken within this; an uninstall evicts it at once).
TOKEN_CACHE_SECONDS = 60.0


def with_token(base: AsyncWebClient, token: str) -> AsyncWebClient:
    """A client like `base` (its class, API URL, connection pool, retries) with another token."""
    return type(base)(
        token=token,
        base_url=base.base_url,
        session=base.session,
        timeout=base.timeout,
        retry_handlers=base.retry_handlers,
    )


class InstalledWorkspaces:
    """Slack's install flow: each team's bot token from the installation store (`find_bot`),
    kept for TOKEN_CACHE_SECONDS per team and forgotten when the team's installation is
    deleted (uninstall, revoked tokens: `evict`)."""

    def __init__(
        self,
        store: BotStore,
        base: AsyncWebClient,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self._base = base
        self._clock = clock
        self._tokens: dict[str, tuple[str, float]] = {}  # team -> (token, good until)
        self._clients: dict[str, AsyncWebClient] = {}  # token -> its client

    async def for_team(self, team_id: str) -> AsyncWebClient:
        token = await self.token_for(team_id)
        client = self._clients.get(token)
        if client is None:
            client = self._clients[token] = with_token(self._base, token)
        return client

    async def token_for(self, team_id: str) -> str:
        cached = self._tokens.get(team_id)
        if cached is not None and cached[1] > self._clock():
            return cached[0]
        bot = None
        if team_id:
            enterprise = await self.store.enterprise_of(team_id)
            bot = await self.store.async_find_bot(enterprise_id=enterprise, team_id=team_id)
        if bot is None or not bot.bot_token:
            self.evict(team_id)
            raise WorkspaceNotInstalled(team_id)
        self._tokens[team_id] = (bot.bot_token, self._clock() + TOKEN_CACHE_SECONDS)
        return bot.bot_token

    def evict(self, team_id: str) -> None:
        cached = self._tokens.pop(team_id, None)
        if cached is not None:
            self._clients.pop(cached[0], None)


async def file_token(clients: SlackClients | None, team_id: str) -> str:
    """The bot token the files of `team_id` are downloaded with: its workspace's; '' without
    Slack clients or when the workspace has no installation (the download fails politely)."""
    if clients is None:
        return ""
    try:
        return await clients.token_for(team_id)
    except WorkspaceNotInstalled:
        return ""
