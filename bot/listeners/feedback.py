"""Thumbs up / down on answers; a thumbs-down offers a person.

The buttons sit under an answer everyone in the channel sees, so each click is checked: a
vote counts only from the person who asked (it measures whether the answer helped them), and
*Talk to a person*, which takes the thread away from the bot, is for the asker or a lead.
Anyone else is told so privately, and nothing changes. The private notes answer the click
(chat.postEphemeral, not posts); the handoff notice is an outbox row like every post."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.listeners.interactions import team_of, tell_privately, where_clicked
from bot.services import Services
from bot.slack_blocks import FEEDBACK_DOWN, FEEDBACK_PERSON, FEEDBACK_UP, talk_to_person_blocks
from bot.store import feedback
from bot.store.models import Thumb

log = logging.getLogger(__name__)
NOT_YOUR_VOTE = "Only the person who asked can rate this answer."
NOT_YOUR_THREAD = "Only the person who asked (or a support lead) can hand this thread to a person."


def register(app: AsyncApp, services: Services) -> None:
    @app.action(FEEDBACK_UP)
    @app.action(FEEDBACK_DOWN)
    async def on_feedback(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        channel, ts = where_clicked(body)
        reply = await feedback.find_reply(services.db, channel, ts)
        if reply is None:
            log.warning("feedback on a message the bot does not know")
            return
        value = Thumb.UP if body["actions"][0]["action_id"] == FEEDBACK_UP else Thumb.DOWN
        user = body["user"]["id"]
        if user not in await feedback.askers_of(services.db, reply):
            await tell_privately(client, body, NOT_YOUR_VOTE)
            return
        await feedback.record(services.db, reply, user, value)
        if value == Thumb.DOWN:
            await client.chat_postEphemeral(
                channel=channel,
                user=user,
                thread_ts=body.get("message", {}).get("thread_ts"),
                text="Sorry that didn't help. Would you like to talk to a person?",
                blocks=talk_to_person_blocks(ts),
            )

    @app.action(FEEDBACK_PERSON)
    async def on_person(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await ack()
        channel = where_clicked(body)[0]
        reply = await feedback.find_reply(services.db, channel, body["actions"][0]["value"])
        if reply is None or reply.reply_to_id is None:
            return
        user = body["user"]["id"]
        asked = user in await feedback.askers_of(services.db, reply)
        if not asked and not await services.workspaces.is_lead(team_of(context), user):
            await tell_privately(client, body, NOT_YOUR_THREAD)
            return
        # The notice and the leads post are outbox rows, posted by the poster; a second
        # click (a person already owns the thread) changes nothing.
        await services.worker.hand_off_on_request(reply.reply_to_id, reply.text)
