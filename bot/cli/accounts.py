"""`supportbot accounts add | link-channel | list`: customer accounts and the Slack Connect
channels shared with them, from the terminal."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from bot.accounts.views import ReplyMode, SharedChannelView
from bot.cli.database import open_database
from bot.cli.workspaces import pick_team
from bot.config import Settings
from bot.errors import ConfigError
from bot.store.accounts import (
    AccountListing,
    NewAccount,
    add_account,
    link_channel,
    list_accounts,
)
from bot.store.db import Database


async def _team(db: Database, given: str | None) -> str:
    """The workspace, as every command with `--team` picks it (`pick_team`); an account must
    belong to one, so a database that knows none yet is refused."""
    team = await pick_team(db, given)
    if team is None:
        raise ConfigError(
            "the database knows no workspace yet: start the bot once (it records its"
            " workspace), or record one with supportbot workspaces set TEAM --leads-channel C"
        )
    return team


async def _add(settings: Settings, args: argparse.Namespace) -> None:
    async with open_database(settings) as db:
        new = NewAccount(
            team_id=await _team(db, args.team),
            name=args.name,
            tier=args.tier,
            domains=tuple(args.domain),
            slack_team_ids=tuple(args.slack_team),
            external_id=args.external_id,
        )
        account = await add_account(db, new)
    print(
        f"added account {account.name} (tier {account.tier}) in {account.team_id}: "
        f"domains {', '.join(sorted(account.domains))}"
        + (
            f"; Slack teams {', '.join(sorted(account.slack_team_ids))}"
            if new.slack_team_ids
            else ""
        )
    )


async def _link(settings: Settings, args: argparse.Namespace) -> None:
    async with open_database(settings) as db:
        team = await _team(db, args.team)
        view = await link_channel(db, team, args.account, args.channel, ReplyMode(args.reply_mode))
    name = view.account.name if view.account else args.account
    print(f"linked {view.channel_id} to {name} in {team}; reply mode {view.reply_mode}")


def _channel_json(view: SharedChannelView) -> dict[str, Any]:
    return {"channel_id": view.channel_id, "mapping": view.mapping, "reply_mode": view.reply_mode}


def _listing_json(listing: AccountListing) -> dict[str, Any]:
    a = listing.account
    return {
        "name": a.name,
        "team_id": a.team_id,
        "tier": a.tier,
        "external_id": a.external_id,
        "domains": sorted(a.domains),
        "slack_teams": sorted(a.slack_team_ids),
        "channels": [_channel_json(c) for c in listing.channels],
    }


def _listing_text(listing: AccountListing) -> str:
    a = listing.account
    channels = ", ".join(f"{c.channel_id} ({c.reply_mode})" for c in listing.channels) or "none"
    return (
        f"{a.name}  tier {a.tier}"
        + (f"  external id {a.external_id}" if a.external_id else "")
        + f"\n  domains: {', '.join(sorted(a.domains))}"
        + f"\n  Slack teams: {', '.join(sorted(a.slack_team_ids)) or 'none'}"
        + f"\n  channels: {channels}"
    )


async def _list(settings: Settings, args: argparse.Namespace) -> None:
    async with open_database(settings) as db:
        team = await _team(db, args.team)
        listings = await list_accounts(db, team)
    if args.json:
        print(json.dumps([_listing_json(item) for item in listings], indent=2))
    elif not listings:
        print(f"no accounts in {team} yet: `supportbot accounts add NAME --domain D --tier T`")
    else:
        print("\n".join(_listing_text(item) for item in listings))


def run(args: argparse.Namespace, settings: Settings) -> int:
    commands = {"add": _add, "link-channel": _link, "list": _list}
    asyncio.run(commands[args.accounts_command](settings, args))
    return 0
