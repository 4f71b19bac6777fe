"""Who holds a claim, and whether that holder is alive. A claim (a message being answered, an
outbox row being posted) records `holder`, the id of the process holding it; another process
takes a claim over exactly when its holder is dead, never while it lives, however slow.

- PostgreSQL: a process holds a session advisory lock `(HOLDER_LOCK_NS, key)` on a connection of
  its own for its life; id `pg:<key>`. The server drops the lock when the process dies (its
  socket closes; keepalives catch a vanished host): a holder is dead when its lock is not held.
  Needs real sessions: not through a transaction-pooling PgBouncer.
- SQLite (one host by nature): id `local:<host>:<pid>:<boot>.<start tick>`; a holder of this
  host is dead when its pid is gone, a zombie, or another process (other start or boot).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import secrets
import socket
from collections.abc import Collection
from hashlib import sha256
from typing import Protocol

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.store.db import Database

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
# `?` where a start time cannot be read (no /proc).
_LOCAL_ID = re.compile(r"local:([^:]+):([1-9][0-9]{0,9}):([0-9a-f]{8}\.[0-9]{1,20}|\?)")


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
        (another host, a malformed id) is not dead, and `me` never is."""


def holders_for(db: Database) -> Holders:
    dialect = db.engine.dialect.name
    if dialect == "postgresql":
        return PgHolders(db.engine)
    if dialect == "sqlite":
        return LocalHolders()
    raise ValueError(f"no holder liveness for {dialect!r}")


class PgHolders:
    def __init__(
        self, engine: AsyncEngine, ping: float = PING_SECONDS, timeout: float = PING_TIMEOUT_SECONDS
    ) -> None:
        self._engine, self._ping, self._timeout = engine, ping, timeout
        self._conn: AsyncConnection | None = None
        self._key = 0
        self._watchdog: asyncio.Task[None] | None = None

    @property
    def me(self) -> str:
        if not self._key:
            raise RuntimeError("Holders.start() first: this process holds no lock yet")
        return f"{PG_PREFIX}{self._key}"

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

    async def _watch(self) -> None:
        """Pings the lock's connection; when it is lost, takes a lock anew under a new key."""
        while True:
            await asyncio.sleep(self._ping)
            try:
                if self._conn is None:
                    await self._acquire()
                    log.warning("claims are held as %s from now on", self.me)
                else:
                    await asyncio.wait_for(self._conn.execute(_PING), self._timeout)
            except Exception as exc:
                log.error(
                    "no database connection holds %s's lock (%s): other processes take over"
                    " its claims; taking a new holder id",
                    self.me,
                    type(exc).__name__,
                )
                if self._conn is not None:
                    await _discard(self._conn)
                    self._conn = None

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
        keys = {h: k for h in holders if (k := _pg_key(h)) not in (None, self._key)}
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


class LocalHolders:
    """The processes of this host, told apart by pid and start time (SQLite)."""

    def __init__(self) -> None:
        host = socket.gethostname()  # hashed if too long for an id, or holding a `:`
        self._host = host if re.fullmatch(r"[^:]{1,24}", host) else _hash(host)
        try:
            with open("/proc/sys/kernel/random/boot_id") as boot_id:
                self._boot: str | None = boot_id.read().strip().replace("-", "")[:8]
        except OSError:
            self._boot = None  # no /proc (macOS): judged by the pid alone
        self.me = f"{LOCAL_PREFIX}{self._host}:{os.getpid()}:{self._started(os.getpid())}"

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def dead(self, holders: Collection[str]) -> set[str]:
        return {h for h in holders if h != self.me and self._is_dead(h)}

    def _is_dead(self, holder: str) -> bool:
        match = _LOCAL_ID.fullmatch(holder)
        if match is None or match[1] != self._host:
            return False  # not ours to judge
        now = self._started(int(match[2]))
        return now is None or ("?" not in (now, match[3]) and now != match[3])

    def _started(self, pid: int) -> str | None:
        """When the process with this pid started; None if there is none, or only a zombie."""
        if self._boot is None:  # no /proc (macOS): whether the pid exists, on POSIX
            return None if os.name == "posix" and not _exists(pid) else "?"
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat:
                line = stat.read()
        except (FileNotFoundError, ProcessLookupError):
            return None
        # After the command's name (which may hold spaces and parentheses): state ... starttime
        fields = line[line.rindex(b")") + 2 :].split()
        if fields[0] in (b"Z", b"X"):
            return None  # killed, not yet reaped: it runs no code
        return f"{self._boot}.{int(fields[19])}"


def _hash(text: str) -> str:
    return sha256(text.encode()).hexdigest()[:24]


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0 asks only whether the pid exists
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True
