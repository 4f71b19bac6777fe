"""The two ways supportbot is installed in Slack, and Slack's install flow (OAuth mode).

- **Single workspace** (`SLACK_BOT_TOKEN`): one bot token from the settings, as always.
- **Several workspaces** (`SLACK_CLIENT_ID` and `SLACK_CLIENT_SECRET`, no bot token): Bolt's
  `/slack/install` and `/slack/oauth_redirect` install the app in a workspace, and each
  workspace's bot token is kept in slack_sdk's tables on the bot's own database
  (`bot/store/installations.py`, docs/issue-15-plan.md §3).

Bolt reads SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_SCOPES from the environment when it
is not given them: they are always passed from `Settings` here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import log_privacy
from bot.errors import ConfigError
from bot.slack_clients import InstalledWorkspaces, SingleWorkspace, SlackClients
from bot.store import workspace_rows
from bot.store.installations import InstallTable

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncApp

    from bot.config import Settings

log = logging.getLogger(__name__)

# The bot scopes the install flow asks for: manifest.yml's (tests/test_manifest.py checks).
BOT_SCOPES = (
    "app_mentions:read",
    "channels:history",
    "groups:history",
    "im:history",
    "chat:write",
    "users:read",
    "users:read.email",
    "commands",
    "assistant:write",
    "files:read",
    "files:write",
    "usergroups:read",
    "reactions:read",
    "channels:read",
    "groups:read",
    "team:read",
)
# An install attempt's state is good for this long (Slack's approval page is quick).
STATE_SECONDS = 600


class Revocation(StrEnum):
    """Slack's events for an app removed from a workspace, or its tokens revoked."""

    APP_UNINSTALLED = "app_uninstalled"
    TOKENS_REVOKED = "tokens_revoked"


class SlackMode(StrEnum):
    SINGLE = "single"  # SLACK_BOT_TOKEN
    OAUTH = "oauth"  # SLACK_CLIENT_ID + SLACK_CLIENT_SECRET, Slack's install flow


_NO_BOT_TOKEN = (
    "SLACK_BOT_TOKEN is not set. Create the app from manifest.yml at "
    "https://api.slack.com/apps, install it to your workspace, and copy the "
    "'Bot User OAuth Token' (xoxb-...) from the app's 'OAuth & Permissions' page "
    "(or, to serve several workspaces, set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET instead)."
)
_NO_SIGNING_SECRET = (
    "SLACK_SIGNING_SECRET is not set. Copy the 'Signing Secret' from the app's "
    "'Basic Information' page at https://api.slack.com/apps (or set SLACK_APP_TOKEN, "
    "an xapp- token with connections:write, to use Socket Mode)."
)
_BOTH_MODES = (
    "SLACK_BOT_TOKEN and SLACK_CLIENT_ID/SLACK_CLIENT_SECRET are both set: choose one. "
    "SLACK_BOT_TOKEN serves one workspace; SLACK_CLIENT_ID with SLACK_CLIENT_SECRET serves "
    "every workspace that installs the app through /slack/install. Unset the other."
)
_HALF_OAUTH = (
    "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET go together (both from the app's 'Basic "
    "Information' page at https://api.slack.com/apps); only one of them is set."
)


def _oauth_parts(settings: Settings) -> tuple[bool, bool]:
    return bool(settings.slack_client_id), bool(settings.slack_client_secret)


def slack_mode(settings: Settings) -> SlackMode:
    """OAuth mode with a client id and secret and no bot token; single mode otherwise."""
    if all(_oauth_parts(settings)) and not settings.slack_bot_token:
        return SlackMode.OAUTH
    return SlackMode.SINGLE


def slack_problems(settings: Settings) -> list[str]:
    """What serving Slack needs and is not set (or is set twice), saying where to find it."""
    problems = []
    oauth = _oauth_parts(settings)
    if settings.slack_bot_token and any(oauth):
        problems.append(_BOTH_MODES)
    elif any(oauth) and not all(oauth):
        problems.append(_HALF_OAUTH)
    elif not settings.slack_bot_token and not any(oauth):
        problems.append(_NO_BOT_TOKEN)
    if not (settings.slack_app_token or settings.slack_signing_secret):
        problems.append(_NO_SIGNING_SECRET)
    return problems


def check_mode(settings: Settings) -> SlackMode:
    """The mode, refusing a bot token and OAuth credentials both set (words naming both)."""
    if settings.slack_bot_token and any(_oauth_parts(settings)):
        raise ConfigError(_BOTH_MODES)
    return slack_mode(settings)


