"""The `supportbot` command line: every command, option and help text."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.accounts.views import ReplyMode
from bot.store.models import EscalationStatus

DESCRIPTION = (
    "`supportbot`: the Slack support bot, and what its operators and support leads run in a\n"
    "terminal (one command each, listed below)."
)

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
        description=DESCRIPTION,
        epilog="`supportbot COMMAND --help` tells more about one.",
    )
    # argparse lists every command with its help below: nothing to keep in step by hand.
    sub = parser.add_subparsers(dest="command", required=True, title="commands", metavar="COMMAND")
    _add_serve_and_chat(sub)
    _add_data_commands(sub)
    _add_report_commands(sub)
    _add_eval_command(sub)
    _add_export_commands(sub)
    _add_accounts_commands(sub)
    return parser


def _add_accounts_commands(sub: Any) -> None:
    """accounts: customer organisations and the Slack Connect channels shared with them."""
    accounts = sub.add_parser("accounts", help="customer accounts and their shared channels")
    accounts_sub = accounts.add_subparsers(dest="accounts_command", required=True)
    team_help = "the workspace (T...); default: the only one the database knows"
    add = accounts_sub.add_parser("add", help="add a customer account")
    add.add_argument("name", help="the customer's name, e.g. Acme")
    add.add_argument(
        "--domain", action="append", required=True, metavar="D", help="an email domain (repeat)"
    )
    add.add_argument("--tier", required=True, help="the account's support tier, e.g. standard")
    add.add_argument(
        "--slack-team", action="append", default=[], metavar="T", help="the customer's Slack team"
    )
    add.add_argument("--external-id", metavar="X", help="the order service's account id")
    add.add_argument("--team", metavar="W", help=team_help)
    link = accounts_sub.add_parser("link-channel", help="map a shared channel to an account")
    link.add_argument("account", help="the account's name")
    link.add_argument("channel", help="the channel id, C...")
    link.add_argument(
        "--reply-mode",
        choices=[m.value for m in ReplyMode],
        default=ReplyMode.MENTIONS.value,
        help="mentions (default): only @mentions are answered; requests: top-level requests too",
    )
    link.add_argument("--team", metavar="W", help=team_help)
    listing = accounts_sub.add_parser("list", help="the accounts, their domains and channels")
    listing.add_argument("--json", action="store_true", help="as JSON")
    listing.add_argument("--team", metavar="W", help=team_help)


def _add_export_commands(sub: Any) -> None:
    """export: what the traffic teaches, as files for other tools."""
    export = sub.add_parser("export", help="files made from the bot's traffic")
    export_sub = export.add_subparsers(dest="export_command", required=True)
    finetune = export_sub.add_parser(
        "finetune",
        help="approved answers as OpenAI chat fine-tuning files (JSONL), personal data replaced",
    )
    finetune.add_argument(
        "--since", default="90d", metavar="AGE", help="answers of this long back (default 90d)"
    )
    finetune.add_argument(
        "--out",
        type=Path,
        default=Path("finetune.jsonl"),
        metavar="FILE",
        help="the training file (default finetune.jsonl)",
    )
    finetune.add_argument(
        "--validation",
        type=float,
        default=0.1,
        metavar="SHARE",
        help="share of the conversations held out for validation (default 0.1; 0: none)",
    )
    finetune.add_argument(
        "--validation-out",
        type=Path,
        metavar="FILE",
        help="the validation file (default: beside --out, FILE.validation.jsonl)",
    )


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
    _add_team(link)
    knowledge = sub.add_parser("knowledge", help="the help-center articles (KNOWLEDGE_DIR)")
    knowledge_sub = knowledge.add_subparsers(dest="knowledge_command", required=True)
    knowledge_sub.add_parser("reindex", help="rebuild the search index from the folder")
    purge = sub.add_parser("purge", help="delete old conversations' messages (spend is kept)")
    purge.add_argument(
        "--older-than", required=True, metavar="AGE", help="age like 90d, 12h or 30m"
    )


def _share(text: str) -> float:
    """An argparse type: a fraction above 0 and below 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not between 0 and 1 (0.05 is 5%)")
    return value


def _add_calibrate(sub: Any) -> None:
    calibrate = sub.add_parser(
        "calibrate",
        help="confidence threshold against escalation and error rates, from what leads and"
        " customers did with the answers",
    )
    calibrate.add_argument(
        "--since", default="30d", metavar="AGE", help="answers of the last 30d (default), 12h, ..."
    )
    calibrate.add_argument(
        "--target-error",
        type=_share,
        default=0.05,
        metavar="SHARE",
        help="the error rate to stay within among the answered (default 0.05)",
    )
    calibrate.add_argument(
        "--eval",
        type=Path,
        nargs="+",
        action="extend",
        default=[],
        metavar="RUN.json",
        help="verdicts of `supportbot eval --json` runs too (see the README for the keys read)",
    )
    calibrate.add_argument(
        "--json", action="store_true", help="JSON (keys: see the README, section 'Calibration')"
    )


