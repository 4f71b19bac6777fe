"""The database failing under the bot: a connection the server dropped while it sat in the pool
is replaced before use (PostgreSQL: a restart, an idle timeout); an event that arrives while
the database is down is refused, so Slack sends it again, and answered then; one that arrives
while SQLite is busy waits for the lock. Nothing is lost."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from bot.services import prepare_database
from bot.store.db import Database
from bot.store.models import Order
from bot.store.queries import Inbound, message_and_conversation, record_inbound
from tests.conftest import Bot, dm


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


async def test_an_event_while_the_database_is_down_is_refused_then_answered_on_slacks_retry(
    server_url: str, start_bot: Any
) -> None:
    bot = await start_bot()
    name = make_url(server_url).database
    admin_dsn = make_url(os.environ["TEST_DATABASE_URL"]).set(drivername="postgresql")
    admin = await asyncpg.connect(admin_dsn.render_as_string(False))
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        event = dm("where is my order 1042?")
        # Not acknowledged: Slack sends it again (it retries what is not answered with 200).
        assert await bot.event(event, event_id="EvDown") == 500
        assert bot.replies() == []
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    finally:
        await admin.close()
    assert await bot.event(event, event_id="EvDown", retry=1) == 200
    await bot.settle()
    [reply] = bot.replies()
    assert "shipped" in reply["text"]


async def test_an_event_while_sqlite_is_busy_waits_for_the_lock_and_is_answered(
    database_url: str, start_bot: Any
) -> None:
    if make_url(database_url).get_backend_name() != "sqlite":
        pytest.skip("SQLite's single writer lock")
    bot = await start_bot()
    other = sqlite3.connect(make_url(database_url).database or "", isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")  # another process writing, for a second
        asyncio.get_running_loop().call_later(1.0, other.rollback)
        assert await bot.event(dm("where is my order 1042?")) == 200
    finally:
        other.close()
    await bot.settle()
    [reply] = bot.replies()
    assert "shipped" in reply["text"]


async def test_replicas_starting_together_seed_the_demo_orders_once(
    server_url: str, make_settings: Any
) -> None:
    settings = make_settings()
    replicas = [Database(server_url) for _ in range(4)]
    try:
        await asyncio.gather(*(prepare_database(settings, db) for db in replicas))
        async with replicas[0].session() as s:
            orders = (await s.exec(select(Order))).all()
        assert len(orders) == len({o.order_id for o in orders}) > 0
    finally:
        for db in replicas:
            await db.close()


async def test_a_burst_opens_at_most_the_pool_and_the_next_burst_reuses_it(
    database_url: str,
) -> None:
    db = Database(database_url, pool_size=4)
    opened = []
    event.listen(db.engine.sync_engine, "connect", lambda *_: opened.append(1))

    async def a_turn() -> None:
        async with db.session() as s:
            await s.exec(select(1))
            await asyncio.sleep(0.02)

    try:
        await asyncio.gather(*(a_turn() for _ in range(12)))  # more than the pool at once
        assert len(opened) == 4  # the others waited their turn
        await asyncio.gather(*(a_turn() for _ in range(12)))
        assert len(opened) == 4  # kept, not closed and opened again
    finally:
        await db.close()


async def test_an_event_id_is_stored_once_and_messages_without_one_are_each_kept(
    bot: Bot,
) -> None:
    """Slack's event id is a dedupe key of its own (a redelivery is dropped even before the
    message's (channel, ts) is looked at); a message with no event id (`supportbot chat`,
    the eval runner) is never taken for a duplicate of another."""
    db = bot.services.db

    def inbound(ts: str, event_id: str = "") -> Inbound:
        return Inbound("T0001", "C0001", ts, "UALICE", "hello", ts, event_id=event_id)

    assert await record_inbound(db, inbound("1.000001", "Ev1")) is not None
    assert await record_inbound(db, inbound("1.000002", "Ev1")) is None  # the id was seen
    first = await record_inbound(db, inbound("1.000003"))
    second = await record_inbound(db, inbound("1.000004"))
    assert first is not None and second is not None and first != second
    message, conversation = await message_and_conversation(db, second)
    assert (message.slack_ts, conversation.thread_ts) == ("1.000004", "1.000004")
    with pytest.raises(LookupError):
        await message_and_conversation(db, second + 100)