class Installations(AsyncSQLAlchemyInstallationStore):
    """slack_sdk's store on the bot's engine. Every token it saves or finds is remembered by
    the log masking (Bolt's authorize debug-logs what the store answers). An install writes the
    workspace's row (its name; the installer as its first lead), and a deletion (an uninstall,
    a revocation) marks the row and tells the listeners (the cached clients)."""

    def __init__(self, client_id: str, engine: AsyncEngine) -> None:
        super().__init__(
            client_id=client_id,
            engine=engine,
            bots_table_name=InstallTable.BOTS.value,
            installations_table_name=InstallTable.INSTALLATIONS.value,
        )
        self.on_delete: list[Callable[[str], None]] = []

    async def async_save(self, installation: Installation) -> None:
        _remember(installation.bot_token, installation.user_token)
        await super().async_save(installation)
        if installation.team_id:
            await workspace_rows.installed(
                self.engine,
                installation.team_id,
                name=installation.team_name or "",
                enterprise_id=installation.enterprise_id,
                installer=installation.user_id or "",
            )

    async def async_find_bot(self, **kwargs: Any) -> Bot | None:
        bot = await super().async_find_bot(**kwargs)
        if bot is not None:
            _remember(bot.bot_token)
        return bot

    async def async_find_installation(self, **kwargs: Any) -> Installation | None:
        found = await super().async_find_installation(**kwargs)
        if found is not None:
            _remember(found.bot_token, found.user_token)
        return found

    async def async_delete_bot(self, **kwargs: Any) -> None:
        await super().async_delete_bot(**kwargs)
        team_id = kwargs.get("team_id")
        if team_id:  # the bot's token is gone: the workspace is no longer served
            await workspace_rows.uninstalled(self.engine, team_id)
        self._deleted(team_id)

    async def async_delete_installation(self, **kwargs: Any) -> None:
        await super().async_delete_installation(**kwargs)
        self._deleted(kwargs.get("team_id"))

    async def enterprise_of(self, team_id: str) -> str | None:
        """The Enterprise Grid org of workspace `team_id`'s newest bot install (None outside
        Grid): slack_sdk finds a bot by both ids, and a Grid workspace's has its org's."""
        bots = self.bots
        query = (
            select(bots.c.enterprise_id)
            .where(bots.c.client_id == self.client_id, bots.c.team_id == team_id)
            .order_by(bots.c.installed_at.desc())
            .limit(1)
        )
        async with self.engine.connect() as conn:
            return (await conn.execute(query)).scalar()

    def _deleted(self, team_id: str | None) -> None:
        for listener in self.on_delete:
            listener(team_id or "")


def _remember(*tokens: str | None) -> None:
    log_privacy.remember(*(t for t in tokens if t))


def oauth_settings(settings: Settings, store: Installations, engine: AsyncEngine) -> Any:
    """Bolt's install flow: our store, a state store on the same engine, everything passed
    explicitly (never read from the environment by Bolt)."""
    return AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        redirect_uri=settings.slack_redirect_uri or None,
        install_page_rendering_enabled=False,
        installation_store=store,
        installation_store_bot_only=True,
        state_store=AsyncSQLAlchemyOAuthStateStore(
            expiration_seconds=STATE_SECONDS,
            engine=engine,
            table_name=InstallTable.OAUTH_STATES.value,
        ),
        state_expiration_seconds=STATE_SECONDS,
    )


class ChannelAwareAuthorize(AsyncInstallationStoreAuthorize):
    """Bolt's authorize by installation, and for a request from a team that has not installed
    the app, the team the channel is served for.

    In a Slack Connect channel a click on the bot's buttons by the customer's own people (👍 or
    👎 under an answer) names *their* organisation in `team`, which never installed the app:
    Bolt would refuse the click. Such a request is authorized as the workspace whose
    conversation the channel holds, and Bolt's context then names that workspace
    (`context.team_id`), as it does for an event (`authorizations[0]`)."""

    async def __call__(self, *, context: Any, **ids: Any) -> AuthorizeResult | None:
        found = await super().__call__(context=context, **ids)
        if found is not None or not context.channel_id:
            return found
        assert isinstance(self.installation_store, Installations)
        store = self.installation_store
        owner = await workspace_rows.team_of_channel(store.engine, context.channel_id)
        if owner is None or owner == ids.get("team_id"):
            return None
        enterprise = await store.enterprise_of(owner)
        found = await super().__call__(
            context=context, **(ids | {"team_id": owner, "enterprise_id": enterprise})
        )
        if found is not None:
            context["team_id"], context["enterprise_id"] = owner, enterprise
        return found


def authorize(settings: Settings, store: Installations) -> AsyncInstallationStoreAuthorize:
    """Each request's bot token from the store (find_bot), auth.test's answer cached per token;
    a channel's own workspace for a click from another organisation (ChannelAwareAuthorize)."""
    return ChannelAwareAuthorize(
        logger=logging.getLogger("slack_bolt"),
        installation_store=store,
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        bot_only=True,
        cache_enabled=True,
    )


def workspace_clients(
    settings: Settings, engine: AsyncEngine, slack: AsyncWebClient
) -> SlackClients:
    """The clients the bot speaks through: the one of SLACK_BOT_TOKEN, or (OAuth mode) each
    installed team's, from the installation store, forgotten when an installation is deleted."""
    if check_mode(settings) is SlackMode.SINGLE:
        return SingleWorkspace(slack)
    store = Installations(settings.slack_client_id, engine)
    workspaces = InstalledWorkspaces(store, slack)
    store.on_delete.append(workspaces.evict)
    return workspaces


def bolt_oauth(
    settings: Settings, clients: SlackClients | None, engine: AsyncEngine
) -> dict[str, Any]:
    """Bolt's app arguments for OAuth mode (none in single mode): the store, authorize by
    `find_bot` (as the flow saves), and the install flow's settings."""
    if not isinstance(clients, InstalledWorkspaces) or not isinstance(clients.store, Installations):
        return {}
    return {
        "installation_store": clients.store,
        "installation_store_bot_only": True,
        "authorize": authorize(settings, clients.store),
        "oauth_settings": oauth_settings(settings, clients.store, engine),
    }


def listen_for_revocations(app: AsyncApp) -> None:
    """OAuth mode: Bolt's listeners delete the workspace's installation. Single mode: nothing
    to delete, but the operator hears that SLACK_BOT_TOKEN stops working (and Slack gets its
    200 rather than Bolt's 404 for an unhandled event)."""
    if app.oauth_flow is not None:
        app.enable_token_revocation_listeners()
        return

    async def revoked(event: dict[str, Any], body: dict[str, Any]) -> None:
        log.warning(
            "Slack sent %s for team %s: SLACK_BOT_TOKEN may no longer work",
            event.get("type"),
            body.get("team_id"),
        )

    for kind in Revocation:
        app.event(kind.value)(revoked)
