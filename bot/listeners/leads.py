"""What only support leads may do, checked in one place: a Bolt listener middleware.

A lead's request goes on to its listener; anyone else's is acknowledged with a polite refusal in
the form its surface expects: a private note where the button was clicked, an error under the
field of a form (the form stays open), a private reply to a slash command.

These surfaces are internal only (issue 15, item 3): a request from a user of another
organisation (the actor's own team is not the installation's, even when a lead list names
them by mistake) is refused, and so is one made in a channel shared with another organisation,
where a report, a chart or a note would be internal information in the customer's sight."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.accounts.views import ChannelDirectory
from bot.listeners.interactions import (
    from_installing_team,
    requester,
    team_of,
    tell_privately,
    where_asked,
)
from bot.workspaces import Workspaces

LeadsOnly = Callable[..., Awaitable[BoltResponse | None]]

NOT_FROM_HERE = "Sorry, only support leads of this workspace can do this."
IN_SHARED_CHANNEL = (
    "Sorry, I can't do that in a channel shared with another organisation. Please use it in"
    " one of your own workspace's channels or in App Home."
)


async def why_refused(
    workspaces: Workspaces,
    channels: ChannelDirectory,
    body: dict[str, Any],
    context: AsyncBoltContext,
    refusal: str,
) -> str | None:
    """None for a lead of the workspace, acting from it, outside shared channels; else the
    refusal to show."""
    team = team_of(context)
    if not await workspaces.is_lead(team, requester(body)):
        return refusal
    if not from_installing_team(body, context):
        return NOT_FROM_HERE
    channel = where_asked(body)
    if channel and await channels.is_shared(team, channel):
        return IN_SHARED_CHANNEL
    return None


def leads_only(
    workspaces: Workspaces, channels: ChannelDirectory, refusal: str, *, form_field: str = ""
) -> LeadsOnly:
    """The middleware for a listener only leads may use: leads of the workspace the request
    comes from (Bolt's `context.team_id`), who belong to it, outside shared channels.
    `form_field`, for a form, is the block the refusal is shown under."""

    async def check(
        ack: AsyncAck,
        body: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
        next_: Callable[[], Any],
    ) -> BoltResponse | None:
        refused = await why_refused(workspaces, channels, body, context, refusal)
        if refused is None:
            await next_()
            return None
        if body.get("type") == "view_submission":
            return await ack(response_action="errors", errors={form_field: refused})
        if body.get("command"):
            return await ack(response_type="ephemeral", text=refused)
        response = await ack()
        await tell_privately(client, body, refused)
        return response

    return check
