"""Who holds a claim, and whether that holder is alive. A claim (a message being answered, an
outbox row being posted) records `holder`, the id of the process holding it; another process
takes a claim over exactly when its holder is dead, never while it lives, however slow.

- PostgreSQL: a process holds a session advisory lock `(HOLDER_LOCK_NS, key)` on a connection of
  its own for its life; id `pg:<key>`. The server drops the lock when the process dies (its
  socket closes; keepalives catch a vanished host): a holder is dead when its lock is not held.
  Needs real sessions: not through a transaction-pooling PgBouncer.
- SQLite: a process holds an exclusive `flock` on a file of its own for its life, in the
  directory `<database file>.holders/`; id `local:<key>`, the file `<key>.lock`. The kernel drops
  the lock when the process dies, whatever its host name or pid namespace (containers sharing
  the database on one machine): a holder is dead when its file is gone or its lock can be taken
  (the judge then removes the file). Needs a local file system, as SQLite does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import secrets
import sys
from collections.abc import Collection
from pathlib import Path
from typing import Protocol

from sqlalchemy import bindparam, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.store.db import Database

if sys.platform != "win32":
    import fcntl

log = logging.getLogger(__name__)

# Ours alone among the two-int4 advisory locks (its classid); db's upgrade lock is one-bigint.
HOLDER_LOCK_NS = 0x5B08
PG_PREFIX, LOCAL_PREFIX = "pg:", "local:"
PING_SECONDS, PING_TIMEOUT_SECONDS = 3.0, 5.0

# The lock session's own settings: the server notices a vanished client host in about 11 s
# (the operating system's default keepalive waits hours).
_KEEPALIVES = text(
    "SELECT set_config('tcp_keepalives_idle', '5', false),"
    " set_config('tcp_keepalives_interval', '2', false),"
    " set_config('tcp_keepalives_count', '3', false)"
)
_TRY_LOCK = text(f"SELECT pg_try_advisory_lock({HOLDER_LOCK_NS}, :key)")
_UNLOCK = text(f"SELECT pg_advisory_unlock({HOLDER_LOCK_NS}, :key)")
_PING = text("SELECT 1")
_HELD = text(
    "SELECT objid::int8 FROM pg_locks WHERE locktype = 'advisory' AND granted"
    f" AND classid = {HOLDER_LOCK_NS} AND objsubid = 2 AND objid::int8 = ANY(:keys)"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
).bindparams(bindparam("keys"))


_PG_ID = re.compile(r"pg:([1-9][0-9]{0,9})")
_LOCAL_ID = re.compile(r"local:([0-9a-f]{32})")


class Holders(Protocol):
    @property
    def me(self) -> str:
        """This process's holder id (<= 64 chars), for each claim it makes. Read it at each
        claim: on PostgreSQL it changes when the lock was lost and taken anew."""

    async def start(self) -> None:
        """Become alive (idempotent)."""

    async def close(self) -> None:
        """Stop being alive: this process's claims are then others' to take over."""

    async def dead(self, holders: Collection[str]) -> set[str]:
        """Of these holder ids, those whose process is certainly gone; an id it cannot judge
        (a malformed id; any on Windows, without `flock`) is not dead, and `me` never is."""


class _Named:
    """A holder's id: its kind's prefix and the key of the lock it holds (none before start)."""

    _prefix = ""
    _key: object

    @property
    def me(self) -> str:
        if not self._key:
            raise RuntimeError("Holders.start() first: this process holds no lock yet")
        return f"{self._prefix}{self._key}"


def holders_for(db: Database) -> Holders:
    dialect = db.engine.dialect.name
    if dialect == "postgresql":
        return PgHolders(db.engine)
    if dialect == "sqlite":
        # Beside the database file (Database refuses an in-memory SQLite database).
        return LocalHolders(Path(os.path.abspath(f"{make_url(db.url).database}.holders")))
    raise ValueError(f"no holder liveness for {dialect!r}")


class PgHolders(_Named):
    _prefix = PG_PREFIX
    _key: int

    def __init__(
        self, engine: AsyncEngine, ping: float = PING_SECONDS, timeout: float = PING_TIMEOUT_SECONDS
    ) -> None:
        self._engine, self._ping, self._timeout = engine, ping, timeout
        self._conn: AsyncConnection | None = None
        self._key = 0
        self._mine: set[int] = set()
        self._watchdog: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._watchdog is None:
            await self._acquire()
            self._watchdog = asyncio.create_task(self._watch(), name="holder-lock-watchdog")

    async def _acquire(self) -> None:
        """A connection kept out of the pool for the process's life, locked under a new key."""
        conn = await self._engine.connect()
        try:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(_KEEPALIVES)
            key = 0
            while not key:  # a key another process holds is skipped, never waited for
                key = secrets.randbelow(2**31 - 1) + 1
                if not (await conn.execute(_TRY_LOCK, {"key": key})).scalar_one():
                    key = 0
        except BaseException:
            await _discard(conn)
            raise
        self._conn, self._key = conn, key
        self._mine.add(key)  # a key held before a lost lock is still this process's

    async def _watch(self) -> None:
        """Pings the lock's connection every few seconds; see `_check`."""
        while True:
            await asyncio.sleep(self._ping)
            await self._check()

    async def _check(self) -> None:
        """When the lock's connection is lost, a lock anew under a new key at once (claims
        made meanwhile name the old key, which other processes now take over), and again at
        each ping while the database does not answer."""
        if self._conn is not None:
            try:
                await asyncio.wait_for(self._conn.execute(_PING), self._timeout)
                return
            except Exception as exc:
                log.error(
                    "no database connection holds %s's lock (%s): other processes take over"
                    " its claims; taking a new holder id",
                    self.me,
                    type(exc).__name__,
                )
                await _discard(self._conn)
                self._conn = None
        try:
            await self._acquire()
        except Exception as exc:
            log.error("no new holder lock yet (%s); trying again", type(exc).__name__)
            return
        log.warning("claims are held as %s from now on", self.me)

    async def close(self) -> None:
        if self._watchdog is None:
            return
        self._watchdog.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._watchdog
        self._watchdog, conn, self._conn = None, self._conn, None
        if conn is None:
            return
        try:
            await conn.execute(_UNLOCK, {"key": self._key})
            await conn.close()  # unlocked: fit for the pool again
        except Exception:
            await _discard(conn)  # the session's end releases its lock too

    async def dead(self, holders: Collection[str]) -> set[str]:
        keys = {h: k for h in holders if (k := _pg_key(h)) is not None and k not in self._mine}
        if not keys:
            return set()
        async with self._engine.connect() as conn:
            held = set((await conn.execute(_HELD, {"keys": sorted(set(keys.values()))})).scalars())
        return {h for h, k in keys.items() if k not in held}


