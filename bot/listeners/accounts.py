"""Slack Connect channels and the leads who map them to accounts (docs/issue-15-plan.md §9 B4).

`channel_shared`, `channel_unshared` and the bot's own `member_joined_channel` make the
directory ask Slack about the channel again (conversations.info, team.info for each outside
team) and refresh its row; a new, pending channel gets ONE suggestion in its workspace's leads
channel (a conditional UPDATE of `suggested_at` decides who posts it). Nothing is posted in the
shared channel itself, and nothing of any account is disclosed anywhere until a lead confirms.

The buttons (Confirm, Ignore, the select to link another account, the reply-mode toggle) are
for leads of the workspace only (`leads_only`)."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.account_blocks import SEPARATOR, ChannelAction, settled_blocks, suggestion_blocks
from bot.accounts.directory import SqlChannelDirectory
from bot.accounts.suggest import suggest
from bot.accounts.views import ChannelMapping, ReplyMode, SharedChannelView
from bot.listeners.home import publish_home
from bot.listeners.interactions import requester, team_of, tell_privately, where_clicked
from bot.listeners.leads import leads_only
from bot.services import Services
from bot.slack_clients import WorkspaceNotInstalled
from bot.slack_out import SlackSender
from bot.store import shared_channels
from bot.store.accounts import AccountError

log = logging.getLogger(__name__)

NOT_A_LEAD = "Sorry, only support leads can map shared channels to accounts."
NO_RECORD = "I have no record of that channel or account in this workspace."
_ACTIONS = re.compile("^(" + "|".join(re.escape(a) for a in ChannelAction) + ")$")


async def suggest_to_leads(
    services: Services, slack: SlackSender, team: str, view: SharedChannelView | None
) -> None:
    """Post the suggestion for a pending channel to the workspace's leads, once."""
    if view is None or view.mapping != ChannelMapping.PENDING:
        return
    db, channel = services.db, view.channel_id
    teams = await shared_channels.external_teams_of(db, team, channel)
    if not teams:
        return  # Slack named no outside team yet: asked again on the next event
    leads_channel = await services.workspaces.leads_channel(team)
    if not leads_channel or await services.channels.is_shared(team, leads_channel):
        log.warning("no suggestion for channel %s of %s: no internal leads channel", channel, team)
        return
    accounts = await shared_channels.accounts_of(db, team)
    guess = suggest(teams, accounts)
    if not await shared_channels.claim_suggestion(db, team, channel, guess.id if guess else None):
        return  # suggested already (another delivery, another process)
    text = f"New shared channel <#{channel}>: which account is it?"
    try:
        await slack.post_suggestion(
            team, leads_channel, text, suggestion_blocks(channel, teams, guess, accounts)
        )
    except (SlackApiError, WorkspaceNotInstalled) as exc:
        error = exc.response.get("error") if isinstance(exc, SlackApiError) else "not installed"
        log.warning("could not suggest channel %s to leads: %s", channel, error)
        await shared_channels.release_suggestion(db, team, channel)


async def apply_choice(
    services: Services, team: str, lead: str, action: dict[str, Any]
) -> SharedChannelView | None:
    """A lead's button or select on a shared channel of workspace `team`: the channel as it is
    now, or None when the workspace has no such channel or account."""
    kind = ChannelAction(action["action_id"])
    raw = (action.get("selected_option") or {}).get("value") or action.get("value") or ""
    channel, _, item = str(raw).partition(SEPARATOR)
    db = services.db
    if kind == ChannelAction.REPLY_MODE:
        view = await shared_channels.set_reply_mode(db, team, channel, ReplyMode(item))
    elif kind == ChannelAction.IGNORE:
        view = await shared_channels.settle(db, team, channel, lead, None)
    else:
        view = await shared_channels.settle(db, team, channel, lead, int(item))
    if view is not None and isinstance(services.channels, SqlChannelDirectory):
        services.channels.forget(team, channel)
    return view


def register(app: AsyncApp, services: Services, slack: SlackSender) -> None:
    directory = services.channels
    if not isinstance(directory, SqlChannelDirectory):
        return  # no Slack, no directory to keep: nothing to listen for

    async def on_channel_change(
        event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        channel, team = str(event.get("channel") or ""), team_of(context)
        if (
            event.get("type") == "member_joined_channel"
            and event.get("user") != context.bot_user_id
        ):
            return  # someone else joined: nothing about the channel changed
        if not channel or channel.startswith("D"):
            return
        view = await directory.recognise(team, channel, refresh=True)
        await suggest_to_leads(services, slack, team, view)

    for kind in ("channel_shared", "channel_unshared", "member_joined_channel"):
        app.event(kind)(on_channel_change)

    @app.action(_ACTIONS, middleware=[leads_only(services.workspaces, directory, NOT_A_LEAD)])
    async def on_choice(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await ack()
        lead = requester(body)
        try:
            view = await apply_choice(services, team_of(context), lead, body["actions"][0])
        except AccountError as exc:
            await tell_privately(client, body, str(exc))
            return
        except (ValueError, KeyError):
            log.warning("ignored a malformed shared-channel action")
            return
        if view is None:
            await tell_privately(client, body, NO_RECORD)
            return
        where, ts = where_clicked(body)
        if (body.get("container") or {}).get("type") == "view":  # clicked in App Home
            await publish_home(services, client, team_of(context), lead)
        elif where and ts:
            await client.chat_update(
                channel=where,
                ts=ts,
                text=f"Shared channel <#{view.channel_id}>: {view.mapping}",
                blocks=settled_blocks(view, lead),
            )
