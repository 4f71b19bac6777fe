"""The Alembic migrations: a blank database upgraded to head has exactly the schema the SQLModel
tables describe, on SQLite and on PostgreSQL, and upgrading again changes nothing."""

from __future__ import annotations

import ast
import importlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
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
                    " slack_ts, status, reply_to_id, files, created_at) VALUES"
                    f" ((SELECT id FROM conversation), 'user', 'U1', 'hi', 'D1', NULL,"
                    f" 'answered', {reply_to}, NULL, CURRENT_TIMESTAMP)"
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


async def _insert(conn: Any, table: str, **values: Any) -> int:
    """One row in the schema of the revision at hand (raw SQL: the models are ahead of it)."""
    names = ", ".join(values)
    marks = ", ".join(f":{k}" for k in values)
    row = await conn.execute(
        text(f"INSERT INTO {table} ({names}) VALUES ({marks}) RETURNING id"), values
    )
    return int(row.scalar_one())


async def _seed_0007(conn: Any) -> tuple[dict[str, int], dict[str, int]]:
    """Customer messages with every outcome the bot stored before verdicts existed, and model
    calls; the ids of each, by name."""
    now = datetime(2026, 2, 20, 12, 0, tzinfo=UTC)
    threads = {}
    for user, ts in (("UALICE", "1.1"), ("UCAROL", "2.1")):
        threads[user] = await _insert(
            conn,
            "conversation",
            team_id="T1",
            channel_id="C1",
            thread_ts=ts,
            user_id=user,
            status="active",
            tier="primary",
            total_cost_usd=0,
            created_at=now,
            updated_at=now,
        )
    ids: dict[str, int] = {}

    async def message(name: str, user: str = "UALICE", thread: str = "UALICE", **extra: Any) -> int:
        values = {
            "conversation_id": threads[thread],
            "role": "user",
            "user_id": user,
            "text": f"text of {name}",
            "channel_id": "C1",
            "slack_ts": f"9.{len(ids)}",
            "status": "answered",
            "posted_pieces": 0,
            "created_at": now,
        } | extra
        ids[name] = await _insert(conn, "message", **values)
        return ids[name]

    async def reply(to: str, kind: str, tier: str | None = None) -> None:
        await message(
            f"reply to {to}, {kind}",
            role="assistant",
            user_id="",
            status="none",
            reply_to_id=ids[to],
            kind=kind,
            tier=tier,
            slack_ts=None,
        )

    async def escalation(of: str, reasons: str) -> None:
        await _insert(
            conn,
            "escalation",
            conversation_id=threads["UALICE"],
            message_id=ids[of],
            status="dismissed",
            reasons=reasons,
            findings="[]",
            summary="",
            draft="",
            leads_channel="",
            created_at=now,
        )

    await message("answered")
    await reply("answered", "answer", "primary")
    await message("too long")
    await reply("too long", "too_long")
    await message("injection")
    await reply("injection", "handoff")
    await escalation("injection", '["injection"]')
    await message("held", status="held")
    await message("over budget")
    await reply("over budget", "budget")
    await message("asked for a person")
    await reply("asked for a person", "handoff")
    await escalation("asked for a person", '["customer_request"]')
    await message("apology")
    await reply("apology", "apology")
    await reply("apology", "answer", "human")  # a lead's answer proves nothing about it
    await message("pending", status="pending")
    await message("bob's", user="UBOB")
    await reply("bob's", "answer", "primary")
    # A running summary folded from the injection: derived from what is now withheld.
    await message(
        "summary",
        role="summary",
        user_id="",
        status="none",
        reply_to_id=ids["injection"],
        slack_ts=None,
    )
    await message("carol's", user="UCAROL", thread="UCAROL")
    await reply("carol's", "answer", "primary")
    await message(
        "carol's summary",
        thread="UCAROL",
        role="summary",
        user_id="",
        status="none",
        reply_to_id=ids["carol's"],
        slack_ts=None,
    )

    calls: dict[str, int] = {}
    for name, conversation, message_id in (
        ("alice's call", threads["UALICE"], ids["answered"]),
        ("bob's call", threads["UALICE"], ids["bob's"]),
        ("purged call", threads["UCAROL"], None),  # a purge keeps the call, not its message
    ):
        calls[name] = await _insert(
            conn,
            "model_call",
            conversation_id=conversation,
            message_id=message_id,
            provider="anthropic",
            model="claude-haiku-4-5",
            tier="primary",
            input_tokens=1,
            cached_input_tokens=0,
            cache_write_tokens=0,
            output_tokens=1,
            cost_usd=1,
            latency_ms=1,
            outcome="ok",
            stop_reason="",
            reasons="",
            usage_raw="{}",
            created_at=now,
        )
    return ids, calls