def _pg_key(holder: str) -> int | None:
    match = _PG_ID.fullmatch(holder)
    return int(match[1]) if match and int(match[1]) < 2**31 else None


async def _discard(conn: AsyncConnection) -> None:
    """Close a connection for good: back in the pool it would keep its lock."""
    with contextlib.suppress(Exception):
        await conn.invalidate()
    with contextlib.suppress(Exception):
        await conn.close()


class LocalHolders(_Named):
    """The processes using one SQLite database, each holding an exclusive lock on a file of
    its own in `directory`; Windows (no `flock`) judges no holder dead. A holder whose file is
    removed from under it (a cleaner of old files) counts as dead to the others from then on,
    so it takes a new file and id, as a PostgreSQL holder does when its lock is lost."""

    _prefix = LOCAL_PREFIX
    _key: str

    def __init__(self, directory: Path, ping: float = PING_SECONDS) -> None:
        self._dir, self._key, self._ping = directory, "", ping
        self._fd: int | None = None
        self._watchdog: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._key:
            return
        if sys.platform == "win32":
            self._key = secrets.token_hex(16)
            return
        self._acquire()
        self._watchdog = asyncio.create_task(self._watch(), name="holder-file-watchdog")
        # Files left by killed processes that no claim names are removed here.
        await self.dead([LOCAL_PREFIX + lock.stem for lock in self._dir.glob("*.lock")])

    def _acquire(self) -> None:
        key = secrets.token_hex(16)
        self._dir.mkdir(mode=0o700, exist_ok=True)
        new = self._dir / f"{key}.new"
        fd = os.open(new, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        new.rename(self._path(key))  # locked before any judge can see it
        self._fd, self._key = fd, key

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._ping)
            try:
                if self._holds_its_file():
                    continue
                lost, old_fd = self.me, self._fd
                self._acquire()
                if old_fd is not None:
                    os.close(old_fd)
                log.error(
                    "%s's lock file was removed: claims are held as %s from now on", lost, self.me
                )
            except OSError as exc:
                log.error("the holder's lock file could not be checked (%s)", type(exc).__name__)

    def _holds_its_file(self) -> bool:
        assert self._fd is not None
        try:
            listed = os.stat(self._path(self._key))
        except FileNotFoundError:
            return False
        held = os.fstat(self._fd)
        return (listed.st_dev, listed.st_ino) == (held.st_dev, held.st_ino)

    async def close(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
            self._watchdog = None
        if self._fd is not None:
            if self._holds_its_file():
                self._path(self._key).unlink(missing_ok=True)
            os.close(self._fd)  # and with it the lock
        self._fd, self._key = None, ""

    async def dead(self, holders: Collection[str]) -> set[str]:
        if sys.platform == "win32":
            return set()
        # Never `me`: a lock taken through another open file conflicts with this process's own
        return {h for h in holders if (m := _LOCAL_ID.fullmatch(h)) and self._released(m[1])}

    def _released(self, key: str) -> bool:
        """Whether no process holds this key's lock; if so, its file is removed."""
        try:
            with open(self._path(key), "rb") as file:
                fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._path(key).unlink(missing_ok=True)  # under our lock: its holder is gone
        except FileNotFoundError:
            return True  # removed by its holder's close, or by another judge
        except BlockingIOError:
            return False
        return True

    def _path(self, key: str) -> Path:
        return self._dir / f"{key}.lock"