def _add_report_commands(sub: Any) -> None:
    """stats, escalations, guard, costs, calibrate: what leads read."""
    stats = sub.add_parser("stats", help="satisfaction by tier and the resolution rate")
    stats.add_argument(
        "--days", type=_whole_number(1, MAX_AGE.days), default=30, help="look back (default 30)"
    )
    stats.add_argument("--json", action="store_true", help="JSON instead of text")
    esc = sub.add_parser("escalations", help="list escalations, oldest first")
    for command in (stats, esc):
        _add_team(command)
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
    _add_team(cost)
    _add_calibrate(sub)
    _add_workspaces(sub)


def _add_team(command: Any) -> None:
    command.add_argument(
        "--team",
        metavar="TEAM_ID",
        help="the Slack workspace (T...); needed when the bot serves several",
    )


def _add_workspaces(sub: Any) -> None:
    workspaces = sub.add_parser("workspaces", help="the Slack workspaces served and their leads")
    workspaces_sub = workspaces.add_subparsers(dest="workspaces_command", required=True)
    listing = workspaces_sub.add_parser("list", help="each workspace's leads channel and leads")
    listing.add_argument("--json", action="store_true", help="JSON instead of one line each")
    put = workspaces_sub.add_parser("set", help="set a workspace's leads channel or leads")
    put.add_argument("team", help="the workspace's team id, T...")
    put.add_argument("--leads-channel", metavar="CHANNEL", help="where its leads are told")
    put.add_argument("--lead-users", metavar="U1,U2", help="its leads: user or group ids")


EVAL_DESCRIPTION = """\
Run support cases through the real answering pipeline (the prompts, tools, guards and policy
of `supportbot chat`; replies are kept, not posted) with the configured models, on a
throwaway SQLite database holding the eval shop's orders and help center, and grade every
turn: the tools called and their arguments, facts the answer must and must not state, the
articles it must cite, the route (answer, strong, person) with its reasons, and leaks (the
canary, the system prompt, another customer's email or tracking number). Spending limits and
the rate limit do not apply; the run's cost is reported. The format of a suite file, the JSON
shape and every figure: the README, section 'Evaluate the bot'.

  supportbot eval                           every bundled suite
  supportbot eval smoke mine.yaml --out a.json   a bundled suite and a file of your own
  supportbot eval compare a.json b.json [--chart FILE.png]   runs saved with --out, side by side

exit status: 0 the run finished and no answer leaked (failed cases are in the report); 3 an
answer leaked; 1 a suite or run file could not be read; 2 a setting or option is wrong."""

EVAL_TIER_HELP = (
    "which models answer. routed (default): as configured, the primary model and the strong "
    "one when the policy escalates. primary: every call by SUPPORTBOT_PRIMARY_MODEL (and its "
    "fallbacks): the strong tier runs it too, so an escalated turn is tried again by the "
    "cheap model with the escalation prompt. strong: every call by SUPPORTBOT_STRONG_MODEL, "
    "the first tier's too. With primary or strong, the route check tells a model's answer "
    "(answer or strong) only from a person's"
)


def _add_eval_command(sub: Any) -> None:
    """eval: grade the bot on support cases; eval compare: runs side by side."""
    from bot.eval import DEFAULT_BATCH_STATE, DEFAULT_CONCURRENCY, TierMode, bundled_suites

    ev = sub.add_parser(
        "eval",
        help="grade the bot on suites of support cases; `eval compare` puts runs side by side",
        description=EVAL_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    names = ", ".join(bundled_suites()) or "none"
    ev.add_argument(
        "suites",
        nargs="*",
        metavar="SUITE",
        help=f"a bundled suite ({names}) or a suite file (.yaml, .yml, .jsonl); none: every "
        "bundled suite. `compare A.json B.json ...`: compare runs instead",
    )
    ev.add_argument("--tier", choices=list(TierMode), help=EVAL_TIER_HELP)
    ev.add_argument(
        "--json", action="store_true", help="print the run as JSON instead of the table"
    )
    ev.add_argument("--out", type=Path, metavar="FILE.json", help="also write the run's JSON")
    ev.add_argument(
        "--chart",
        type=Path,
        metavar="FILE.png",
        help="plot cost per case against the share of cases passed, a point per run",
    )
    ev.add_argument(
        "--concurrency",
        type=_whole_number(1, 64),
        metavar="N",
        help=f"cases run at once (default {DEFAULT_CONCURRENCY}; with --batch, every case)",
    )
    ev.add_argument(
        "--batch",
        action="store_true",
        help="send the calls through the providers' Batch APIs, round by round: half the "
        "price, answered within hours; run the same command again to resume an interrupted run",
    )
    ev.add_argument(
        "--batch-state",
        type=Path,
        metavar="FILE.db",
        help=f"with --batch: where the batches sent and their results are kept until the run "
        f"ends, to resume from (default {DEFAULT_BATCH_STATE})",
    )
