"""Database connections: one the server dropped while it sat in the pool is replaced before
use, instead of failing the customer's turn (PostgreSQL: a restart, an idle timeout)."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bot.store.db import Database


async def backend_pid(db: Database) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def drop_connection(database_url: str, pid: int) -> None:
    """What a restart does to a pooled connection: the server ends its backend."""
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    admin = await asyncpg.connect(dsn)
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        while await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid):
            await asyncio.sleep(0.02)
    finally:
        await admin.close()


@pytest.fixture
def server_url(database_url: str) -> str:
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("a database server drops connections; SQLite has none")
    return database_url


async def test_a_pooled_connection_dropped_while_idle_is_replaced_before_use(
    server_url: str,
) -> None:
    db = Database(server_url, ping_if_idle_seconds=0.0)  # every reuse counts as idle
    try:
        dropped = await backend_pid(db)
        await drop_connection(server_url, dropped)
        assert await backend_pid(db) != dropped  # a fresh connection, and no error
    finally:
        await db.close()


async def test_without_the_idle_check_a_dropped_connection_fails_its_first_use(
    server_url: str,
) -> None:
    db = Database(server_url, ping_if_idle_seconds=3600.0)  # just used: not checked
    try:
        await drop_connection(server_url, await backend_pid(db))
        with pytest.raises(DBAPIError):
            await backend_pid(db)
        await backend_pid(db)  # and the pool recovers on its own after that
    finally:
        await db.close()
