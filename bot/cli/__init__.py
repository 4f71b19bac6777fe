"""`supportbot`: the Slack support bot, and what its operators and support leads run in a
terminal. `main` is the console script; `python -m bot.cli` runs it too.

    parser.py    every command, option and help text
    serve.py     serve: the Slack bot
    chat.py      chat: the bot in the terminal
    data.py      db, orders, customers, knowledge, purge
    reports.py   stats, escalations, costs, calibrate
    workspaces.py  workspaces list|set, and the --team of the reports
    guard.py     guard scan
    eval.py      eval, eval compare
    export.py    export finetune
    accounts.py  accounts add, link-channel, list
    database.py  the open, migrate and close around a command's database work
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable

from bot import log_privacy
from bot.cli import accounts, chat, data, export, guard, reports, serve, workspaces
from bot.cli import eval as evaluation
from bot.cli.parser import build_parser
from bot.config import LogFormat, Settings, load_settings
from bot.errors import ConfigError
from bot.log_json import JsonFormatter

__all__ = ["build_parser", "main"]

Command = Callable[[argparse.Namespace, Settings], int]
_COMMANDS: dict[str, Command] = {
    "serve": serve.run,
    "chat": chat.run,
    "db": data.run_db,
    "orders": data.run_orders,
    "customers": data.run_customers,
    "stats": reports.run_stats,
    "knowledge": data.run_knowledge,
    "purge": data.run_purge,
    "escalations": reports.run_escalations,
    "guard": guard.run,
    "costs": reports.run_costs,
    "calibrate": reports.run_calibrate,
    "eval": evaluation.run,
    "export": export.run,
    "workspaces": workspaces.run,
    "accounts": accounts.run,
}


def _setup_logging(settings: Settings, *, quiet: bool = False) -> None:
    """`quiet` (a terminal chat, an eval run): warnings and errors only, unless
    SUPPORTBOT_LOG_LEVEL is set, so that no log line (the SDKs' HTTP requests) comes between a
    question and its answer, or through the progress bar."""
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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        _setup_logging(settings, quiet=args.command in ("chat", "eval"))
        return _COMMANDS[args.command](args, settings)
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
