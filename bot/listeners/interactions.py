"""Reading a Slack interaction (a button click, a form, a slash command): who sent it and
where; and the private note that answers one."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient


def requester(body: dict[str, Any]) -> str:
    """Who sent a request: an interaction's user, or a slash command's."""
    user = body.get("user")
    return str(user.get("id") or "") if isinstance(user, dict) else str(body.get("user_id") or "")


def team_of(context: AsyncBoltContext) -> str:
    """The workspace a request came from: the installing team, as Bolt read it
    (`authorizations[0]` of an event, `team` of an interaction or a slash command, or, in OAuth
    mode, the channel's workspace for a click from an organisation that has not installed the
    app: `bot.install.ChannelAwareAuthorize`); never the sender's own team of an event, which
    in a Slack Connect channel is another organisation."""
    return context.team_id or ""


def from_installing_team(body: dict[str, Any], context: AsyncBoltContext) -> bool:
    """Whether the person acting belongs to the workspace the request came from (or its
    organisation): an interaction names the actor's own team (`user.team_id`), another
    organisation's for an outside member of a Slack Connect channel. A slash command names
    only the team it was run from, its own installation's (`team_id`): in a shared channel it
    is refused by the shared-channel check instead."""
    user = body.get("user")
    actor = user.get("team_id") if isinstance(user, dict) else None
    if not actor:
        return True  # a slash command: the payload's team is the installation's
    return actor in {context.team_id, context.enterprise_id} - {None, ""}


def where_asked(body: dict[str, Any]) -> str:
    """The channel a slash command was run in, or whose message's button was clicked."""
    return str(body.get("channel_id") or "") or where_clicked(body)[0]


def where_clicked(body: dict[str, Any]) -> tuple[str, str]:
    """The channel and the ts of the message whose button was clicked ("" when unknown)."""
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id") or ""
    return str(channel), str(container.get("message_ts") or "")


async def tell_privately(client: AsyncWebClient, body: dict[str, Any], text: str) -> None:
    """A note only the clicker sees, where they clicked (in the message's thread, if any)."""
    channel = where_clicked(body)[0]
    thread_ts = (body.get("message") or {}).get("thread_ts")
    if channel:
        await client.chat_postEphemeral(
            channel=channel, user=requester(body), text=text, thread_ts=thread_ts
        )
