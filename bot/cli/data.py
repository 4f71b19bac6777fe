"""What the bot's database holds: `db`, `orders`, `customers`, `knowledge`, `purge`."""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta
from pathlib import Path

from bot.cli.database import open_database
from bot.cli.parser import MAX_AGE
from bot.config import Settings
from bot.errors import ConfigError


async def _db_migrate(settings: Settings, command: str, revision: str) -> int:
    async with open_database(settings, upgrade=False) as db:
        if command == "upgrade":
            await db.upgrade()
            print("database schema is up to date")
            return 0
        current = await db.current_revision()
        _check_downgrade(revision, current)
        await db.downgrade(revision)
    print(f"database schema is at {revision}")
    return 0


def _check_downgrade(revision: str, current: str | None) -> None:
    """Refuse, in one line, a revision that is unknown or not older than the schema's; with
    no revision, list them."""
    from bot.store.db import revisions

    known = [*revisions(), None]  # newest first; None: 'base', the empty schema
    ids = [r.id if r else "base" for r in known]
    if not revision:
        listing = "\n".join(
            f"  {r.id if r else 'base':<6}{r.title if r else 'an empty schema'}"
            + ("  (current)" if r and r.id == current else "")
            for r in known
        )
        raise ConfigError(f"give the revision to go back to:\n{listing}")
    if revision not in ids:
        raise ConfigError(
            f"no revision {revision!r}; the revisions are {', '.join(ids)}"
            f" (the database is at {current or 'none: never migrated'})"
        )
    if current is None or current not in ids:
        raise ConfigError("the database was never migrated: there is nothing to go back from")
    if ids.index(revision) < ids.index(current):
        raise ConfigError(
            f"the database is at {current}, older than {revision}: "
            "`supportbot db upgrade` goes forward"
        )


async def _orders_import(settings: Settings, path: Path) -> None:
    from bot.orders.importing import import_orders, parse_order_file

    records = parse_order_file(path.read_text(encoding="utf-8"), path.name)
    async with open_database(settings) as db:
        count = await import_orders(db, records)
    print(f"imported {count} order(s) from {path}")


async def _customers_link(settings: Settings, user_id: str, email: str, team: str | None) -> None:
    from bot.cli.workspaces import pick_team
    from bot.store.models import CustomerLink

    async with open_database(settings) as db:
        team_id = await pick_team(db, team) or ""  # none known yet: adopted at start
        async with db.session() as s:
            link = CustomerLink(team_id=team_id, slack_user_id=user_id, email=email.strip().lower())
            await s.merge(link)
            await s.commit()
    print(f"linked Slack user {user_id} to {email.strip().lower()}")


async def _knowledge_reindex(settings: Settings) -> None:
    from bot.knowledge import reindex, resolve_directory

    directory = resolve_directory(settings.knowledge_dir)
    async with open_database(settings) as db:
        stats = await reindex(db, directory)
    print(
        f"indexed {directory}: {stats.added} added, {stats.updated} updated, "
        f"{stats.removed} removed, {stats.unchanged} unchanged"
    )


def parse_age(text: str, option: str = "--older-than") -> timedelta:
    """`90d`, `12h` or `30m`; `option` names the option in a refusal."""
    units = {"d": "days", "h": "hours", "m": "minutes"}
    number, unit = text[:-1], text[-1:]
    if unit not in units or not number.isdigit() or int(number) <= 0:
        raise ConfigError(f"{option} takes a number and d, h or m, like 90d (not {text!r})")
    try:
        age = timedelta(**{units[unit]: int(number)})
    except OverflowError:
        age = timedelta.max
    if age > MAX_AGE:
        raise ConfigError(f"{option} goes back {MAX_AGE.days} days at most (not {text!r})")
    return age


async def _purge(settings: Settings, older_than: timedelta) -> None:
    from bot.store.models import utcnow
    from bot.store.purge import purge

    async with open_database(settings) as db:
        result = await purge(db, utcnow() - older_than)
    print(
        f"purged {result.conversations} conversation(s): {result.messages} message(s) and "
        f"{result.escalations} escalation(s) deleted; spend records kept"
    )


def run_db(args: argparse.Namespace, settings: Settings) -> int:
    revision = getattr(args, "revision", "").strip()
    return asyncio.run(_db_migrate(settings, args.db_command, revision))


def run_orders(args: argparse.Namespace, settings: Settings) -> int:
    if not args.file.is_file():
        raise ConfigError(f"{args.file} is not a file")
    asyncio.run(_orders_import(settings, args.file))
    return 0


def run_customers(args: argparse.Namespace, settings: Settings) -> int:
    if "@" not in args.email:
        raise ConfigError(f"{args.email!r} is not an email address")
    asyncio.run(_customers_link(settings, args.slack_user_id, args.email, args.team))
    return 0


def run_knowledge(args: argparse.Namespace, settings: Settings) -> int:
    asyncio.run(_knowledge_reindex(settings))
    return 0


def run_purge(args: argparse.Namespace, settings: Settings) -> int:
    asyncio.run(_purge(settings, parse_age(args.older_than)))
    return 0