async def test_existing_messages_get_the_verdict_their_outcome_proves_both_ways(
    db: Database,
) -> None:
    """0008 with data in the tables: verdicts from the stored outcomes, calls charged to their
    message's sender, summaries of withheld text dropped; down again keeps every other row."""
    await db.upgrade()
    await db.downgrade("0007")
    async with db.engine.begin() as conn:
        ids, calls = await _seed_0007(conn)
    await db.upgrade()

    async def verdicts() -> dict[str, str]:
        async with db.engine.connect() as conn:
            rows = (await conn.execute(text("SELECT id, verdict FROM message"))).all()
        by_id = {i: name for name, i in ids.items()}
        return {by_id[i]: v for i, v in rows}

    got = await verdicts()
    assert {k: v for k, v in got.items() if not k.startswith("reply")} == {
        "answered": "passed",
        "too long": "too_long",
        "injection": "flagged",
        "held": "undecided",  # unchecked: held while a person owned the thread, or over the rate
        "over budget": "budget",
        "asked for a person": "handed_over",
        "apology": "undecided",
        "pending": "undecided",
        "bob's": "passed",
        "carol's": "passed",
        "carol's summary": "none",  # kept: nothing before it is withheld
    }
    assert {v for k, v in got.items() if k.startswith("reply")} == {"none"}
    async with db.engine.connect() as conn:
        charged = dict((await conn.execute(text("SELECT id, user_id FROM model_call"))).all())
    assert charged == {
        calls["alice's call"]: "UALICE",
        calls["bob's call"]: "UBOB",  # in Alice's thread, charged to its sender
        calls["purged call"]: "UCAROL",  # no message left: the thread's starter
    }

    await db.downgrade("0007")
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_revision) == "0007"
        messages = (await conn.execute(text("SELECT count(*) FROM message"))).scalar_one()
        calls = (await conn.execute(text("SELECT count(*) FROM model_call"))).scalar_one()
    assert (messages, calls) == (len(got), 3)
    await db.upgrade()
    assert await verdicts() == got


async def _seed_0008(conn: Any) -> dict[str, int]:
    """Replies in every delivery state the messages recorded before the outbox; ids by name."""
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    thread = await _insert(
        conn,
        "conversation",
        team_id="T1",
        channel_id="C1",
        thread_ts="1.1",
        user_id="UALICE",
        status="active",
        tier="primary",
        total_cost_usd=0,
        created_at=now,
        updated_at=now,
    )
    ids: dict[str, int] = {}

    async def message(name: str, **extra: Any) -> None:
        values = {
            "conversation_id": thread,
            "role": "user",
            "user_id": "UALICE",
            "text": f"text of {name}",
            "channel_id": "C1",
            "slack_ts": f"9.{len(ids)}",
            "status": "answered",
            "verdict": "passed",
            "posted_pieces": 0,
            "created_at": now,
        } | extra
        ids[name] = await _insert(conn, "message", **values)

    async def reply(to: str, slack_ts: str | None, pieces: int = 0) -> None:
        await message(
            f"reply to {to}",
            role="assistant",
            user_id="",
            status="none",
            verdict="none",
            reply_to_id=ids[to],
            kind="answer",
            tier="primary",
            slack_ts=slack_ts,
            posted_pieces=pieces,
        )

    await message("answered")
    await reply("answered", "9.100")
    await message("failed", status="failed", claimed_at=now)
    await reply("failed", None, pieces=1)
    await message("undelivered", status="undelivered", claimed_at=now)
    await reply("undelivered", None)
    await message("working", status="working", claimed_at=now)
    await message("pending", status="pending")
    return ids


