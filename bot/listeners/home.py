"""App Home: leads see their workspace's open escalations, oldest first, then the tickets at
risk or breached and the ones they own (`bot/sla/home.py`)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.listeners.interactions import team_of
from bot.services import Services
from bot.sla import report
from bot.sla.home import ticket_blocks
from bot.sla.policy import parse_timezone
from bot.slack_blocks import home_view
from bot.store import escalations


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
        team = team_of(context)
        is_lead = await services.workspaces.is_lead(team, user)
        items = await escalations.human_owned(services.db, team) if is_lead else []
        view = home_view(is_lead, items)
        if is_lead:
            at_risk = await report.at_risk(services.db, team, services.clock())
            mine = await report.owned_by(services.db, team, user)
            zone = parse_timezone(services.settings.timezone)
            view["blocks"] = view["blocks"][:64] + ticket_blocks(at_risk, mine, zone)
        await client.views_publish(user_id=user, view=view)
