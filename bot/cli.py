"""`supportbot`: the Slack support bot, and what its operators and support leads run in a
terminal (one command each, listed below)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import uuid
from collections.abc import Callable, Coroutine, Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot import log_privacy
from bot.config import LogFormat, Settings, load_settings
from bot.delivery import LeadsPost, ThreadPost
from bot.errors import ConfigError
from bot.log_json import JsonFormatter
from bot.processes import supervise
from bot.store.models import Conversation, EscalationStatus

log = logging.getLogger("supportbot")


def _setup_logging(settings: Settings, *, quiet: bool = False) -> None:
    """`quiet` (a terminal chat): warnings and errors only, unless SUPPORTBOT_LOG_LEVEL is set,
    so that no log line (the SDKs' HTTP requests) comes between a question and its answer."""
    level = settings.log_level.upper()
    if quiet and "log_level" not in settings.model_fields_set:
        level = "WARNING"
    handler = logging.StreamHandler()  # standard error
    if settings.log_format is LogFormat.JSON:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    log_privacy.install(settings.secrets())
    # Migration chatter is not news at every start.
    logging.getLogger("alembic").setLevel(logging.WARNING)


async def _serve(settings: Settings, host: str, port: int, reuse_port: bool = False) -> None:
    from aiohttp import web
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from bot.app import create_app, create_web_app, slack_client
    from bot.health import Health
    from bot.services import build_services, prepare_database

    client = slack_client(settings)
    services = build_services(settings, client)
    await prepare_database(services.settings, services.db)
    app = create_app(settings, services, client)
    health = Health(services.db)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(create_web_app(app, services, health), access_log=None)
    await runner.setup()
    # A burst of Slack events opens many connections at once; the default backlog is 128.
    site = web.TCPSite(runner, host, port, backlog=1024, reuse_port=reuse_port or None)
    await site.start()
    socket_handler = None
    if settings.slack_app_token:
        socket_handler = AsyncSocketModeHandler(app, settings.slack_app_token.get_secret_value())
        await socket_handler.connect_async()  # type: ignore[no-untyped-call]
        log.info("connected to Slack in Socket Mode; health on http://%s:%d", host, port)
    else:
        log.info("listening on http://%s:%d (POST /slack/events)", host, port)
    await services.start()  # before the first sweep: this process holds claims from now on
    sweeper = asyncio.create_task(services.worker.sweep_forever())
    await stop.wait()
    if settings.drain_seconds:
        health.draining = True
        log.info("draining: not ready, still serving for %gs", settings.drain_seconds)
        await asyncio.sleep(settings.drain_seconds)
    log.info("shutting down: finishing answers in flight")
    sweeper.cancel()
    if socket_handler is not None:
        await socket_handler.close_async()  # type: ignore[no-untyped-call]
    await runner.cleanup()
    await services.close()
    if client.session is not None:
        await client.session.close()


# What Slack answers a token it does not take (auth.test's documented errors).
_TOKEN_REFUSED = frozenset(
    {"not_authed", "invalid_auth", "token_revoked", "token_expired", "account_inactive"}
)


async def _check_bot_token(settings: Settings) -> None:
    """Ask Slack (auth.test) whether it takes SLACK_BOT_TOKEN; a refused token stops the start.
    Slack out of reach or failing is only a warning: events are still taken, answered later."""
    import aiohttp
    from slack_sdk.errors import SlackApiError

    from bot.app import slack_client

    client = slack_client(settings)
    try:
        who = await client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error in _TOKEN_REFUSED:
            raise ConfigError(
                f"Slack refused SLACK_BOT_TOKEN ({error}). Copy the 'Bot User OAuth Token' "
                "(xoxb-...) again from the app's 'OAuth & Permissions' page at "
                "https://api.slack.com/apps (reinstall the app there if the token was revoked)."
            ) from exc
        log.warning(
            "Slack's auth.test failed (%s); starting anyway", error or exc.response.status_code
        )
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        log.warning(
            "could not reach Slack at SLACK_API_URL to check SLACK_BOT_TOKEN (%s); starting anyway",
            type(exc).__name__,
        )
    else:
        log.info(
            "Slack takes SLACK_BOT_TOKEN: bot user %s of team %s",
            who.get("user_id"),
            who.get("team_id"),
        )
    finally:
        if client.session is not None:
            await client.session.close()


async def _prepare(settings: Settings) -> None:
    """Migrate and seed once, before several serve processes start."""
    from bot.services import prepare_database
    from bot.store.db import Database

    db = Database(settings.database_url)
    try:
        await prepare_database(settings, db)
    finally:
        await db.close()


def _run_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run the server on uvloop where it is installed (Linux, macOS): its event loop spends
    less CPU per request than asyncio's own, and one loop's CPU is what limits a process."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


class TerminalSender:
    """`supportbot chat`'s sender: the posts printed in the terminal."""

    async def thinking(self, conversation: Conversation) -> None:
        return None

    async def clear_thinking(self, conversation: Conversation) -> None:
        return None

    async def post_reply(self, post: ThreadPost) -> str | None:
        if post.start == 0:
            tier = f" [{post.tier}]" if post.tier else ""
            print(f"\nbot{tier}> {post.text}\n", flush=True)
        return None

    async def post_escalation(self, post: LeadsPost) -> tuple[str, str | None]:
        print(f"(escalation #{post.escalation.id} is waiting for a support lead)", flush=True)
        return post.channel_id, None

    async def post_alert(self, channel_id: str, text: str) -> str | None:
        print(f"(for the leads: {text})", flush=True)
        return None


def chat_database_url(main_url: str) -> str:
    """The terminal chat's own database: beside a SQLite main database (`supportbot.db` ->
    `supportbot-chat.db`), else `supportbot-chat.db` in the working directory."""
    from sqlalchemy.engine import make_url

    url = make_url(main_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database)
        return str(url.set(database=str(path.with_name(f"{path.stem}-chat{path.suffix}"))))
    return "sqlite:///supportbot-chat.db"


async def _chat(settings: Settings, email: str, lead: bool) -> None:
    from sqlalchemy.engine import make_url

    from bot.services import build_services, prepare_database
    from bot.store import queries

    user_id = f"cli:{email}"
    if lead:
        settings = settings.model_copy(update={"lead_users": [*settings.lead_users, user_id]})
    services = build_services(
        settings, None, sender=TerminalSender(), known_emails={user_id: email}
    )
    await prepare_database(services.settings, services.db)
    await services.start()
    thread = f"cli-{uuid.uuid4().hex[:12]}"
    where = make_url(settings.database_url).render_as_string(hide_password=True)
    print(
        f"Talking to supportbot as {email} (model {settings.primary_model}), "
        f"recorded in {where}. Ctrl-D ends."
    )
    turn = 0
    try:
        while True:
            try:
                text = await asyncio.to_thread(input, "you> ")
            except EOFError:
                break
            turn += 1
            message_id = await queries.record_inbound(
                services.db,
                queries.Inbound("cli", "cli", thread, user_id, text, f"{thread}.{turn}"),
            )
            if message_id is not None:
                await services.worker.process(message_id)
    finally:
        await services.close()


async def _db_migrate(settings: Settings, command: str, revision: str) -> int:
    from bot.store.db import Database

    db = Database(settings.database_url)
    try:
        if command == "upgrade":
            await db.upgrade()
            print("database schema is up to date")
            return 0
        current = await db.current_revision()
        _check_downgrade(revision, current)
        await db.downgrade(revision)
    finally:
        await db.close()
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
    from bot.store.db import Database

    records = parse_order_file(path.read_text(encoding="utf-8"), path.name)
    db = Database(settings.database_url)
    try:
        await db.upgrade()
        count = await import_orders(db, records)
    finally:
        await db.close()
    print(f"imported {count} order(s) from {path}")


async def _customers_link(settings: Settings, user_id: str, email: str) -> None:
    from bot.store.db import Database
    from bot.store.models import CustomerLink

    db = Database(settings.database_url)
    try:
        await db.upgrade()
        async with db.session() as s:
            await s.merge(CustomerLink(slack_user_id=user_id, email=email.strip().lower()))
            await s.commit()
    finally:
        await db.close()
    print(f"linked Slack user {user_id} to {email.strip().lower()}")


async def _escalations(settings: Settings, status: str, as_json: bool) -> None:
    import json

    from bot.store import escalations
    from bot.store.db import Database

    db = Database(settings.database_url)
    try:
        await db.upgrade()
        items = await escalations.listing(db, None if status == ALL else status)
    finally:
        await db.close()
    if as_json:
        print(json.dumps([e.model_dump(mode="json") for e in items], indent=2))
        return
    if not items:
        print(
            "no escalations"
            if status == ALL
            else f"no {status} escalations (--status all: every one)"
        )
        return
    for e in items:
        lead = f" lead={e.lead_user_id}" if e.lead_user_id else ""
        print(
            f"#{e.id} {e.status:<9} {e.created_at:%Y-%m-%d %H:%M} conversation={e.conversation_id}"
            f" reasons={','.join(e.reasons)}{lead}"
        )


async def _costs(
    settings: Settings, period: str, thread: str | None, user: str | None, as_json: bool
) -> int:
    from bot.costs_text import format_text
    from bot.store import costs
    from bot.store.cost_results import CostReport, CustomerSpend, ThreadDetail
    from bot.store.db import Database

    try:
        costs.period_window(period)
    except costs.PeriodError as exc:
        raise ConfigError(str(exc)) from exc
    where = costs.parse_thread_link(thread) if thread else None
    if thread and where is None:
        raise ConfigError(
            f"{thread!r} is not a Slack message link "
            "(https://WORKSPACE.slack.com/archives/CHANNEL/p1700000000123456)"
        )
    db = Database(settings.database_url)
    try:
        await db.upgrade()
        result: CostReport | ThreadDetail | CustomerSpend | None
        if where is not None:
            result = await costs.thread_detail(db, *where)
        elif user:
            result = await costs.customer_spend(db, user, period)
        else:
            result = await costs.report(
                db,
                period,
                strong_model=settings.strong_model,
                overrides=settings.price_overrides,
            )
    finally:
        await db.close()
    if result is None:
        print(f"supportbot: no record of the thread {thread}", file=sys.stderr)
        return 1
    print(result.to_json() if as_json else format_text(result))
    return 0


def _guard_scan(source: Path) -> int:
    """One message a line in (a file, or standard input for "-"), one JSON verdict a line out,
    then a summary; exit 0."""
    if str(source) == "-":
        return _guard_scan_lines(sys.stdin)
    if not source.is_file():
        raise ConfigError(f"{source} is not a file")
    with source.open(encoding="utf-8", errors="replace") as lines:
        return _guard_scan_lines(lines)


def _guard_scan_lines(lines: Iterable[str]) -> int:
    import json
    from collections import Counter

    from escalation.guards import check_input
    from escalation.learned import RULE as LEARNED_RULE

    flagged = 0
    rules: Counter[str] = Counter()
    layers: Counter[str] = Counter()
    total = 0
    for number, line in enumerate(lines, start=1):
        text = line.rstrip("\n").replace("\\n", "\n")
        if not text.strip():
            continue
        total += 1
        findings = check_input(text)
        fired = [f.rule for f in findings]
        # which layer flagged it: the hand-written rules, the learned model, or both
        flagged_by = [
            layer
            for layer, hit in (
                ("rules", any(rule != LEARNED_RULE for rule in fired)),
                ("learned", LEARNED_RULE in fired),
            )
            if hit
        ]
        if findings:
            flagged += 1
            rules.update(fired)
            layers.update(flagged_by)
        verdict = {
            "line": number,
            "flagged": bool(findings),
            "layers": flagged_by,
            "rules": fired,
            "details": [f.detail for f in findings],
        }
        print(json.dumps(verdict))
    share = flagged / total if total else 0.0
    summary = {
        "summary": {
            "messages": total,
            "flagged": flagged,
            "flagged_share": round(share, 4),
            "layers": dict(layers.most_common()),
            "rules": dict(rules.most_common()),
        }
    }
    print(json.dumps(summary))
    return 0


async def _stats(settings: Settings, days: int, as_json: bool) -> None:
    import json

    from bot.store import feedback
    from bot.store.db import Database
    from bot.store.models import utcnow

    db = Database(settings.database_url)
    try:
        await db.upgrade()
        figures = await feedback.stats(db, utcnow() - timedelta(days=days))
    finally:
        await db.close()

    def share(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.0%}"

    if as_json:
        data = {
            "days": days,
            "satisfaction_by_tier": {
                t.tier: {"up": t.up, "down": t.down, "satisfaction": t.satisfaction}
                for t in figures.by_tier
            },
            "conversations": figures.conversations,
            "resolved_by_bot": figures.resolved_by_bot,
            "resolution_rate": figures.resolution_rate,
        }
        print(json.dumps(data, indent=2))
        return
    print(f"last {days} day(s)")
    for t in figures.by_tier:
        print(f"  {t.tier:<8} satisfaction {share(t.satisfaction):>4}  (+{t.up} / -{t.down})")
    print(
        f"  resolution rate {share(figures.resolution_rate)} "
        f"({figures.resolved_by_bot} of {figures.conversations} conversations closed without "
        "a person and without a thumbs-down)"
    )


async def _knowledge_reindex(settings: Settings) -> None:
    from bot.knowledge import reindex, resolve_directory
    from bot.store.db import Database

    directory = resolve_directory(settings.knowledge_dir)
    db = Database(settings.database_url)
    try:
        await db.upgrade()
        stats = await reindex(db, directory)
    finally:
        await db.close()
    print(
        f"indexed {directory}: {stats.added} added, {stats.updated} updated, "
        f"{stats.removed} removed, {stats.unchanged} unchanged"
    )


def _age(text: str) -> timedelta:
    """`90d`, `12h` or `30m`."""
    units = {"d": "days", "h": "hours", "m": "minutes"}
    number, unit = text[:-1], text[-1:]
    if unit not in units or not number.isdigit() or int(number) <= 0:
        raise ConfigError(f"--older-than takes a number and d, h or m, like 90d (not {text!r})")
    try:
        age = timedelta(**{units[unit]: int(number)})
    except OverflowError:
        age = timedelta.max
    if age > MAX_AGE:
        raise ConfigError(f"--older-than goes back {MAX_AGE.days} days at most (not {text!r})")
    return age


# The longest look back of `stats --days` and `purge --older-than`: a century.
MAX_AGE = timedelta(days=36_500)
ALL = "all"  # `escalations --status all`


def _whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not from {low} to {high}")
        return value

    return parse


async def _purge(settings: Settings, older_than: timedelta) -> None:
    from bot.store.db import Database
    from bot.store.models import utcnow
    from bot.store.purge import purge

    db = Database(settings.database_url)
    try:
        await db.upgrade()
        result = await purge(db, utcnow() - older_than)
    finally:
        await db.close()
    print(
        f"purged {result.conversations} conversation(s): {result.messages} message(s) and "
        f"{result.escalations} escalation(s) deleted; spend records kept"
    )


def _add_serve_and_chat(sub: Any) -> None:
    """The bot itself, in Slack and in the terminal."""
    serve = sub.add_parser(
        "serve", help="run the Slack bot (HTTP, or Socket Mode with SLACK_APP_TOKEN)"
    )
    serve.add_argument("--port", type=_whole_number(0, 65535), default=3000, help="default 3000")
    serve.add_argument("--host", default="0.0.0.0", help="default 0.0.0.0 (every interface)")
    serve.add_argument(
        "--processes",
        type=_whole_number(1, 256),
        default=1,
        metavar="N",
        help="serve processes on the port (one per core uses the machine; default 1)",
    )
    # set by --processes for its children: share the port (SO_REUSEPORT)
    serve.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    chat = sub.add_parser("chat", help="talk to the bot in the terminal, through the same pipeline")
    chat.add_argument("--email", default="alice@example.com", help="the customer you speak as")
    chat.add_argument("--lead", action="store_true", help="speak as a support lead")
    chat_db = chat.add_mutually_exclusive_group()
    chat_db.add_argument(
        "--database",
        metavar="URL",
        help="where the chat is recorded (default: a SQLite file of its own, apart from the "
        "leads' queues and reports: DATABASE_URL's with -chat added, e.g. supportbot-chat.db)",
    )
    chat_db.add_argument(
        "--main-database",
        action="store_true",
        help="record the chat in DATABASE_URL, where the leads and /costs see it",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="supportbot",
        description=__doc__,
        epilog="`supportbot COMMAND --help` tells more about one.",
    )
    # argparse lists every command with its help below: nothing to keep in step by hand.
    sub = parser.add_subparsers(dest="command", required=True, title="commands", metavar="COMMAND")
    _add_serve_and_chat(sub)
    _add_data_commands(sub)
    _add_report_commands(sub)
    return parser


def _add_data_commands(sub: Any) -> None:
    """db, orders, customers, knowledge, purge: what the bot's database holds."""
    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="create or migrate the schema to the newest version")
    down = db_sub.add_parser(
        "downgrade", help="migrate the schema back to an older revision (before an older release)"
    )
    down.add_argument(
        "revision",
        nargs="?",
        default="",
        help="the revision to go back to, e.g. 0006 ('base': empty); without it, the list",
    )
    orders = sub.add_parser("orders", help="the embedded order store")
    orders_sub = orders.add_subparsers(dest="orders_command", required=True)
    imp = orders_sub.add_parser("import", help="import orders from a JSON or CSV file")
    imp.add_argument(
        "file",
        type=Path,
        help='JSON: a list of orders or {"orders": [...]}; CSV: one order a row, items as JSON',
    )
    customers = sub.add_parser("customers", help="customer identities")
    customers_sub = customers.add_subparsers(dest="customers_command", required=True)
    link = customers_sub.add_parser("link", help="link a Slack user to a customer email")
    link.add_argument(
        "slack_user_id", help="a Slack member id, U...: profile -> More -> Copy member ID"
    )
    link.add_argument("email", help="the customer's email, as in the orders")
    knowledge = sub.add_parser("knowledge", help="the help-center articles (KNOWLEDGE_DIR)")
    knowledge_sub = knowledge.add_subparsers(dest="knowledge_command", required=True)
    knowledge_sub.add_parser("reindex", help="rebuild the search index from the folder")
    purge = sub.add_parser("purge", help="delete old conversations' messages (spend is kept)")
    purge.add_argument(
        "--older-than", required=True, metavar="AGE", help="age like 90d, 12h or 30m"
    )


