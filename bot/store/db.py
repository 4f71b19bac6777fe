"""Engine, sessions and schema upgrades (Alembic) for SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import metrics

MIGRATIONS = Path(__file__).parent / "migrations"
# Any number that is ours alone: replicas starting together take turns at upgrading.
_UPGRADE_LOCK_ID = 0x5B07


def async_url(url: str) -> str:
    """Derive the async driver URL from the configured (sync-style) DATABASE_URL."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return str(parsed.set(drivername="sqlite+aiosqlite"))
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ValueError(f"DATABASE_URL must be sqlite:// or postgresql://, not {backend!r}")


# A pooled connection is checked with a round trip before use only when it sat idle this
# long: a database restart or an idle timeout drops connections that wait in the pool, not
# ones used a moment ago. (`pool_pre_ping` checks every checkout; on asyncpg that is three
# round trips - BEGIN, ";", ROLLBACK - and was about 40 % of a turn's round trips.)
PING_IF_IDLE_SECONDS = 5.0


# Connections a process keeps, and the most it opens: requests beyond wait their turn. No
# overflow on purpose: SQLAlchemy closes an overflow connection as soon as it is returned,
# so a load just above the pool's size opened and closed connections all the time (storing
# an event cost 1.5 ms of CPU instead of 0.8 at 15 at once, bench/BENCHMARKS.md).
POOL_SIZE = 15


def create_engine(
    url: str,
    ping_if_idle_seconds: float = PING_IF_IDLE_SECONDS,
    pool_size: int = POOL_SIZE,
) -> AsyncEngine:
    engine = create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=0,
        # A statement's parameters are customer text: never in an exception's message (which
        # reaches tracebacks and logs).
        hide_parameters=True,
    )

    @event.listens_for(engine.sync_engine, "checkin")
    def _idle_since(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < ping_if_idle_seconds:
            return  # new, or just used
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            # The pool discards this connection and checks out a fresh one.
            raise DisconnectionError("a pooled database connection was gone") from exc

    # Registered after the ping: a connection the ping discarded was never handed out.
    event.listen(engine.sync_engine, "checkout", lambda *_: metrics.DB_POOL_IN_USE.inc())
    event.listen(engine.sync_engine, "checkin", lambda *_: metrics.DB_POOL_IN_USE.dec())

    if engine.dialect.name == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            # WAL lets readers work while the bot writes; wait rather than fail when busy.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    return engine


class Database:
    """The engine and a session factory; one per process."""

    def __init__(
        self,
        url: str,
        ping_if_idle_seconds: float = PING_IF_IDLE_SECONDS,
        pool_size: int = POOL_SIZE,
    ) -> None:
        self.url = url
        self.engine = create_engine(url, ping_if_idle_seconds, pool_size)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            yield session

    async def upgrade(self) -> None:
        """Bring the schema to the newest migration (safe with several replicas starting)."""
        await self._migrate(_upgrade_sync, "head")

    async def downgrade(self, revision: str) -> None:
        """Bring the schema back to an older revision (rolling back a release)."""
        await self._migrate(_downgrade_sync, revision)

    async def current_revision(self) -> str | None:
        """The schema's revision; None for a database never migrated."""
        async with self.engine.connect() as conn:
            return await conn.run_sync(_current_revision_sync)

    async def _migrate(self, run: Callable[[Connection, str], None], revision: str) -> None:
        """Run migrations in one transaction, one process at a time."""
        async with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                async with conn.begin():
                    await conn.execute(text(f"SELECT pg_advisory_xact_lock({_UPGRADE_LOCK_ID})"))
                    await conn.run_sync(run, revision)
                return
            # SQLite. A batch migration rebuilds a table (copy, drop, rename): with foreign keys
            # on, dropping `message` trips its own replies' reply_to_id, so they are off while
            # migrating (SQLite's documented way: set outside a transaction) and checked at the
            # end. Python's sqlite3 opens a transaction only before INSERT/UPDATE/DELETE, so it
            # is opened here: a failing migration's DDL is rolled back too, and IMMEDIATE makes
            # a second process wait for the first.
            try:
                await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                await conn.commit()
                async with conn.begin():
                    await conn.exec_driver_sql("BEGIN IMMEDIATE")
                    await conn.run_sync(run, revision)
                    broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
                    if broken:
                        raise RuntimeError(
                            f"migrating to {revision} would leave {len(broken)} row(s) pointing"
                            " at rows that do not exist; nothing was changed"
                        )
            finally:
                try:
                    await conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                    await conn.commit()
                except Exception:
                    await conn.invalidate()  # never back to the pool with foreign keys off
                    raise

    async def schema_revision(self) -> str | None:
        """The revision the schema is at (None: never migrated); raises when unreachable."""
        async with self.engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )

    async def close(self) -> None:
        await self.engine.dispose()


@dataclass(frozen=True)
class Revision:
    id: str
    title: str


def revisions() -> list[Revision]:
    """The schema's revisions, newest first, each with the first line of its description."""
    script = ScriptDirectory.from_config(alembic_config())
    return [
        Revision(str(rev.revision), (rev.doc or "").strip().splitlines()[0] if rev.doc else "")
        for rev in script.walk_revisions()
    ]


def _current_revision_sync(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def known_revisions() -> tuple[str, set[str]]:
    """This code's newest revision and every revision it knows."""
    scripts = ScriptDirectory.from_config(alembic_config())
    head = scripts.get_current_head()
    assert head is not None  # the package ships its migrations
    return head, {script.revision for script in scripts.walk_revisions()}


def _upgrade_sync(connection: Connection, revision: str) -> None:
    command.upgrade(alembic_config(connection), revision)


def _downgrade_sync(connection: Connection, revision: str) -> None:
    command.downgrade(alembic_config(connection), revision)
