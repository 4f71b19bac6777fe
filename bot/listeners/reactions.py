"""Reactions staff put on a ticket's messages: ✅ (`white_check_mark`) resolves it, 👀 (`eyes`)
takes it (the reacting user becomes its owner).

Only staff count: leads of the installing workspace, and its members (or its enterprise's)
who are not customers of that conversation. A customer's reaction, from another organisation
in a Slack Connect channel or their own in a DM, changes nothing. The message is found as a
stored message of a conversation, else as the root of a conversation's thread."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.listeners.interactions import team_of
from bot.services import Services
from bot.sla.lifecycle import TicketEvent
from bot.slack_origin import EventOrigin
from bot.store import ticket_items

log = logging.getLogger(__name__)

REACTIONS = {"white_check_mark": TicketEvent.RESOLVED, "eyes": TicketEvent.OWNED}


async def _team_of_user(client: AsyncWebClient, user_id: str) -> str | None:
    """The user's own team as Slack says (their organisation's `E…` on a Grid), None when
    Slack cannot say."""
    try:
        user = (await client.users_info(user=user_id)).get("user") or {}
    except SlackApiError as exc:
        log.warning("users.info failed for a reacting user: %s", exc.response.get("error"))
        return None
    team = user.get("team_id") or user.get("team")
    return team if isinstance(team, str) and team else None


async def is_staff(
    services: Services,
    client: AsyncWebClient,
    context: AsyncBoltContext,
    user_id: str,
    item: ticket_items.Item,
) -> bool:
    """A lead of the workspace; or a member of it (or of its enterprise) who is not one of
    this conversation's customers."""
    if await services.workspaces.is_lead(item.team_id, user_id):
        return True
    if item.by_customer:
        return False
    origin = EventOrigin(
        installing_team=item.team_id,
        installing_enterprise=context.enterprise_id or None,
        sender_team=await _team_of_user(client, user_id),
        shared=False,
    )
    return origin.sender_is_staff()


def register(app: AsyncApp, services: Services) -> None:
    @app.event("reaction_added")
    async def on_reaction(
        event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        ticket_event = REACTIONS.get(str(event.get("reaction") or ""))
        item, user = event.get("item") or {}, event.get("user")
        if ticket_event is None or item.get("type") != "message" or not isinstance(user, str):
            return
        channel, ts = str(item.get("channel") or ""), str(item.get("ts") or "")
        found = await ticket_items.item_of(services.db, channel, ts, user)
        if found is None or found.team_id != team_of(context):
            return
        if not await is_staff(services, client, context, user, found):
            return
        at = services.clock()
        if ticket_event is TicketEvent.RESOLVED:
            await services.tickets.resolved(found.conversation_id, user, at)
        else:
            await services.tickets.owned(found.conversation_id, user, at)
