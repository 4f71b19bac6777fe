"""App Home sections for leads beyond the open escalations (`bot/slack_blocks.py` `home_view`):
a warning when the leads channel is shared with another organisation, the shared channels to
map, and the workspace's accounts. Names from Slack, from leads and from the terminal are
shown escaped."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.account_blocks import suggestion_blocks
from bot.accounts.views import AccountView
from bot.slack_format import escape_mrkdwn
from bot.store.accounts import AccountListing
from bot.store.shared_channels import ChannelToMap

# A Home view holds at most 100 blocks; the escalations take up to 41 of them.
MAX_CHANNELS = 15
MAX_ACCOUNTS = 20


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text}}


def shared_leads_channel_warning(channel_id: str) -> list[dict[str, Any]]:
    """Shown first when the leads channel is a Slack Connect channel: nothing is posted there."""
    return [
        _section(
            f":warning: The leads channel <#{escape_mrkdwn(channel_id)}> is shared with another"
            " organisation, so I post no escalations or alerts there. Set an internal channel"
            " with `supportbot workspaces set` (or `SUPPORTBOT_LEADS_CHANNEL`); until then the"
            " escalations are listed here only."
        )
    ]


def channels_section(
    to_map: Sequence[ChannelToMap], accounts: Sequence[AccountView]
) -> list[dict[str, Any]]:
    """ "Shared channels to map": each pending channel with its buttons, as in the leads post."""
    blocks: list[dict[str, Any]] = [_header("Shared channels to map")]
    if not to_map:
        blocks.append(_section("None: every shared channel I am in is mapped or ignored."))
    for item in to_map[:MAX_CHANNELS]:
        blocks.extend(
            suggestion_blocks(item.channel_id, item.external_teams, item.suggested, accounts)
        )
    if len(to_map) > MAX_CHANNELS:
        blocks.append(_section(f"…and {len(to_map) - MAX_CHANNELS} more."))
    return blocks


def _account_line(listing: AccountListing) -> str:
    account = listing.account
    domains = ", ".join(sorted(account.domains))
    channels = " ".join(
        f"<#{escape_mrkdwn(c.channel_id)}> ({c.reply_mode})" for c in listing.channels
    )
    return (
        f"*{escape_mrkdwn(account.name)}* · tier {escape_mrkdwn(account.tier)} ·"
        f" {escape_mrkdwn(domains)}\n" + (f"Channels: {channels}" if channels else "No channel yet")
    )


def accounts_section(listings: Sequence[AccountListing]) -> list[dict[str, Any]]:
    """ "Accounts": each account with its tier, domains and mapped channels."""
    blocks: list[dict[str, Any]] = [_header("Accounts")]
    if not listings:
        blocks.append(_section("No accounts yet: add one with `supportbot accounts add`."))
    blocks.extend(_section(_account_line(listing)) for listing in listings[:MAX_ACCOUNTS])
    if len(listings) > MAX_ACCOUNTS:
        rest = len(listings) - MAX_ACCOUNTS
        blocks.append(_section(f"…and {rest} more (`supportbot accounts list`)."))
    return blocks
