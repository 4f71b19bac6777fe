"""Message surfaces: @mentions, DMs, and replies in threads the bot takes part in.

Thin on purpose: filter, store the message as pending work, hand it to the worker, return.
The answer happens in the background, never inside Slack's 3-second acknowledgement.

In a Slack Connect channel (shared with a customer's organisation) the bot keeps its manners
(`bot/listeners/shared.py`): the company's own staff are not customers and are not answered
(their replies in the bot's threads are kept as responses), top-level messages are answered
only in a channel set to `requests` mode, and in the bot's threads only requests are answered,
not chatter ("thanks!", a colleague's aside): see `escalation.intents.is_request`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext

from bot import metrics
from bot.accounts.views import ReplyMode
from bot.listeners.shared import Heard, Manner, keep_staff_reply, manner, reply_mode
from bot.services import Services
from bot.slack_origin import EventOrigin, origin_of
from bot.store import queries
from bot.store.queries import Inbound
from escalation.intents import is_request

log = logging.getLogger(__name__)

# Subtypes that carry a customer's words; edits, deletes, joins, bot posts... are ignored.
_ANSWERED_SUBTYPES = {None, "file_share", "thread_broadcast"}


def clean(value: object) -> str:
    """A string from Slack as the database can store it: lone surrogates replaced, no NULs."""
    text = value if isinstance(value, str) else ""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


def strip_mentions(text: str, bot_user_id: str | None) -> str:
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(\|[^>]*)?>", " ", text)
    return " ".join(text.split()) if text.strip() else ""


def inbound_from(
    body: dict[str, Any], event: dict[str, Any], origin: EventOrigin, bot_user_id: str | None
) -> Inbound | None:
    """The customer message in a Slack event, or None when the bot must not answer it.

    The conversation's team is the installing team (`origin`), never the envelope's `team_id`:
    in a Slack Connect channel that is the sender's organisation."""
    subtype = event.get("subtype")
    if not (subtype is None or isinstance(subtype, str)) or subtype not in _ANSWERED_SUBTYPES:
        return None
    user, channel, ts = (
        clean(event.get("user")),
        clean(event.get("channel")),
        clean(event.get("ts")),
    )
    if not user or event.get("bot_id") or user == bot_user_id:
        return None
    if not channel or not ts:
        return None
    thread_ts = event.get("thread_ts")
    return Inbound(
        team_id=origin.installing_team,
        channel_id=channel[:32],
        thread_ts=(clean(thread_ts) or ts)[:32],
        user_id=user[:32],
        text=strip_mentions(clean(event.get("text")), bot_user_id),
        ts=ts[:32],
        event_id=clean(body.get("event_id"))[:64],
        event_type=clean(event.get("type"))[:64],
        files=tuple(_file_facts(f) for f in _list(event.get("files")) if isinstance(f, dict)),
        sender_team_id=origin.sender_team or "",
        shared=origin.shared,
    )


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _file_facts(f: dict[str, Any]) -> dict[str, Any]:
    """What the bot keeps of an attached file: enough to fetch it, nothing more."""
    keys = ("id", "name", "mimetype", "url_private", "url_private_download")
    facts: dict[str, Any] = {k: clean(f[k]) for k in keys if k in f}
    size = f.get("size")
    facts["size"] = size if isinstance(size, int) and not isinstance(size, bool) else 0
    return facts


async def take(services: Services, inbound: Inbound) -> None:
    message_id = await queries.record_inbound(services.db, inbound)
    if message_id is None:
        log.debug("dropped a duplicate delivery of %s/%s", inbound.channel_id, inbound.ts)
        metrics.EVENTS_DEDUPLICATED.inc()
        return
    services.worker.submit(message_id)


async def take_shared(
    services: Services,
    message: Inbound,
    event: dict[str, Any],
    staff: bool,
    bot_user_id: str | None,
) -> None:
    """A message of a Slack Connect channel, by the channel's manners."""
    mention = event.get("type") == "app_mention"
    top_level = message.thread_ts == message.ts
    asks_mode = not staff and not mention and top_level
    heard = Heard(
        staff=staff,
        mention=mention,
        request=is_request(clean(event.get("text")), bot_user_id),
        reply_mode=await reply_mode(services, message) if asks_mode else ReplyMode.MENTIONS,
    )
    action = manner(message, heard)
    if action == Manner.STAFF_REPLY:
        await keep_staff_reply(services, message)
    elif action == Manner.ANSWER:
        if (
            mention
            or top_level
            or await queries.conversation_exists(services.db, message.channel_id, message.thread_ts)
        ):
            await take(services, message)
    else:
        log.debug("not answered in a shared channel (staff elsewhere, or not a request)")


def register(app: AsyncApp, services: Services) -> None:
    async def heard(body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
        origin = origin_of(body, event, context)
        found = inbound_from(body, event, origin, context.bot_user_id)
        if found is None:
            return
        message = replace(found, received_at=services.clock())
        if message.shared and event.get("channel_type") != "im":
            staff = origin.sender_is_staff()
            await take_shared(services, message, event, staff, context.bot_user_id)
        elif event.get("type") == "app_mention" or event.get("channel_type") == "im":
            await take(services, message)
        elif message.thread_ts != message.ts and await queries.conversation_exists(
            services.db, message.channel_id, message.thread_ts
        ):
            await take(services, message)  # in channels: the bot's own threads only

    @app.event("app_mention")
    async def on_mention(
        body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await heard(body, event, context)

    @app.event("message")
    async def on_message(
        body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await heard(body, event, context)
