"""The Alembic migrations: a blank database upgraded to head has exactly the schema the SQLModel
tables describe, on SQLite and on PostgreSQL, and upgrading again changes nothing."""

from __future__ import annotations

import ast
import importlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from bot.store.db import MIGRATIONS, Database, alembic_config


def migration_metadata() -> MetaData:
    """SQLModel.metadata with every table module the migration environment (env.py) imports,
    so the comparison is against exactly what `alembic revision --autogenerate` would see."""
    for node in ast.walk(ast.parse((MIGRATIONS / "env.py").read_text())):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            if name.split(".")[0] == "bot":
                importlib.import_module(name)
    return SQLModel.metadata


METADATA = migration_metadata()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.close()


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


def _differences(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, METADATA))


def _revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _schema(conn: Connection) -> dict[str, Any]:
    """Every table's columns, indexes and unique constraints, as the database reports them."""
    insp = inspect(conn)
    return {
        table: (
            [(c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(table)],
            sorted(i["name"] or "" for i in insp.get_indexes(table)),
            sorted(u["name"] or "" for u in insp.get_unique_constraints(table)),
        )
        for table in sorted(insp.get_table_names())
    }


async def test_a_blank_database_has_no_tables_before_the_upgrade(db: Database) -> None:
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_tables) == set()


async def test_upgrading_a_blank_database_creates_every_table(db: Database) -> None:
    await db.upgrade()
    async with db.engine.connect() as conn:
        tables = await conn.run_sync(_tables)
    assert set(METADATA.tables) <= tables
    assert tables - set(METADATA.tables) == {"alembic_version"}
    # The tables the README's schema section names are among them.
    assert {
        "conversation",
        "message",
        "model_call",
        "slack_event",
        "customer_link",
        "demo_order",
    } <= tables


async def test_the_migrated_schema_matches_the_sqlmodel_tables(db: Database) -> None:
    await db.upgrade()
    async with db.engine.connect() as conn:
        differences = await conn.run_sync(_differences)
    assert differences == []


async def test_the_upgrade_ends_at_the_newest_revision(db: Database) -> None:
    await db.upgrade()
    async with db.engine.connect() as conn:
        current = await conn.run_sync(_revision)
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None and current == head


async def test_upgrading_twice_is_a_no_op_and_keeps_the_data(db: Database) -> None:
    await db.upgrade()
    async with db.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO customer_link (slack_user_id, email, created_at) "
                "VALUES ('U1', 'someone@example.com', CURRENT_TIMESTAMP)"
            )
        )
        before = await conn.run_sync(_schema)
    await db.upgrade()
    async with db.engine.connect() as conn:
        after = await conn.run_sync(_schema)
        revision = await conn.run_sync(_revision)
        links = (await conn.execute(text("SELECT slack_user_id, email FROM customer_link"))).all()
    assert after == before
    assert revision == ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert [tuple(row) for row in links] == [("U1", "someone@example.com")]


async def test_a_second_process_upgrading_the_same_database_changes_nothing(
    database_url: str,
) -> None:
    first, second = Database(database_url), Database(database_url)
    try:
        await first.upgrade()
        await second.upgrade()
        async with second.engine.connect() as conn:
            assert await conn.run_sync(_differences) == []
    finally:
        await first.close()
        await second.close()


async def test_downgrading_with_replies_stored_keeps_them_and_upgrades_again(
    db: Database,
) -> None:
    """A downgrade (an operator rolling back a release) works with data in the tables: on
    SQLite a rebuilt `message` table used to trip its own foreign key (reply -> message)."""
    await db.upgrade()
    async with db.engine.begin() as conn:
        before = await conn.run_sync(_schema)
        await conn.execute(
            text(
                "INSERT INTO conversation (team_id, channel_id, thread_ts, user_id, status, tier,"
                " total_cost_usd, created_at, updated_at) VALUES ('T1', 'D1', '1.1', 'U1',"
                " 'active', 'primary', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        for reply_to in ("NULL", "(SELECT min(id) FROM message)"):
            await conn.execute(
                text(
                    "INSERT INTO message (conversation_id, role, user_id, text, channel_id,"
                    " slack_ts, status, reply_to_id, files, posted_pieces, created_at) VALUES"
                    f" ((SELECT id FROM conversation), 'user', 'U1', 'hi', 'D1', NULL,"
                    f" 'answered', {reply_to}, NULL, 0, CURRENT_TIMESTAMP)"
                )
            )
    await db.downgrade("0004")
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_revision) == "0004"
        count = (await conn.execute(text("SELECT count(*) FROM message"))).scalar_one()
    assert count == 2
    await db.upgrade()
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_schema) == before
        linked = (await conn.execute(text("SELECT count(reply_to_id) FROM message"))).scalar_one()
    assert linked == 1
    if db.engine.dialect.name == "sqlite":  # switched off while migrating, and on again
        async with db.engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
    await db.downgrade("base")  # and all the way down, rows and all
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_tables) == {"alembic_version"}


async def test_a_migration_that_fails_halfway_changes_nothing(db: Database) -> None:
    """DDL is rolled back with the migration's transaction, on SQLite as on PostgreSQL."""
    await db.upgrade()

    def half_done(conn: Connection, revision: str) -> None:
        conn.exec_driver_sql("CREATE TABLE half_done (id INTEGER)")
        conn.exec_driver_sql("ALTER TABLE message ADD COLUMN half INTEGER")
        raise RuntimeError("the migration broke here")

    with pytest.raises(RuntimeError, match="broke here"):
        await db._migrate(half_done, "head")
    async with db.engine.connect() as conn:
        assert "half_done" not in await conn.run_sync(_tables)
        assert await conn.run_sync(_differences) == []