async def test_replies_move_to_the_outbox_with_their_delivery_state_and_back(
    db: Database,
) -> None:
    """0009 with data in the tables: each reply gets its outbox row (posted with its ts,
    refused with its posted pieces, given up), the messages only say whether they are
    answered; down again, the statuses and the pieces go back to the messages."""
    await db.upgrade()
    await db.downgrade("0008")
    async with db.engine.begin() as conn:
        ids = await _seed_0008(conn)
    by_id = {i: name for name, i in ids.items()}

    async def statuses() -> dict[str, str]:
        async with db.engine.connect() as conn:
            rows = (await conn.execute(text("SELECT id, status FROM message"))).all()
        return {by_id[i]: status for i, status in rows}

    await db.upgrade()
    async with db.engine.connect() as conn:
        posts = (
            await conn.execute(
                text(
                    "SELECT message_id, kind, channel_id, thread_ts, state, posted_pieces,"
                    " posted_ts, holder FROM outbox ORDER BY id"
                )
            )
        ).all()
    assert [(by_id[p[0]], *p[1:]) for p in posts] == [
        ("reply to answered", "thread_reply", "C1", "1.1", "posted", 0, "9.100", None),
        ("reply to failed", "thread_reply", "C1", "1.1", "refused", 1, None, None),
        ("reply to undelivered", "thread_reply", "C1", "1.1", "given_up", 0, None, None),
    ]
    upgraded = await statuses()
    assert {k: v for k, v in upgraded.items() if not k.startswith("reply")} == {
        "answered": "answered",
        "failed": "answered",
        "undelivered": "answered",
        "working": "pending",  # a claim naming no holder: taken again by the next sweep
        "pending": "pending",
    }

    await db.downgrade("0008")
    async with db.engine.connect() as conn:
        assert "outbox" not in await conn.run_sync(_tables)
        pieces = dict((await conn.execute(text("SELECT id, posted_pieces FROM message"))).all())
    downgraded = await statuses()
    assert {k: v for k, v in downgraded.items() if not k.startswith("reply")} == {
        "answered": "answered",
        "failed": "failed",  # its reply still to post: the old sweeper posts it
        "undelivered": "undelivered",
        "working": "pending",
        "pending": "pending",
    }
    assert pieces[ids["reply to failed"]] == 1
    await db.upgrade()
    assert await statuses() == upgraded


async def test_batches_come_with_0012_and_calls_stored_before_were_live_ones(db: Database) -> None:
    """0012 with data in the tables: the model calls stored before it are live calls (batch
    false), a batch call is marked; down again the batch tables go and every call stays."""
    await db.upgrade()
    await db.downgrade("0007")  # where the seed of model calls fits
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    async with db.engine.begin() as conn:
        _, calls = await _seed_0007(conn)
    await db.upgrade()
    async with db.engine.begin() as conn:
        marks = dict((await conn.execute(text("SELECT id, batch FROM model_call"))).all())
        assert {bool(v) for v in marks.values()} == {False} and len(marks) == len(calls)
        await conn.execute(
            text("UPDATE model_call SET batch = :yes WHERE id = :id"),
            {"yes": True, "id": calls["alice's call"]},
        )
        batch = await _insert(
            conn,
            "model_batch",
            provider="anthropic",
            model="claude-haiku-4-5",
            batch_id="msgbatch_01",
            round=1,
            state="ended",
            provider_status="ended",
            request_count=1,
            created_at=now,
        )
        await _insert(
            conn,
            "batch_call",
            batch_id=batch,
            custom_id="orders_a-0123abcd-0",
            request_hash="0" * 64,
            result='{"custom_id": "orders_a-0123abcd-0"}',
            created_at=now,
        )
    async with db.engine.connect() as conn:
        marked = (
            (
                await conn.execute(
                    text("SELECT id FROM model_call WHERE batch = :yes"), {"yes": True}
                )
            )
            .scalars()
            .all()
        )
    assert marked == [calls["alice's call"]]

    await db.downgrade("0011")
    async with db.engine.connect() as conn:
        tables = await conn.run_sync(_tables)
        kept = (await conn.execute(text("SELECT count(*) FROM model_call"))).scalar_one()
        columns = {
            c["name"] for c in await conn.run_sync(lambda c: inspect(c).get_columns("model_call"))
        }
    assert not {"model_batch", "batch_call"} & tables
    assert kept == len(calls) and "batch" not in columns
    await db.upgrade()
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_differences) == []


