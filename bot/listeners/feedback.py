"""Thumbs up / down on answers; a thumbs-down offers a person."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.services import Services
from bot.slack_blocks import FEEDBACK_DOWN, FEEDBACK_PERSON, FEEDBACK_UP, talk_to_person_blocks
from bot.slack_out import SlackOutbox
from bot.store import feedback, queries

log = logging.getLogger(__name__)


def _where(body: dict[str, Any]) -> tuple[str, str]:
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id") or ""
    return str(channel), str(container.get("message_ts") or "")


def register(app: AsyncApp, services: Services, outbox: SlackOutbox) -> None:
    @app.action(FEEDBACK_UP)
    @app.action(FEEDBACK_DOWN)
    async def on_feedback(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        channel, ts = _where(body)
        reply = await feedback.find_reply(services.db, channel, ts)
        if reply is None:
            log.warning("feedback on a message the bot does not know")
            return
        value = "up" if body["actions"][0]["action_id"] == FEEDBACK_UP else "down"
        user = body["user"]["id"]
        await feedback.record(services.db, reply, user, value)
        if value == "down":
            await client.chat_postEphemeral(
                channel=channel,
                user=user,
                thread_ts=body.get("message", {}).get("thread_ts"),
                text="Sorry that didn't help. Would you like to talk to a person?",
                blocks=talk_to_person_blocks(ts),
            )

    @app.action(FEEDBACK_PERSON)
    async def on_person(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        channel = _where(body)[0]
        reply = await feedback.find_reply(services.db, channel, body["actions"][0]["value"])
        if reply is None or reply.reply_to_id is None:
            return
        handoff = await services.answerer.hand_off_on_request(reply.reply_to_id, reply.text)
        if handoff.escalation_id is None:
            return  # a person already owns the thread
        conversation = await queries.conversation_of(services.db, reply.reply_to_id)
        await outbox.send(conversation, handoff)
        await outbox.notify_leads(handoff.escalation_id)
