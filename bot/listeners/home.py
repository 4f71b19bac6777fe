"""App Home: leads see their workspace's open escalations, oldest first, then the tickets at
risk or breached and the ones they own (`bot/sla/home.py`), then its shared channels to map and
its accounts (and a warning first when the leads channel is shared with another organisation,
where nothing is posted)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.home_blocks import accounts_section, channels_section, shared_leads_channel_warning
from bot.listeners.interactions import team_of
from bot.services import Services
from bot.sla import report
from bot.sla.home import ticket_blocks
from bot.sla.policy import parse_timezone
from bot.slack_blocks import home_view
from bot.store import escalations, shared_channels
from bot.store.accounts import list_accounts

HOME_BLOCKS = 100  # Slack's most blocks in one view


def register(app: AsyncApp, services: Services) -> None:
    @app.event("app_home_opened")
    async def on_home(
        event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        if event.get("tab") not in (None, "home"):
            return
        user = event.get("user")
        if not isinstance(user, str) or not user:
            return
        await publish_home(services, client, team_of(context), user)


async def publish_home(services: Services, client: AsyncWebClient, team: str, user: str) -> None:
    """`user`'s App Home in workspace `team`, as it is now."""
    is_lead = await services.workspaces.is_lead(team, user)
    items = await escalations.human_owned(services.db, team) if is_lead else []
    view = home_view(is_lead, items)
    if is_lead:
        at_risk = await report.at_risk(services.db, team, services.clock())
        mine = await report.owned_by(services.db, team, user)
        zone = parse_timezone(services.settings.timezone)
        view["blocks"] = [
            *await lead_sections(services, team),
            *view["blocks"][:64],
            *ticket_blocks(at_risk, mine, zone),
            *await account_sections(services, team),
        ][:HOME_BLOCKS]
    await client.views_publish(user_id=user, view=view)


async def lead_sections(services: Services, team: str) -> list[dict[str, Any]]:
    """What leads see before the escalations: the shared leads channel warning, if any."""
    leads_channel = await services.workspaces.leads_channel(team)
    if leads_channel and await services.channels.is_shared(team, leads_channel):
        return shared_leads_channel_warning(leads_channel)
    return []


async def account_sections(services: Services, team: str) -> list[dict[str, Any]]:
    """ "Shared channels to map" and "Accounts", of workspace `team` only."""
    accounts = await shared_channels.accounts_of(services.db, team)
    return [
        *channels_section(await shared_channels.channels_to_map(services.db, team), accounts),
        *accounts_section(await list_accounts(services.db, team)),
    ]
