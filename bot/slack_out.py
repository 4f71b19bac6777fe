"""Everything the bot posts to Slack: replies in threads, and the leads-channel posts."""

from __future__ import annotations

import logging

from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import col, select

from bot.agent.replies import REVIEWED_MARK
from bot.slack_blocks import escalation_blocks
from bot.slack_format import to_mrkdwn
from bot.store import escalations
from bot.store.db import Database
from bot.store.models import Conversation, Escalation, Message

log = logging.getLogger(__name__)


class SlackOutbox:
    def __init__(self, client: AsyncWebClient, db: Database, leads_channel: str) -> None:
        self._client = client
        self._db = db
        self._leads_channel = leads_channel

    async def send(self, conversation: Conversation, text: str) -> str | None:
        """Post in the conversation's thread; returns the new message's ts."""
        resp = await self._client.chat_postMessage(
            channel=conversation.channel_id,
            thread_ts=conversation.thread_ts,
            text=to_mrkdwn(text),
            unfurl_links=False,
        )
        ts = resp.get("ts")
        return str(ts) if ts else None

    async def send_reviewed(self, conversation: Conversation, text: str) -> str | None:
        """A lead's answer, posted as the bot and marked as reviewed."""
        return await self.send(conversation, f"{text}\n\n{REVIEWED_MARK}")

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
        question = await self._question(esc)
        resp = await self._client.chat_postMessage(
            channel=self._leads_channel,
            text=f"Escalation #{esc.id}: {', '.join(esc.reasons)}",
            blocks=escalation_blocks(esc, conv, question),
            unfurl_links=False,
        )
        await escalations.set_leads_post(
            self._db,
            escalation_id,
            str(resp.get("channel") or self._leads_channel),
            str(resp["ts"]),
        )

    async def refresh_leads_post(self, esc: Escalation, conv: Conversation) -> None:
        """Show who did what and when on the leads-channel post."""
        if not esc.leads_ts:
            return
        await self._client.chat_update(
            channel=esc.leads_channel,
            ts=esc.leads_ts,
            text=f"Escalation #{esc.id}: {esc.status}",
            blocks=escalation_blocks(esc, conv, await self._question(esc)),
        )

    async def _question(self, esc: Escalation) -> str:
        async with self._db.session() as s:
            row = await s.exec(select(col(Message.text)).where(col(Message.id) == esc.message_id))
            return row.first() or ""