async def test_escalations_get_the_resolution_their_columns_prove_both_ways(
    db: Database,
) -> None:
    """0010 with data in the tables: a claimed escalation was taken over, an answered one sent
    its draft when the final answer is the draft (whitespace aside) and an edit otherwise, a
    dismissed one was dismissed, an open one has none; down again keeps every row."""
    await db.upgrade()
    await db.downgrade("0009")
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    async with db.engine.begin() as conn:
        thread = await _insert(
            conn,
            "conversation",
            team_id="T1",
            channel_id="C1",
            thread_ts="1.1",
            user_id="UALICE",
            status="active",
            tier="primary",
            total_cost_usd=0,
            created_at=now,
            updated_at=now,
        )
        asked = await _insert(
            conn,
            "message",
            conversation_id=thread,
            role="user",
            user_id="UALICE",
            text="where is my order?",
            channel_id="C1",
            slack_ts="9.1",
            status="answered",
            verdict="passed",
            created_at=now,
        )
        ids: dict[str, int] = {}
        for name, status, final_answer, claimed_at in (
            ("sent", "answered", "It shipped.\nTracking follows.", None),
            ("sent through the form", "answered", "It shipped.  Tracking follows.", None),
            ("edited", "answered", "It shipped on Monday.", None),
            ("taken over, resolved", "answered", None, now),
            ("taken over, sent", "answered", "Lee here: it shipped.", now),
            ("taken over, handed back", "dismissed", None, now),
            ("dismissed", "dismissed", None, None),
            ("open", "open", None, None),
        ):
            ids[name] = await _insert(
                conn,
                "escalation",
                conversation_id=thread,
                message_id=asked,
                status=status,
                reasons='["low_confidence"]',
                confidence=0.4,
                findings="[]",
                summary="",
                draft="It shipped.\nTracking follows.",
                final_answer=final_answer,
                leads_channel="CLEADS",
                created_at=now,
                claimed_at=claimed_at,
            )
    await db.upgrade()

    async def resolutions() -> dict[str, str | None]:
        async with db.engine.connect() as conn:
            rows = (await conn.execute(text("SELECT id, resolution FROM escalation"))).all()
        by_id = {i: name for name, i in ids.items()}
        return {by_id[i]: resolution for i, resolution in rows}

    upgraded = await resolutions()
    assert upgraded == {
        "sent": "draft_sent",
        "sent through the form": "draft_sent",
        "edited": "edited",
        "taken over, resolved": "taken_over",
        "taken over, sent": "taken_over",
        "taken over, handed back": "taken_over",
        "dismissed": "dismissed",
        "open": None,
    }

    await db.downgrade("0009")
    async with db.engine.connect() as conn:
        columns = await conn.run_sync(
            lambda c: {col["name"] for col in inspect(c).get_columns("escalation")}
        )
        kept = (
            await conn.execute(text("SELECT count(*) FROM escalation WHERE final_answer IS NULL"))
        ).scalar_one()
    assert "resolution" not in columns and {"status", "claimed_at", "final_answer"} <= columns
    assert kept == 4
    await db.upgrade()
    assert await resolutions() == upgraded


async def test_turn_transcripts_come_with_0011_and_go_with_their_data_on_the_way_down(
    db: Database,
) -> None:
    """0011 on a database with answered turns (stored before transcripts were kept): the table
    is added empty, takes a turn's transcript, and down again goes with it, the other rows
    kept; up again, it is back, empty."""
    await db.upgrade()
    await db.downgrade("0010")
    now = datetime(2026, 2, 20, 12, 0, tzinfo=UTC)
    async with db.engine.begin() as conn:
        conversation = await _insert(
            conn, "conversation", team_id="T1", channel_id="D1", thread_ts="1.1", user_id="U1",
            status="active", tier="strong", total_cost_usd=0, created_at=now, updated_at=now,
        )  # fmt: skip
        question = await _insert(
            conn, "message", conversation_id=conversation, role="user", user_id="U1",
            text="where is 1042?", channel_id="D1", slack_ts="1.1", status="answered",
            verdict="passed", created_at=now,
        )  # fmt: skip
    await db.upgrade()
    async with db.engine.begin() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM turn_transcript"))).scalar() == 0
        await conn.execute(
            text(
                "INSERT INTO turn_transcript (message_id, conversation_id, tier, system, tools,"
                " messages, created_at) VALUES (:m, :c, 'strong', 'You answer.', '[]',"
                " :messages, :now)"
            ),
            {
                "m": question,
                "c": conversation,
                "messages": '[{"role": "user", "text": "where is 1042?"}]',
                "now": now,
            },
        )
        stored = (await conn.execute(text("SELECT messages FROM turn_transcript"))).scalar()
    value = json.loads(stored) if isinstance(stored, str) else stored
    assert value == [{"role": "user", "text": "where is 1042?"}]
    await db.downgrade("0010")
    async with db.engine.connect() as conn:
        assert "turn_transcript" not in await conn.run_sync(_tables)
        kept = (await conn.execute(text("SELECT id FROM message"))).scalars().all()
    assert kept == [question]
    await db.upgrade()
    async with db.engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM turn_transcript"))).scalar() == 0
        assert await conn.run_sync(_differences) == []


