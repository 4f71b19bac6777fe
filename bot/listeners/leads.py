"""What only support leads may do, checked in one place: a Bolt listener middleware.

A lead's request goes on to its listener; anyone else's is acknowledged with a polite refusal in
the form its surface expects: a private note where the button was clicked, an error under the
field of a form (the form stays open), a private reply to a slash command."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.listeners.interactions import requester, team_of, tell_privately
from bot.workspaces import Workspaces

LeadsOnly = Callable[..., Awaitable[BoltResponse | None]]


def leads_only(workspaces: Workspaces, refusal: str, *, form_field: str = "") -> LeadsOnly:
    """The middleware for a listener only leads may use: leads of the workspace the request
    comes from (Bolt's `context.team_id`). `form_field`, for a form, is the block the refusal
    is shown under."""

    async def check(
        ack: AsyncAck,
        body: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
        next_: Callable[[], Any],
    ) -> BoltResponse | None:
        if await workspaces.is_lead(team_of(context), requester(body)):
            await next_()
            return None
        if body.get("type") == "view_submission":
            return await ack(response_action="errors", errors={form_field: refusal})
        if body.get("command"):
            return await ack(response_type="ephemeral", text=refusal)
        response = await ack()
        await tell_privately(client, body, refusal)
        return response

    return check
