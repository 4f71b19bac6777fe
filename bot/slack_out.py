"""Everything the bot posts to Slack: replies in threads, and the leads-channel posts."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import col, select

from bot.agent.pipeline import Reply
from bot.errors import ReplyNotPosted
from bot.slack_blocks import escalation_blocks, feedback_block
from bot.slack_format import split_for_slack, to_mrkdwn
from bot.store import escalations
from bot.store.db import Database
from bot.store.models import Conversation, Escalation, Message, ReplyKind

log = logging.getLogger(__name__)


class SlackOutbox:
    def __init__(self, client: AsyncWebClient, db: Database, leads_channel: str) -> None:
        self._client = client
        self._db = db
        self._leads_channel = leads_channel

    async def thinking(self, conversation: Conversation) -> None:
        """Slack's "is thinking" status, in DMs (assistant threads); cleared by the reply."""
        if not conversation.channel_id.startswith("D"):
            return
        try:
            await self._client.assistant_threads_setStatus(
                channel_id=conversation.channel_id,
                thread_ts=conversation.thread_ts,
                status="is looking into it…",
                loading_messages=[
                    "Looking up your order…",
                    "Checking the help center…",
                    "Putting an answer together…",
                ],
            )
        except SlackApiError as exc:
            # Outside the agent view Slack refuses a status; the answer comes all the same.
            log.debug("no thinking status: %s", exc.response.get("error"))

    async def clear_thinking(self, conversation: Conversation) -> None:
        if conversation.channel_id.startswith("D"):
            with contextlib.suppress(SlackApiError):
                await self._client.assistant_threads_setStatus(
                    channel_id=conversation.channel_id, thread_ts=conversation.thread_ts, status=""
                )

    async def send(self, conversation: Conversation, reply: Reply, start: int = 0) -> str | None:
        """Post the reply in the thread, split at Slack's limits, from piece `start` on (the
        earlier ones went out before); an answer gets feedback buttons. Returns the ts of the
        last piece (the one feedback refers to). Raises `ReplyNotPosted` with the number of
        pieces posted when Slack refuses one."""
        if reply.text is None:
            await self.clear_thinking(conversation)
            return None
        pieces = split_for_slack(to_mrkdwn(reply.text))
        ts: str | None = None
        for number, piece in enumerate(pieces[start:], start=start + 1):
            blocks: list[dict[str, Any]] = [
                {"type": "section", "text": {"type": "mrkdwn", "text": piece}}
            ]
            if number == len(pieces) and reply.kind == ReplyKind.ANSWER:
                blocks.append(feedback_block())
            try:
                resp = await self._client.chat_postMessage(
                    channel=conversation.channel_id,
                    thread_ts=conversation.thread_ts,
                    text=piece,
                    blocks=blocks,
                    unfurl_links=False,
                )
            except Exception as exc:
                raise ReplyNotPosted(number - 1) from exc
            ts = str(resp["ts"]) if resp.get("ts") else None
        return ts

    async def notify_leads(self, escalation_id: int) -> None:
        """Post the escalation in the leads channel (the App Home lists it either way)."""
        if not self._leads_channel:
            log.warning(
                "escalation %s is open but SUPPORTBOT_LEADS_CHANNEL is not set", escalation_id
            )
            return
        found = await escalations.get(self._db, escalation_id)
        if found is None:
            return
        esc, conv = found
        question, asker = await self._asked(esc)
        resp = await self._client.chat_postMessage(
            channel=self._leads_channel,
            text=f"Escalation #{esc.id}: {', '.join(esc.reasons)}",
            blocks=escalation_blocks(esc, conv, question, asker),
            unfurl_links=False,
        )
        await escalations.set_leads_post(
            self._db,
            escalation_id,
            str(resp.get("channel") or self._leads_channel),
            str(resp["ts"]),
        )

    async def alert_leads(self, text: str) -> None:
        if not self._leads_channel:
            log.warning("a leads alert was dropped: SUPPORTBOT_LEADS_CHANNEL is not set")
            return
        await self._client.chat_postMessage(channel=self._leads_channel, text=text)

    async def tell_lead(self, esc: Escalation, lead: str, text: str) -> None:
        """A note only this lead sees: in the leads channel, or (an escalation acted on from
        the App Home with no leads channel) in the lead's DM with the bot."""
        try:
            if esc.leads_channel:
                await self._client.chat_postEphemeral(
                    channel=esc.leads_channel, user=lead, text=text
                )
            else:
                await self._client.chat_postMessage(channel=lead, text=text)
        except SlackApiError as exc:
            log.warning(
                "could not tell a lead about escalation %s: %s", esc.id, exc.response.get("error")
            )

    async def refresh_leads_post(self, esc: Escalation, conv: Conversation) -> None:
        """Show who did what and when on the leads-channel post."""
        if not esc.leads_ts:
            return
        await self._client.chat_update(
            channel=esc.leads_channel,
            ts=esc.leads_ts,
            text=f"Escalation #{esc.id}: {esc.status}",
            blocks=escalation_blocks(esc, conv, *await self._asked(esc)),
        )

    async def _asked(self, esc: Escalation) -> tuple[str, str]:
        """The escalated message's text and its sender (in a shared thread, not always the
        person who started it)."""
        async with self._db.session() as s:
            rows = await s.exec(
                select(col(Message.text), col(Message.user_id)).where(
                    col(Message.id) == esc.message_id
                )
            )
            row = rows.first()
        return (row[0], row[1]) if row is not None else ("", "")
