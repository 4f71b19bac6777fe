"""App Home: leads see their workspace's open escalations, oldest first."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.listeners.interactions import team_of
from bot.services import Services
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
        await client.views_publish(user_id=user, view=home_view(is_lead, items))
