"""Slack's side of the bot's output: the `Sender` the poster posts through (replies in
threads, the leads-channel posts), and the interaction responses that are no posts (the
thinking status, a note only a lead sees, the update of a leads post)."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.accounts.views import ChannelDirectory, NoChannels
from bot.delivery import LeadsPost, ThreadPost
from bot.errors import ReplyNotPosted
from bot.slack_blocks import escalation_blocks, feedback_block
from bot.slack_clients import SlackClients, WorkspaceNotInstalled
from bot.slack_format import split_for_slack, to_mrkdwn
from bot.store import escalations
from bot.store.db import Database
from bot.store.models import Conversation, Escalation, ReplyKind

log = logging.getLogger(__name__)


class SlackSender:
    """Posts through the client of the conversation's workspace (`SlackClients`); what names
    no conversation (alerts, a note to a lead) goes through the client of team '' (the one
    client in single-workspace mode)."""

    def __init__(
        self, clients: SlackClients, db: Database, channels: ChannelDirectory | None = None
    ) -> None:
        self._clients = clients
        self._db = db
        self._channels: ChannelDirectory = channels or NoChannels()

    async def _shared(self, team_id: str, channel_id: str, what: str) -> bool:
        """Whether `channel_id`, given as the leads channel, is shared with another
        organisation: then nothing internal is posted there (logged with ids only; App Home
        warns the leads)."""
        if not await self._channels.is_shared(team_id, channel_id):
            return False
        log.warning(
            "%s not posted: the leads channel %s of %s is shared with another organisation",
            what,
            channel_id,
            team_id,
        )
        return True

    async def _client(self, team_id: str = "") -> AsyncWebClient:
        return await self._clients.for_team(team_id)

    async def thinking(self, conversation: Conversation) -> None:
        """Slack's "is thinking" status, in DMs (assistant threads); cleared by the reply."""
        if not conversation.channel_id.startswith("D"):
            return
        try:
            client = await self._client(conversation.team_id)
            await client.assistant_threads_setStatus(
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
        except WorkspaceNotInstalled:
            log.debug("no thinking status: the workspace has no installation")

    async def clear_thinking(self, conversation: Conversation) -> None:
        if conversation.channel_id.startswith("D"):
            with contextlib.suppress(SlackApiError, WorkspaceNotInstalled):
                client = await self._client(conversation.team_id)
                await client.assistant_threads_setStatus(
                    channel_id=conversation.channel_id, thread_ts=conversation.thread_ts, status=""
                )

    async def post_reply(self, post: ThreadPost) -> str | None:
        """Post the reply in the thread, split at Slack's limits, from piece `post.start` on;
        an answer gets feedback buttons. Returns the ts of the last piece (the one feedback
        refers to). Raises `ReplyNotPosted` with the number of pieces posted when Slack
        refuses one."""
        pieces = split_for_slack(to_mrkdwn(post.text))
        ts: str | None = None
        for number, piece in enumerate(pieces[post.start :], start=post.start + 1):
            blocks: list[dict[str, Any]] = [
                {"type": "section", "text": {"type": "mrkdwn", "text": piece}}
            ]
            if number == len(pieces) and post.kind == ReplyKind.ANSWER:
                blocks.append(feedback_block())
            try:
                client = await self._client(post.team_id)
                resp = await client.chat_postMessage(
                    channel=post.channel_id,
                    thread_ts=post.thread_ts,
                    text=piece,
                    blocks=blocks,
                    unfurl_links=False,
                )
            except Exception as exc:
                raise ReplyNotPosted(number - 1) from exc
            ts = str(resp["ts"]) if resp.get("ts") else None
        return ts

    async def post_escalation(self, post: LeadsPost) -> tuple[str, str | None]:
        """Post the escalation in the leads channel (the App Home lists it either way)."""
        esc = post.escalation
        if not post.channel_id:
            log.warning("escalation %s is open but SUPPORTBOT_LEADS_CHANNEL is not set", esc.id)
            return "", None
        if await self._shared(post.conversation.team_id, post.channel_id, f"escalation {esc.id}"):
            return "", None
        client = await self._client(post.conversation.team_id)
        resp = await client.chat_postMessage(
            channel=post.channel_id,
            text=f"Escalation #{esc.id}: {', '.join(esc.reasons)}",
            blocks=escalation_blocks(esc, post.conversation, post.question, post.asker),
            unfurl_links=False,
        )
        return str(resp.get("channel") or post.channel_id), str(resp["ts"])

    async def post_alert(self, team_id: str, channel_id: str, text: str) -> str | None:
        if not channel_id:
            log.warning("a leads alert was dropped: SUPPORTBOT_LEADS_CHANNEL is not set")
            return None
        if await self._shared(team_id, channel_id, "a leads alert"):
            return None
        resp = await (await self._client(team_id)).chat_postMessage(channel=channel_id, text=text)
        return str(resp["ts"]) if resp.get("ts") else None

    async def post_suggestion(
        self, team_id: str, channel_id: str, text: str, blocks: list[dict[str, Any]]
    ) -> str | None:
        """The leads' message about a new shared channel (bot/listeners/accounts.py posts it
        once, having claimed it on the channel's row; not an outbox row: the claim is released
        when Slack refuses it, and the next event about the channel posts it). None when it
        was not posted: no leads channel, or one shared with another organisation."""
        if not channel_id or await self._shared(team_id, channel_id, "a shared-channel suggestion"):
            return None
        client = await self._client(team_id)
        resp = await client.chat_postMessage(
            channel=channel_id, text=text, blocks=blocks, unfurl_links=False
        )
        return str(resp["ts"]) if resp.get("ts") else None

    async def tell_lead(self, esc: Escalation, lead: str, text: str) -> None:
        """A note only this lead sees: in the leads channel, or (an escalation acted on from
        the App Home with no leads channel) in the lead's DM with the bot."""
        try:
            client = await self._client(esc.team_id)
            if esc.leads_channel:
                await client.chat_postEphemeral(channel=esc.leads_channel, user=lead, text=text)
            else:
                await client.chat_postMessage(channel=lead, text=text)
        except SlackApiError as exc:
            log.warning(
                "could not tell a lead about escalation %s: %s", esc.id, exc.response.get("error")
            )
        except WorkspaceNotInstalled:
            log.warning("could not tell a lead about escalation %s: no installation", esc.id)

    async def refresh_leads_post(self, esc: Escalation) -> None:
        """Show who did what and when on the leads-channel post (an update, not a post)."""
        if not esc.leads_ts:
            return
        found = await escalations.leads_view(self._db, esc.id or 0)
        if found is None:
            return
        _, conv, question, asker = found
        client = await self._client(conv.team_id)
        await client.chat_update(
            channel=esc.leads_channel,
            ts=esc.leads_ts,
            text=f"Escalation #{esc.id}: {esc.status}",
            blocks=escalation_blocks(esc, conv, question, asker),
        )
