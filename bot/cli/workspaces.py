"""`supportbot workspaces list|set`, and the `--team` of the commands that read one
workspace's data (`costs`, `stats`, `escalations`)."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from bot.cli.database import open_database
from bot.config import Settings
from bot.errors import ConfigError
from bot.store import workspace_rows
from bot.store.db import Database


async def pick_team(db: Database, given: str | None) -> str | None:
    """The workspace a command reads: `--team`, which must be a known one; without it, the
    one the database knows, or every workspace when it knows none yet. With several, `--team`
    is needed, and the refusal lists them."""
    known = await workspace_rows.known_teams(db)
    if given is not None:
        if given not in known:
            raise ConfigError(f"no workspace {given!r}; known: {', '.join(known) or 'none yet'}")
        return given
    if len(known) > 1:
        raise ConfigError(f"several workspaces: pass --team, one of {', '.join(known)}")
    return known[0] if known else None


async def _list(settings: Settings, as_json: bool) -> None:
    async with open_database(settings) as db:
        rows = await workspace_rows.every_row(db)
    if as_json:
        print(json.dumps([r.model_dump(mode="json") for r in rows], indent=2))
        return
    if not rows:
        print("no workspaces yet: a serve process adopts its own at start")
    for r in rows:
        leads = ",".join(r.lead_users) or "(SUPPORTBOT_LEAD_USERS)"
        channel = r.leads_channel or "(SUPPORTBOT_LEADS_CHANNEL)"
        name = f" ({r.name})" if r.name else ""
        gone = ", uninstalled" if r.uninstalled_at else ""
        print(f"{r.team_id}{name} leads channel {channel}, leads {leads}{gone}")


async def _set(settings: Settings, team: str, changes: dict[str, Any]) -> None:
    async with open_database(settings) as db:
        await workspace_rows.set_settings(db, team, changes)
    print(f"workspace {team}: " + ", ".join(f"{k} {v}" for k, v in changes.items()))


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.workspaces_command == "list":
        asyncio.run(_list(settings, args.json))
        return 0
    changes: dict[str, Any] = {}
    if args.leads_channel is not None:
        changes["leads_channel"] = args.leads_channel.strip()
    if args.lead_users is not None:
        changes["lead_users"] = [u.strip() for u in args.lead_users.split(",") if u.strip()]
    if not changes:
        raise ConfigError("workspaces set needs --leads-channel or --lead-users")
    asyncio.run(_set(settings, args.team, changes))
    return 0