async def test_messages_get_an_unknown_sender_team_with_0013_and_keep_their_rows_going_down(
    db: Database,
) -> None:
    """0013 on a database with messages (stored before the sender's team was recorded): each
    gets '' (unknown, not a guess), a new one takes its sender's team; down again the column
    goes and every message stays; up again, the schema is the models'."""
    await db.upgrade()
    await db.downgrade("0012")
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    async with db.engine.begin() as conn:
        conversation = await _insert(
            conn, "conversation", team_id="T0001", channel_id="C0SHARED", thread_ts="1.1",
            user_id="UACME1", status="active", tier="primary", total_cost_usd=0, created_at=now,
            updated_at=now,
        )  # fmt: skip
        before = []
        for role, user, words, ts in (
            ("user", "UACME1", "where is 1042?", "1.1"),
            ("assistant", "UBOT", "It shipped.", "1.2"),
        ):
            row = await _insert(
                conn, "message", conversation_id=conversation, role=role, user_id=user,
                text=words, channel_id="C0SHARED", slack_ts=ts, status="answered",
                verdict="passed", created_at=now,
            )  # fmt: skip
            before.append(row)
    await db.upgrade()
    async with db.engine.begin() as conn:
        teams = dict((await conn.execute(text("SELECT id, sender_team_id FROM message"))).all())
        assert teams == {before[0]: "", before[1]: ""}
        after = await _insert(
            conn, "message", conversation_id=conversation, role="user", user_id="UACME1",
            sender_team_id="T0ACME", text="thanks", channel_id="C0SHARED", slack_ts="1.3",
            status="pending", verdict="undecided", created_at=now,
        )  # fmt: skip
        teams = dict((await conn.execute(text("SELECT id, sender_team_id FROM message"))).all())
    assert teams[after] == "T0ACME"

    await db.downgrade("0012")
    async with db.engine.connect() as conn:
        kept = (await conn.execute(text("SELECT id FROM message ORDER BY id"))).scalars().all()
        columns = {
            c["name"] for c in await conn.run_sync(lambda c: inspect(c).get_columns("message"))
        }
    assert kept == [*before, after] and "sender_team_id" not in columns
    await db.upgrade()
    async with db.engine.connect() as conn:
        teams = dict((await conn.execute(text("SELECT id, sender_team_id FROM message"))).all())
        assert await conn.run_sync(_differences) == []
    assert set(teams.values()) == {""}  # what went down with the column is not made up again


async def test_slack_sdks_stores_work_on_0015s_tables_which_go_with_their_tokens_going_down(
    db: Database,
) -> None:
    """0015 creates slack_sdk's own tables: its async installation and state stores save and
    find on them through the bot's engine; down to 0014 they go (installations with them), and
    up again the schema is the models' (slack_sdk's table builders) and the tables are empty."""
    await db.upgrade()
    await db.downgrade("0014")
    async with db.engine.connect() as conn:
        assert not {"slack_installations", "slack_bots"} & await conn.run_sync(_tables)
    await db.upgrade()
    installations = AsyncSQLAlchemyInstallationStore(client_id="111.222", engine=db.engine)
    await installations.async_save(
        Installation(
            app_id="A1", team_id="T0001", user_id="U1", bot_token="xoxb-test-1",
            bot_id="B1", bot_user_id="UBOT1", bot_scopes="chat:write",
        )
    )  # fmt: skip
    bot = await installations.async_find_bot(enterprise_id=None, team_id="T0001")
    assert bot is not None and bot.bot_token == "xoxb-test-1"
    states = AsyncSQLAlchemyOAuthStateStore(expiration_seconds=600, engine=db.engine)
    state = await states.async_issue()
    assert await states.async_consume(state) and not await states.async_consume(state)

    await db.downgrade("0014")
    async with db.engine.connect() as conn:
        assert not {"slack_installations", "slack_bots", "slack_oauth_states"} & (
            await conn.run_sync(_tables)
        )
    await db.upgrade()
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_differences) == []
        assert (await conn.execute(text("SELECT count(*) FROM slack_bots"))).scalar() == 0


