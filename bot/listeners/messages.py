"""Message surfaces: @mentions, DMs, and replies in threads the bot takes part in.

Thin on purpose: filter, store the message as pending work, hand it to the worker, return.
The answer happens in the background, never inside Slack's 3-second acknowledgement.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext

from bot.services import Services
from bot.store import queries
from bot.store.queries import Inbound

log = logging.getLogger(__name__)

# Subtypes that carry a customer's words; edits, deletes, joins, bot posts... are ignored.
_ANSWERED_SUBTYPES = {None, "file_share", "thread_broadcast"}


def strip_mentions(text: str, bot_user_id: str | None) -> str:
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(\|[^>]*)?>", " ", text)
    return " ".join(text.split()) if text.strip() else ""


def inbound_from(
    body: dict[str, Any], event: dict[str, Any], bot_user_id: str | None
) -> Inbound | None:
    """The customer message in a Slack event, or None when the bot must not answer it."""
    if event.get("subtype") not in _ANSWERED_SUBTYPES:
        return None
    user = event.get("user")
    if not user or event.get("bot_id") or user == bot_user_id:
        return None
    channel, ts = event.get("channel"), event.get("ts")
    if not channel or not ts:
        return None
    return Inbound(
        team_id=str(body.get("team_id") or event.get("team") or ""),
        channel_id=str(channel),
        thread_ts=str(event.get("thread_ts") or ts),
        user_id=str(user),
        text=strip_mentions(str(event.get("text") or ""), bot_user_id),
        ts=str(ts),
        event_id=str(body.get("event_id") or ""),
        event_type=str(event.get("type") or ""),
        files=tuple(_file_facts(f) for f in event.get("files") or [] if isinstance(f, dict)),
    )


def _file_facts(f: dict[str, Any]) -> dict[str, Any]:
    """What the bot keeps of an attached file: enough to fetch it, nothing more."""
    keys = ("id", "name", "mimetype", "size", "url_private", "url_private_download")
    return {k: f[k] for k in keys if k in f}


async def take(services: Services, inbound: Inbound) -> None:
    message_id = await queries.record_inbound(services.db, inbound)
    if message_id is None:
        log.debug("dropped a duplicate delivery of %s/%s", inbound.channel_id, inbound.ts)
        return
    services.worker.submit(message_id)


def register(app: AsyncApp, services: Services) -> None:
    @app.event("app_mention")
    async def on_mention(
        body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        inbound = inbound_from(body, event, context.bot_user_id)
        if inbound is not None:
            await take(services, inbound)

    @app.event("message")
    async def on_message(
        body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        inbound = inbound_from(body, event, context.bot_user_id)
        if inbound is None:
            return
        if event.get("channel_type") != "im":
            # In channels the bot answers mentions (app_mention) and its own threads only.
            in_thread = bool(event.get("thread_ts")) and event.get("thread_ts") != event.get("ts")
            if not in_thread or not await queries.conversation_exists(
                services.db, inbound.channel_id, inbound.thread_ts
            ):
                return
        await take(services, inbound)
