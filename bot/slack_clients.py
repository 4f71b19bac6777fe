"""The Slack Web API client of each workspace the bot serves.

In single-workspace mode (`SLACK_BOT_TOKEN`) one client serves every team: `SingleWorkspace`.
With Slack's install flow each team has its own bot token, found in the installation store
(docs/issue-15-plan.md §3). Tokens are never logged, and never part of an error's text.
"""

from __future__ import annotations

from typing import Protocol

from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import SupportbotError


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