async def _seed_0013(conn: Any) -> dict[str, int]:
    """Two workspaces' threads, each with a call, an escalation, an outbox row and a thumb;
    an alert with no thread; budget notices. The ids by name."""
    now = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
    ids: dict[str, int] = {}
    for team, user, ts in (("T0001", "UALICE", "1.1"), ("T0002", "UBOB", "2.1")):
        c = ids[f"{team} thread"] = await _insert(
            conn, "conversation", team_id=team, channel_id="C1", thread_ts=ts, user_id=user,
            status="handed_off", tier="primary", total_cost_usd=0, created_at=now, updated_at=now,
        )  # fmt: skip
        m = await _insert(
            conn, "message", conversation_id=c, role="user", user_id=user, text="where is 1042?",
            channel_id="C1", slack_ts=ts, status="answered", verdict="passed", created_at=now,
        )  # fmt: skip
        ids[f"{team} call"] = await _insert(
            conn, "model_call", conversation_id=c, message_id=m, provider="anthropic",
            model="claude-haiku-4-5", tier="primary", input_tokens=1, cached_input_tokens=0,
            cache_write_tokens=0, output_tokens=1, cost_usd=1, latency_ms=1, outcome="ok",
            stop_reason="", reasons="", usage_raw="{}", created_at=now,
        )  # fmt: skip
        e = ids[f"{team} escalation"] = await _insert(
            conn, "escalation", conversation_id=c, message_id=m, status="open", reasons="[]",
            findings="[]", summary="", draft="", leads_channel="CLEADS", created_at=now,
        )  # fmt: skip
        ids[f"{team} post"] = await _insert(
            conn, "outbox", kind="leads_escalation", channel_id="CLEADS", conversation_id=c,
            escalation_id=e, state="posted", next_try_at=now, posted_pieces=0, created_at=now,
        )  # fmt: skip
        ids[f"{team} thumb"] = await _insert(
            conn, "feedback", message_id=m, conversation_id=c, user_id=user, value="up",
            tier="primary", created_at=now,
        )  # fmt: skip
    ids["alert"] = await _insert(
        conn, "outbox", kind="leads_alert", channel_id="CLEADS", text="a budget was reached",
        state="posted", next_try_at=now, posted_pieces=0, created_at=now,
    )  # fmt: skip
    ids["notice"] = await _insert(
        conn, "budget_notice", budget="workspace", scope="T0001", day="2026-03-03", created_at=now
    )
    await conn.execute(
        text(
            "INSERT INTO customer_link (slack_user_id, email, created_at)"
            " VALUES ('UNOMAIL', 'alice@example.com', :now)"
        ),
        {"now": now},
    )
    return ids