def _add_report_commands(sub: Any) -> None:
    """stats, escalations, guard, costs: what leads read."""
    stats = sub.add_parser("stats", help="satisfaction by tier and the resolution rate")
    stats.add_argument(
        "--days", type=_whole_number(1, MAX_AGE.days), default=30, help="look back (default 30)"
    )
    stats.add_argument("--json", action="store_true", help="JSON instead of text")
    esc = sub.add_parser("escalations", help="list escalations, oldest first")
    esc.add_argument(
        "--status",
        choices=[*EscalationStatus, ALL],
        default=EscalationStatus.OPEN,
        help="the ones waiting for a lead by default (open, like the App Home); all: every one",
    )
    esc.add_argument("--json", action="store_true", help="JSON instead of one line each")
    guard = sub.add_parser("guard", help="the instruction-hierarchy checks")
    guard_sub = guard.add_subparsers(dest="guard_command", required=True)
    scan = guard_sub.add_parser(
        "scan", help="run the input check on a file (or - for standard input), one message a line"
    )
    scan.add_argument("file", type=Path, help="a file, or - to read standard input")
    cost = sub.add_parser("costs", help="what the bot spends: a period, one thread, one customer")
    cost.add_argument("--period", default="today", help="today, week, month, 7d or 30d (UTC)")
    cost.add_argument("--thread", metavar="LINK", help="one thread: a Slack message link")
    cost.add_argument("--user", metavar="SLACK_USER_ID", help="one customer's spend")
    cost.add_argument(
        "--json", action="store_true", help="JSON (keys: see the README, section 'Costs')"
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        _setup_logging(settings, quiet=args.command == "chat")
        if args.command == "serve":
            settings.check_serve()
            if not args.reuse_port:  # once, in the parent of --processes N
                asyncio.run(_check_bot_token(settings))
                for warning in settings.serve_warnings():
                    log.warning("%s", warning)
            if args.processes > 1:
                asyncio.run(_prepare(settings))
                return supervise(args.processes, args.host, args.port, settings.drain_seconds)
            _run_loop(_serve(settings, args.host, args.port, args.reuse_port))
        elif args.command == "chat":
            settings.check_chat()
            if not args.main_database:
                # A sandbox of its own, with the demo orders whatever SUPPORTBOT_DEMO_ORDERS says.
                database = args.database or chat_database_url(settings.database_url)
                update = {"database_url": database, "load_demo_orders": True}
                settings = settings.model_copy(update=update)
            asyncio.run(_chat(settings, args.email.lower(), args.lead))
        elif args.command == "db":
            revision = getattr(args, "revision", "").strip()
            return asyncio.run(_db_migrate(settings, args.db_command, revision))
        elif args.command == "orders":
            if not args.file.is_file():
                raise ConfigError(f"{args.file} is not a file")
            asyncio.run(_orders_import(settings, args.file))
        elif args.command == "customers":
            if "@" not in args.email:
                raise ConfigError(f"{args.email!r} is not an email address")
            asyncio.run(_customers_link(settings, args.slack_user_id, args.email))
        elif args.command == "stats":
            asyncio.run(_stats(settings, args.days, args.json))
        elif args.command == "knowledge":
            asyncio.run(_knowledge_reindex(settings))
        elif args.command == "purge":
            asyncio.run(_purge(settings, _age(args.older_than)))
        elif args.command == "escalations":
            asyncio.run(_escalations(settings, args.status, args.json))
        elif args.command == "guard":
            return _guard_scan(args.file)
        elif args.command == "costs":
            return asyncio.run(_costs(settings, args.period, args.thread, args.user, args.json))
    except ConfigError as exc:
        print(f"supportbot: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`supportbot costs --json | head`): nothing to tell it.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (ValueError, OSError) as exc:
        print(f"supportbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
