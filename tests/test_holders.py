"""A claim's holder is alive while its process runs, however slow, and dead soon after the process
is killed: real processes and SIGKILL, on SQLite and on PostgreSQL. What it cannot judge (a
malformed id) is never dead, and neither is this process's own id."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bot.store.db import Database
from bot.store.holders import (
    HOLDER_LOCK_NS,
    LocalHolders,
    PgHolders,
    holders_for,
)
from tests.serving import process_env

# Generous against a hang on a loaded machine; the measured figures are far below (BRIEF).
DEAD_WITHIN = 10.0

# Holds a claim and then is as slow as a holder gets: its event loop never runs again.
HOLDER_SCRIPT = """
import asyncio, sys, time
from bot.store.db import Database
from bot.store.holders import holders_for

async def main():
    holders = holders_for(Database(sys.argv[1]))
    await holders.start()
    print(holders.me, flush=True)
    time.sleep(3600)

asyncio.run(main())
"""


def on_postgresql(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "postgresql"


def lock_file(database_url: str, holder: str) -> Path:
    """Where a SQLite holder keeps its lock: beside the database file."""
    return Path(f"{make_url(database_url).database}.holders/{holder.removeprefix('local:')}.lock")


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.close()


@pytest.fixture
def holder_process(
    database_url: str, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A process holding claims (its id), killed at the end; never reaped before then, so that
    a killed one stays a zombie while the test looks at it."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER_SCRIPT, database_url],
        stdout=subprocess.PIPE,
        text=True,
        env=process_env(database_url, tmp_path),
    )
    try:
        assert proc.stdout is not None
        me = proc.stdout.readline().strip()
        assert me, "the holder process did not start"
        yield proc, me
    finally:
        proc.kill()
        proc.wait()


async def dead_after(holders: PgHolders | LocalHolders, holder: str) -> float:
    """Seconds until `holder` is reported dead; fails after DEAD_WITHIN."""
    began = time.monotonic()
    while holder not in await holders.dead([holder]):
        assert time.monotonic() - began < DEAD_WITHIN, f"{holder} still alive"
        await asyncio.sleep(0.005)
    return time.monotonic() - began


async def test_a_slow_living_holder_is_alive_and_dead_soon_after_sigkill(
    db: Database, holder_process: tuple[subprocess.Popen[str], str]
) -> None:
    proc, child = holder_process
    holders = holders_for(db)
    await holders.start()
    try:
        assert child.startswith("pg:" if on_postgresql(db.url) else "local:")
        assert child != holders.me
        for _ in range(5):  # its event loop is blocked all along: slow, not dead
            assert await holders.dead([child, holders.me]) == set()
            await asyncio.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
        took = await dead_after(holders, child)
        print(f"{db.engine.dialect.name}: dead {took * 1000:.1f} ms after SIGKILL")
        if not on_postgresql(db.url):  # not reaped yet: a zombie is gone too
            assert Path(f"/proc/{proc.pid}/stat").read_text().split(") ")[1][0] == "Z"
            assert not lock_file(db.url, child).exists()  # the judge removed what it left
    finally:
        await holders.close()


KEY = "0123456789abcdef" * 2
MALFORMED = [
    *["", "pg:", "pg:0", "pg:-7", "pg:12a", "pg:2147483648", "x:1", "local:", "local:h:1"],
    *[f"local:{KEY[:-1]}", f"local:{KEY}0", f"local:{KEY.upper()}", f"local:../{KEY[3:]}"],
    "local:host:1:0123abcd.42",  # the former pid-based id
]


async def test_what_it_cannot_judge_and_its_own_id_are_never_dead(db: Database) -> None:
    holders = holders_for(db)
    await holders.start()
    try:
        assert await holders.dead([holders.me, *MALFORMED]) == set()
        assert await holders.dead([]) == set()
    finally:
        await holders.close()


async def test_start_is_idempotent_and_close_ends_the_holder(database_url: str) -> None:
    one, other = Database(database_url), Database(database_url)
    holders, judge = holders_for(one), holders_for(other)
    try:
        await holders.start()
        me = holders.me
        await holders.start()
        assert holders.me == me
        await judge.start()
        assert await judge.dead([me]) == set()
        assert await holders.dead([judge.me]) == set()
        if on_postgresql(database_url):
            assert await lock_backends(database_url, me) == 1
        await holders.close()
        assert await judge.dead([me]) == {me}  # at once: the lock is released, not timed out
        if on_postgresql(database_url):
            assert await lock_backends(database_url, me) == 0
        else:
            assert not lock_file(database_url, me).exists()
    finally:
        await holders.close()
        await judge.close()
        await one.close()
        await other.close()


async def test_sqlite_a_holder_locks_a_file_of_its_own_beside_the_database(
    database_url: str,
) -> None:
    if on_postgresql(database_url):
        pytest.skip("SQLite's lock files")
    db = Database(database_url)
    holders = holders_for(db)
    try:
        await holders.start()
        locks = lock_file(database_url, holders.me).parent
        assert locks == Path(database_url.removeprefix("sqlite:///") + ".holders")
        assert locks.stat().st_mode & 0o777 == 0o700
        assert [p.name for p in locks.iterdir()] == [lock_file(database_url, holders.me).name]
        # Well-formed but with no file: never started here, or gone and its file removed.
        assert await holders.dead([f"local:{KEY}"]) == {f"local:{KEY}"}
    finally:
        await holders.close()
        await db.close()
    assert list(locks.iterdir()) == []


async def test_sqlite_a_killed_process_file_is_judged_dead_and_removed(
    database_url: str, holder_process: tuple[subprocess.Popen[str], str]
) -> None:
    if on_postgresql(database_url):
        pytest.skip("SQLite's lock files")
    proc, child = holder_process
    proc.kill()
    proc.wait()
    left = lock_file(database_url, child)
    assert left.exists()  # a killed process cannot remove it
    db = Database(database_url)
    holders = holders_for(db)
    try:
        assert await holders.dead([child]) == {child}  # at the first look, on its file
        assert not left.exists()
        # One no claim names is removed when a holder starts.
        left.touch()  # what a killed process leaves: a file nobody locks
        await holders.start()
        assert not left.exists()
        assert lock_file(database_url, holders.me).exists()
    finally:
        await holders.close()
        await db.close()


async def test_without_flock_no_holder_is_judged_dead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    holders = LocalHolders(tmp_path / "db.holders")
    await holders.start()
    assert holders.me.startswith("local:")
    assert await holders.dead([f"local:{KEY}"]) == set()
    assert not (tmp_path / "db.holders").exists()
    await holders.close()


async def test_a_living_holder_whose_lock_file_was_removed_takes_a_new_id(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    if sys.platform == "win32":
        pytest.skip("flock")
    holders, judge = (
        LocalHolders(tmp_path / "db.holders", ping=0.02),
        LocalHolders(tmp_path / "db.holders"),
    )
    await holders.start()
    await judge.start()
    try:
        lost = holders.me
        (tmp_path / "db.holders" / f"{lost.removeprefix('local:')}.lock").unlink()  # a cleaner
        began = time.monotonic()
        while holders.me == lost:
            assert time.monotonic() - began < DEAD_WITHIN, "no new lock file was taken"
            await asyncio.sleep(0.01)
        assert await judge.dead([lost, holders.me]) == {lost}
        assert any(lost in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)
    finally:
        await holders.close()
        await judge.close()
    assert list((tmp_path / "db.holders").glob("*.lock")) == []


async def lock_backends(database_url: str, holder: str) -> int:
    """How many sessions hold `holder`'s lock."""
    return len(await lock_pids(database_url, holder))