async def test_tenant_rows_take_their_conversations_team_with_0014_and_keep_their_rows_going_down(
    db: Database,
) -> None:
    """0014 on a database with two workspaces' rows: each call, escalation, outbox row and
    thumb takes its conversation's team; an alert without a thread and the budget notices get
    '' (the single workspace adopts them); a notice per team is then allowed. Down again the
    columns and `workspace` go, every row stays, one notice of the two that differ by team
    only; up again, the schema is the models'."""
    await db.upgrade()
    await db.downgrade("0013")
    async with db.engine.begin() as conn:
        ids = await _seed_0013(conn)
    await db.upgrade()
    tables = ("model_call", "escalation", "outbox", "feedback")
    async with db.engine.begin() as conn:
        for table, what in zip(tables, ("call", "escalation", "post", "thumb"), strict=True):
            teams = dict((await conn.execute(text(f"SELECT id, team_id FROM {table}"))).all())
            expected = {ids[f"{t} {what}"]: t for t in ("T0001", "T0002")}
            if table == "outbox":
                expected[ids["alert"]] = ""
            assert teams == expected, table
        notices = (await conn.execute(text("SELECT team_id FROM budget_notice"))).scalars().all()
        assert notices == [""]
        # Two workspaces' threads: whose link it was is not known, '' (the single one adopts it).
        links = (await conn.execute(text("SELECT team_id, slack_user_id FROM customer_link"))).all()
        assert [tuple(r) for r in links] == [("", "UNOMAIL")]
        key = await conn.run_sync(lambda c: inspect(c).get_pk_constraint("customer_link"))
        assert key["constrained_columns"] == ["team_id", "slack_user_id"]
        now = datetime(2026, 3, 3, 13, 0, tzinfo=UTC)
        for team in ("T0001", "T0002"):  # the same budget, scope and day: once per workspace
            await _insert(
                conn, "budget_notice", team_id=team, budget="workspace", scope="T0001",
                day="2026-03-03", created_at=now,
            )  # fmt: skip
        await conn.execute(
            text(
                "INSERT INTO workspace (team_id, lead_users, installed_at)"
                " VALUES ('T0001', '[]', :now)"
            ),
            {"now": now},
        )
        for team, email in (("T0001", "old@example.com"), ("T0002", "new@example.com")):
            now += timedelta(minutes=1)  # a user linked in each workspace, the second newer
            await conn.execute(
                text(
                    "INSERT INTO customer_link (team_id, slack_user_id, email, created_at)"
                    " VALUES (:team, 'UTWO', :email, :now)"
                ),
                {"team": team, "email": email, "now": now},
            )

    await db.downgrade("0013")
    async with db.engine.connect() as conn:
        assert "workspace" not in await conn.run_sync(_tables)
        for table in (*tables, "budget_notice"):
            columns = {
                c["name"] for c in await conn.run_sync(lambda c, t=table: inspect(c).get_columns(t))
            }
            assert "team_id" not in columns, table
        kept = {
            table: (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
            for table in (*tables, "budget_notice")
        }
    assert kept == {
        "model_call": 2,
        "escalation": 2,
        "outbox": 3,
        "feedback": 2,
        "budget_notice": 1,
    }
    async with db.engine.connect() as conn:
        links = (await conn.execute(text("SELECT slack_user_id, email FROM customer_link"))).all()
        key = await conn.run_sync(lambda c: inspect(c).get_pk_constraint("customer_link"))
    assert sorted(tuple(r) for r in links) == [
        ("UNOMAIL", "alice@example.com"),
        ("UTWO", "new@example.com"),  # of a user's links, the newest
    ]
    assert key["constrained_columns"] == ["slack_user_id"]
    await db.upgrade()
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_differences) == []


async def test_accounts_come_with_0016_and_go_with_their_rows_on_the_way_down(
    db: Database,
) -> None:
    """0016 on a database with conversations: the account tables arrive empty and take an
    account, its domain, its Slack team and a shared channel; down again they go (and only
    they), the conversations stay; up again, the schema is the models'."""
    await db.upgrade()
    await db.downgrade("0015")
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    async with db.engine.begin() as conn:
        conversation = await _insert(
            conn, "conversation", team_id="T0001", channel_id="C0SHARED", thread_ts="1.1",
            user_id="UACME1", status="active", tier="primary", total_cost_usd=0, created_at=now,
            updated_at=now,
        )  # fmt: skip
        assert not {"account", "shared_channel"} & await conn.run_sync(_tables)
    await db.upgrade()
    async with db.engine.begin() as conn:
        account = await _insert(
            conn, "account", team_id="T0001", name="Acme", tier="gold", external_id="acc-1",
            created_at=now,
        )  # fmt: skip
        await conn.execute(
            text("INSERT INTO account_domain VALUES (:a, 'acme.com', 'T0001')"), {"a": account}
        )
        await conn.execute(
            text("INSERT INTO account_team VALUES ('T0001', 'T0ACME', :a)"), {"a": account}
        )
        await conn.execute(
            text(
                "INSERT INTO shared_channel (team_id, channel_id, account_id, mapping,"
                " external_teams, reply_mode, created_at) VALUES ('T0001', 'C0SHARED', :a,"
                " 'confirmed', :teams, 'requests', :now)"
            ),
            {"a": account, "teams": json.dumps([{"id": "T0ACME"}]), "now": now},
        )
        mapped = (await conn.execute(text("SELECT account_id FROM shared_channel"))).scalar_one()
    assert mapped == account

    await db.downgrade("0015")
    async with db.engine.connect() as conn:
        tables = await conn.run_sync(_tables)
        kept = (await conn.execute(text("SELECT id FROM conversation"))).scalars().all()
    assert not {"account", "account_domain", "account_team", "shared_channel"} & tables
    assert kept == [conversation]
    await db.upgrade()
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_differences) == []
        assert (await conn.execute(text("SELECT count(*) FROM account"))).scalar_one() == 0


