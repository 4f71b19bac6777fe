"""Manners in a Slack Connect channel (docs/issue-15-plan.md B5): who is answered, and what is
kept, when a customer's organisation shares the channel.

- The company's own staff are never a customer turn: a staff message in a bot's thread is kept
  as a STAFF message and reported to the tickets (a response to the customer); anywhere else it
  is ignored.
- From the customer's side: a mention is answered (in its thread); a top-level message only in
  a channel whose reply mode is `requests`, and only when it reads as a request; a reply in a
  bot's thread only when it reads as a request. Chatter ("thanks!", an aside to a colleague)
  is not answered and not stored.

The reply mode comes from `ChannelDirectory.cached`: the database, never Slack, on the
acknowledgement path.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from bot.accounts.views import ReplyMode
from bot.services import Services
from bot.store import queries
from bot.store.models import utcnow
from bot.store.queries import Inbound, StaffReply

log = logging.getLogger(__name__)


class Manner(StrEnum):
    ANSWER = "answer"  # a customer turn
    STAFF_REPLY = "staff_reply"  # kept as the staff's response, not answered
    IGNORE = "ignore"  # neither answered nor stored


@dataclass(frozen=True)
class Heard:
    """What the listener knows of one shared-channel message, for `manner`."""

    staff: bool  # the sender is of the installing team (or its enterprise)
    mention: bool  # an app_mention of the bot
    request: bool  # `escalation.intents.is_request` of its text
    reply_mode: ReplyMode  # the channel's (`mentions` when the channel has no row)


def manner(message: Inbound, heard: Heard) -> Manner:
    """What to do with a message of a Slack Connect channel (pure)."""
    top_level = message.thread_ts == message.ts
    if heard.staff:
        return Manner.IGNORE if top_level else Manner.STAFF_REPLY
    if heard.mention:
        return Manner.ANSWER
    if top_level:
        wanted = heard.reply_mode == ReplyMode.REQUESTS and heard.request
        return Manner.ANSWER if wanted else Manner.IGNORE
    return Manner.ANSWER if heard.request else Manner.IGNORE


async def reply_mode(services: Services, message: Inbound) -> ReplyMode:
    """The channel's reply mode, from the database (no Slack call): `mentions` by default."""
    view = await services.channels.cached(message.team_id, message.channel_id)
    return view.reply_mode if view is not None else ReplyMode.MENTIONS


async def keep_staff_reply(services: Services, message: Inbound) -> None:
    """A staff message in a bot's thread: stored as STAFF, and the tickets are told once."""
    at = message.received_at or utcnow()
    conversation_id = await queries.record_staff_reply(
        services.db,
        StaffReply(
            channel_id=message.channel_id,
            thread_ts=message.thread_ts,
            user_id=message.user_id,
            sender_team_id=message.sender_team_id,
            text=message.text,
            ts=message.ts,
            received_at=at,
        ),
    )
    if conversation_id is None:
        log.debug("a staff message outside the bot's threads (or again): ignored")
        return
    await services.tickets.staff_replied(conversation_id, message.user_id, at)