async def lock_pids(database_url: str, holder: str) -> list[int]:
    admin = await asyncpg.connect(
        make_url(database_url).set(drivername="postgresql").render_as_string(False)
    )
    try:
        rows = await admin.fetch(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1"
            " AND objid = $2 AND objsubid = 2",
            HOLDER_LOCK_NS,
            int(holder.removeprefix("pg:")),
        )
        return [row["pid"] for row in rows]
    finally:
        await admin.close()


async def test_postgresql_a_lost_lock_connection_is_replaced_under_a_new_id(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    if not on_postgresql(db.url):
        pytest.skip("the lock connection is PostgreSQL's")
    holders = PgHolders(db.engine, ping=0.05, timeout=1.0)
    judge = holders_for(db)
    await holders.start()
    await judge.start()
    try:
        lost = holders.me
        [backend] = await lock_pids(db.url, lost)
        admin = await asyncpg.connect(
            make_url(db.url).set(drivername="postgresql").render_as_string(False)
        )
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", backend)
        finally:
            await admin.close()
        began = time.monotonic()
        while holders.me == lost:
            assert time.monotonic() - began < DEAD_WITHIN, "the lock was not taken again"
            await asyncio.sleep(0.02)
        assert await judge.dead([lost, holders.me]) == {lost}
        assert await lock_backends(db.url, holders.me) == 1
        errors = [
            r for r in caplog.records if r.levelno == logging.ERROR and lost in r.getMessage()
        ]
        assert errors and errors[0].name == "bot.store.holders"
    finally:
        await holders.close()
        await judge.close()


async def test_postgresql_the_same_lock_in_another_database_holds_nothing_here(
    db: Database,
) -> None:
    if not on_postgresql(db.url):
        pytest.skip("advisory locks are per database on a PostgreSQL server")
    key = 123_456_789
    # Another supportbot's database on the same server, holding the same key.
    elsewhere = make_url(os.environ["TEST_DATABASE_URL"]).set(drivername="postgresql")
    other = await asyncpg.connect(elsewhere.render_as_string(False))
    try:
        assert await other.fetchval("SELECT pg_try_advisory_lock($1, $2)", HOLDER_LOCK_NS, key)
        assert await holders_for(db).dead([f"pg:{key}"]) == {f"pg:{key}"}
    finally:
        await other.close()