async def test_tickets_come_with_0018_and_go_with_their_clocks_on_the_way_down(
    db: Database,
) -> None:
    """0018 on a database with a conversation: it becomes a `new` ticket with no owner, and
    takes SLA clocks; down again the clocks and ticket columns go, the conversation stays; up
    again, the schema is the models'."""
    await db.upgrade()
    await db.downgrade("0016")
    now = datetime(2026, 3, 6, 15, 30, tzinfo=UTC)
    async with db.engine.begin() as conn:
        conversation = await _insert(
            conn, "conversation", team_id="T0001", channel_id="D0001", thread_ts="1.1",
            user_id="UALICE", status="active", tier="primary", total_cost_usd=0, created_at=now,
            updated_at=now,
        )  # fmt: skip
        assert "sla_clock" not in await conn.run_sync(_tables)
    await db.upgrade()
    async with db.engine.begin() as conn:
        ticket = (
            await conn.execute(text("SELECT ticket_status, owner_user_id FROM conversation"))
        ).one()
        assert tuple(ticket) == ("new", None)
        await _insert(
            conn, "sla_clock", conversation_id=conversation, team_id="T0001",
            kind="first_response", started_at=now, due_at=now + timedelta(hours=1),
        )  # fmt: skip
        await _insert(
            conn, "sla_clock", conversation_id=conversation, team_id="T0001",
            kind="first_response", started_at=now, closed_at=now, closed_reason="responded",
        )  # fmt: skip
        open_clocks = await conn.execute(
            text("SELECT count(*) FROM sla_clock WHERE closed_at IS NULL AND due_at > :t"),
            {"t": now},
        )
        assert open_clocks.scalar_one() == 1

    await db.downgrade("0016")
    async with db.engine.connect() as conn:
        assert "sla_clock" not in await conn.run_sync(_tables)
        columns = await conn.run_sync(lambda c: inspect(c).get_columns("conversation"))
        kept = (await conn.execute(text("SELECT id FROM conversation"))).scalars().all()
    assert not {"ticket_status", "owner_user_id", "resolved_at"} & {c["name"] for c in columns}
    assert kept == [conversation]
    await db.upgrade()
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_differences) == []
        assert (await conn.execute(text("SELECT count(*) FROM sla_clock"))).scalar_one() == 0


async def test_orders_belong_to_no_account_with_0017_and_keep_their_rows_going_down(
    db: Database,
) -> None:
    """0017 on a database with embedded orders: each belongs to no account (NULL, never a
    guess), a new one takes its account; down again the column goes and every order stays;
    up again, the schema is the models'."""
    await db.upgrade()
    await db.downgrade("0016")
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    order = {"status": "shipped", "items": "[]", "total": 89, "currency": "USD", "created_at": now}
    async with db.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO demo_order (order_id, customer_email, status, items, total,"
                " currency, created_at) VALUES ('1042', 'joe@acme.com', :status, :items,"
                " :total, :currency, :created_at)"
            ),
            order,
        )
    await db.upgrade()
    async with db.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO demo_order (order_id, customer_email, status, items, total,"
                " currency, created_at, account_id) VALUES ('2001', 'gus@globex.com', :status,"
                " :items, :total, :currency, :created_at, 'acc-2')"
            ),
            order,
        )
        scoped = dict(
            (await conn.execute(text("SELECT order_id, account_id FROM demo_order"))).all()
        )
    assert scoped == {"1042": None, "2001": "acc-2"}

    await db.downgrade("0016")
    async with db.engine.connect() as conn:
        kept = (
            (await conn.execute(text("SELECT order_id FROM demo_order ORDER BY order_id")))
            .scalars()
            .all()
        )
        columns = {
            c["name"] for c in await conn.run_sync(lambda c: inspect(c).get_columns("demo_order"))
        }
    assert kept == ["1042", "2001"] and "account_id" not in columns
    await db.upgrade()
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_differences) == []
        again = (await conn.execute(text("SELECT account_id FROM demo_order"))).scalars().all()
    assert set(again) == {None}  # what went down with the column is not made up again
