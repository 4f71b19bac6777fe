"""`supportbot` (`bot.cli.main`) with every database statement counted, for bench/load.py.

    BENCH_STATEMENT_COUNTS=/tmp/counts.json python bench/_count_statements.py serve --port 8000

Nothing in the product changes: SQLAlchemy's events, listened to on the `Engine` and `Pool`
classes, reach every engine the process creates (the async engine's `sync_engine` is one).
Counted: each statement sent to the driver, by its first word (SELECT, INSERT, UPDATE, DELETE,
...; an `executemany` counts once), and each BEGIN, COMMIT and ROLLBACK SQLAlchemy asks of it;
separately, the pool's reset of a returned connection ("reset": a DBAPI rollback, a hop to the
connection's thread on aiosqlite, nothing sent by asyncpg outside a transaction). The liveness
ping of a connection idle for a while goes round the events and is not counted.

The counts so far (a JSON object, with "dumps": how many times it was written) are written to
the file named by BENCH_STATEMENT_COUNTS on SIGUSR1 and at exit.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

# bench/ itself: the bot and its imports come from PYTHONPATH, the tree under test.
sys.path.pop(0)

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

COUNTS: Counter[str] = Counter()
_DUMPS = [0]


def _statement(
    _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
) -> None:
    words = statement.split(None, 1)
    COUNTS[words[0].upper() if words else "EMPTY"] += 1


def _counter(name: str) -> Any:
    def count(*_args: Any) -> None:
        COUNTS[name] += 1

    return count


def _reset(_dbapi_conn: Any, _record: Any, state: Any) -> None:
    # After a commit or rollback the pool still calls the DBAPI's rollback on return.
    if not state.transaction_was_reset:
        COUNTS["reset"] += 1


def dump(*_args: Any) -> None:
    """Write the counts so far; atomically, so the reader never sees half a file."""
    path = Path(os.environ["BENCH_STATEMENT_COUNTS"])
    _DUMPS[0] += 1
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps({"dumps": _DUMPS[0], "counts": dict(COUNTS)}))
    partial.replace(path)


def install() -> None:
    event.listen(Engine, "before_cursor_execute", _statement)
    # (SAVEPOINT and its release are statements, counted above.)
    for name in ("begin", "commit", "rollback"):
        event.listen(Engine, name, _counter(name.upper()))
    event.listen(Pool, "reset", _reset)
    signal.signal(signal.SIGUSR1, dump)
    atexit.register(dump)


if __name__ == "__main__":
    install()
    from bot.cli import main

    sys.exit(main(sys.argv[1:]))
