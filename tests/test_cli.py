"""The `supportbot` console script, run for real as a subprocess (`python -m bot.cli`) with an
environment built from scratch: configuration errors, db upgrade, orders import, customers link,
a terminal chat against the fake model, and `serve` answering a signed Slack event."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlmodel import col, select, update

from bot.agent.worker import Worker
from bot.cli.serve import _serve
from bot.orders import SqlOrders
from bot.orders.importing import import_orders, parse_order_file
from bot.store.db import Database
from bot.store.models import Conversation, CustomerLink, Message, ModelCall, utcnow
from tests.conftest import SIGNING_SECRET, Bot, dm, sign
from tests.fakes.models import FakeAnthropic
from tests.fakes.slack import FakeSlack
from tests.serving import ServeProcess, event_body, free_port, process_env, start_serve

# Generous for a loaded machine; a healthy run takes about a second per command.
COMMAND_TIMEOUT = 60.0


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An empty working directory: no stray .env is read."""
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """A minimal environment: nothing inherited from the developer's shell but PATH."""
    return process_env(database_url, tmp_path)


def slack_env() -> dict[str, str]:
    return {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SIGNING_SECRET}


def model_env(fake_anthropic: FakeAnthropic | None = None) -> dict[str, str]:
    values = {"ANTHROPIC_API_KEY": "test-anthropic-key"}
    if fake_anthropic is not None:
        values["ANTHROPIC_BASE_URL"] = fake_anthropic.base_url
    return values


async def supportbot(*args: str, env: dict[str, str], cwd: Path, stdin: bytes | None = None) -> Run:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=cwd,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(input=stdin), COMMAND_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return Run(proc.returncode, out.decode(), err.decode())


def sqlite_file(database_url: str) -> Path | None:
    url = make_url(database_url)
    return Path(url.database) if url.get_backend_name() == "sqlite" and url.database else None


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.close()


async def all_rows(db: Database, table: Any) -> list[Any]:
    async with db.session() as s:
        return list((await s.exec(select(table))).all())


def assert_clean_failure(run: Run) -> None:
    """Failed with a message meant for a person, not a stack trace."""
    assert run.code != 0
    assert run.stderr.startswith("supportbot: ")
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout


# --- configuration errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "variable", "where"),
    [
        ({}, "SLACK_BOT_TOKEN", "https://api.slack.com/apps"),
        ({"SLACK_BOT_TOKEN": "xoxb-test"}, "SLACK_SIGNING_SECRET", "Basic Information"),
        (slack_env(), "ANTHROPIC_API_KEY", "https://console.anthropic.com"),
        (
            slack_env()
            | {
                "SUPPORTBOT_PRIMARY_MODEL": "openai:gpt-4o-mini",
                "SUPPORTBOT_STRONG_MODEL": "openai:gpt-4o",
            },
            "OPENAI_API_KEY",
            "https://platform.openai.com/api-keys",
        ),
        (
            slack_env() | model_env() | {"ORDERS_BACKEND": "http"},
            "ORDERS_API_URL",
            "order service",
        ),
    ],
    ids=["bot-token", "signing-secret", "anthropic-key", "openai-key", "orders-url"],
)
async def test_serve_without_a_needed_setting_stops_at_once_naming_it_and_where_to_get_it(
    env: dict[str, str],
    workdir: Path,
    database_url: str,
    settings: dict[str, str],
    variable: str,
    where: str,
) -> None:
    run = await supportbot("serve", "--port", "0", env=env | settings, cwd=workdir)
    assert run.code == 2
    assert_clean_failure(run)
    assert variable in run.stderr
    assert where in run.stderr
    # It stopped before doing anything: not even the database was touched.
    db_file = sqlite_file(database_url)
    if db_file is not None:
        assert not db_file.exists()


@pytest.mark.parametrize(
    "variable",
    ["SUPPORTBOT_PRIMARY_MODEL", "SUPPORTBOT_STRONG_MODEL", "SUPPORTBOT_FALLBACK_MODELS"],
)
async def test_an_invalid_model_reference_is_refused_naming_the_setting_and_the_format(
    env: dict[str, str], workdir: Path, variable: str
) -> None:
    run = await supportbot(
        "serve", env=env | slack_env() | model_env() | {variable: "foo"}, cwd=workdir
    )
    assert run.code == 2
    assert_clean_failure(run)
    assert variable in run.stderr
    assert "'foo'" in run.stderr
    assert "provider:model" in run.stderr and "anthropic:claude-haiku-4-5" in run.stderr


async def test_an_invalid_number_setting_is_refused_naming_it(
    env: dict[str, str], workdir: Path
) -> None:
    run = await supportbot(
        "serve",
        env=env | slack_env() | model_env() | {"SUPPORTBOT_CONFIDENCE_THRESHOLD": "lots"},
        cwd=workdir,
    )
    assert run.code == 2
    assert_clean_failure(run)
    assert "SUPPORTBOT_CONFIDENCE_THRESHOLD" in run.stderr


# --- db upgrade -----------------------------------------------------------------------------


def _table_names(conn: Any) -> set[str]:
    return set(inspect(conn).get_table_names())


async def test_db_upgrade_creates_the_schema_on_a_blank_database(
    env: dict[str, str], workdir: Path, db: Database
) -> None:
    run = await supportbot("db", "upgrade", env=env, cwd=workdir)
    assert run.code == 0, run.stderr
    assert "up to date" in run.stdout
    async with db.engine.connect() as conn:
        tables = await conn.run_sync(_table_names)
    # Every table the README's schema section names (test_migrations checks the rest).
    assert {
        "alembic_version",
        "conversation",
        "message",
        "model_call",
        "slack_event",
        "customer_link",
        "demo_order",
    } <= tables

    again = await supportbot("db", "upgrade", env=env, cwd=workdir)
    assert again.code == 0, again.stderr


async def test_db_downgrade_goes_back_to_a_revision_and_upgrade_comes_forward(
    env: dict[str, str], workdir: Path, db: Database
) -> None:
    assert (await supportbot("db", "upgrade", env=env, cwd=workdir)).code == 0
    run = await supportbot("db", "downgrade", "0001", env=env, cwd=workdir)
    assert run.code == 0, run.stderr
    assert "at 0001" in run.stdout
    async with db.engine.connect() as conn:
        tables = await conn.run_sync(_table_names)
    assert "escalation" not in tables and "message" in tables  # 0002 added escalations
    assert (await supportbot("db", "upgrade", env=env, cwd=workdir)).code == 0
    async with db.engine.connect() as conn:
        assert "escalation" in await conn.run_sync(_table_names)


# --- orders import --------------------------------------------------------------------------


def order_json(order_id: str, email: str, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "customer_email": email,
        "status": status,
        "items": [{"name": "Kayak paddle", "quantity": 2, "price": "45.50"}],
        "total": "91.00",
        "currency": "USD",
        "created_at": "2026-11-20T10:00:00Z",
        **extra,
    }


def test_an_order_file_may_be_a_plain_json_list_or_an_orders_object() -> None:
    orders = [order_json("7001", "erin@example.com", "shipped")]
    as_list = parse_order_file(json.dumps(orders), "orders.json")
    as_object = parse_order_file(json.dumps({"orders": orders}), "orders.json")
    assert as_list == as_object
    assert [(o.order_id, o.status) for o in as_list] == [("7001", "shipped")]


async def test_orders_import_of_a_json_file_loads_readable_orders(
    env: dict[str, str], workdir: Path, db: Database
) -> None:
    orders = [
        order_json("7001", "Erin@Example.com", "shipped", tracking="TRK7001"),
        order_json("7002", "erin@example.com", "processing"),
    ]
    path = workdir / "orders.json"
    path.write_text(json.dumps({"orders": orders}))

    run = await supportbot("orders", "import", str(path), env=env, cwd=workdir)
    assert run.code == 0, run.stderr
    assert "imported 2 order(s)" in run.stdout

    store = SqlOrders(db)
    first = await store.get("7001")
    assert first is not None
    assert (first.status, first.tracking, first.customer_email) == (
        "shipped",
        "TRK7001",
        "erin@example.com",  # emails are stored lowercased
    )
    assert [(i.name, i.quantity, str(i.price)) for i in first.items] == [
        ("Kayak paddle", 2, "45.50")
    ]
    assert str(first.total) == "91.00"
    assert sorted(o.order_id for o in await store.list_for("erin@example.com")) == [
        "7001",
        "7002",
    ]
    assert await store.get("1042") is None  # an import does not add the demo orders


async def test_importing_an_order_again_replaces_it(
    env: dict[str, str], workdir: Path, db: Database
) -> None:
    await db.upgrade()
    first = json.dumps([order_json("7001", "erin@example.com", "processing")])
    await import_orders(db, parse_order_file(first, "first.json"))
    path = workdir / "orders.json"
    path.write_text(json.dumps([order_json("7001", "erin@example.com", "delivered")]))
    run = await supportbot("orders", "import", str(path), env=env, cwd=workdir)
    assert run.code == 0, run.stderr

    found = await SqlOrders(db).get("7001")
    assert found is not None and found.status == "delivered"
    assert len(await SqlOrders(db).list_for("erin@example.com")) == 1


async def test_orders_import_of_a_csv_file_with_an_items_json_column(
    env: dict[str, str], workdir: Path, db: Database
) -> None:
    items = json.dumps([{"name": "Tent", "quantity": 1, "price": "199.00"}]).replace('"', '""')
    path = workdir / "orders.csv"
    path.write_text(
        "order_id,customer_email,status,items,total,currency,created_at,tracking\n"
        f'8001,Frank@Example.com,delayed,"{items}",199.00,EUR,2026-11-21T08:00:00Z,JJD123\n'
        f'8002,frank@example.com,processing,"{items}",199.00,EUR,2026-11-22T08:00:00Z,\n'
    )
    run = await supportbot("orders", "import", str(path), env=env, cwd=workdir)
    assert run.code == 0, run.stderr
    assert "imported 2 order(s)" in run.stdout

    store = SqlOrders(db)
    first = await store.get("8001")
    assert first is not None
    assert (first.status, first.currency, first.tracking) == ("delayed", "EUR", "JJD123")
    assert [(i.name, i.quantity, str(i.price)) for i in first.items] == [("Tent", 1, "199.00")]
    second = await store.get("8002")
    assert second is not None and second.tracking is None  # an empty cell is no value
    assert len(await store.list_for("frank@example.com")) == 2


MALFORMED = {
    "invalid-json": ("orders.json", "{not json"),
    "empty-json": ("orders.json", ""),
    "json-missing-fields": ("orders.json", json.dumps([{"order_id": "1", "status": "shipped"}])),
    "json-orders-not-a-list": ("orders.json", json.dumps({"orders": 5})),
    "json-null": ("orders.json", "null"),
    "json-order-not-an-object": ("orders.json", json.dumps(["1042"])),
    "csv-bad-items": (
        "orders.csv",
        "order_id,customer_email,status,items,total,currency,created_at\n"
        "9001,a@example.com,shipped,[not json,1.00,USD,2026-11-21T08:00:00Z\n",
    ),
    "csv-missing-columns": ("orders.csv", "order_id,status\n9001,shipped\n"),
}


@pytest.mark.parametrize(("filename", "content"), MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_order_file_is_a_value_error_naming_the_file(
    filename: str, content: str
) -> None:
    # The CLI turns a ValueError into a one-line message and exit code 1 (see below).
    with pytest.raises(ValueError, match=re.escape(filename)):
        parse_order_file(content, filename)


async def test_orders_import_of_a_malformed_file_fails_cleanly_and_imports_nothing(
    env: dict[str, str], workdir: Path, db: Database
) -> None:
    filename, content = MALFORMED["json-orders-not-a-list"]
    path = workdir / filename
    path.write_text(content)
    run = await supportbot("orders", "import", str(path), env=env, cwd=workdir)
    assert run.code == 1
    assert_clean_failure(run)
    assert filename in run.stderr  # says which file is wrong
    assert "imported" not in run.stdout


async def test_importing_a_missing_file_is_refused(env: dict[str, str], workdir: Path) -> None:
    run = await supportbot("orders", "import", "nowhere.json", env=env, cwd=workdir)
    assert run.code == 2
    assert_clean_failure(run)
    assert "nowhere.json" in run.stderr


# --- customers link -------------------------------------------------------------------------


async def test_customers_link_stores_a_lowercased_link(
    env: dict[str, str], workdir: Path, db: Database
) -> None:
    run = await supportbot("customers", "link", "U1", "Someone@Example.com", env=env, cwd=workdir)
    assert run.code == 0, run.stderr
    assert "someone@example.com" in run.stdout
    [link] = await all_rows(db, CustomerLink)
    assert (link.slack_user_id, link.email) == ("U1", "someone@example.com")


async def test_linking_a_user_again_replaces_the_link(
    env: dict[str, str], workdir: Path, db: Database
) -> None:
    await supportbot("customers", "link", "U1", "old@example.com", env=env, cwd=workdir)
    run = await supportbot("customers", "link", "U1", "New@Example.com", env=env, cwd=workdir)
    assert run.code == 0, run.stderr
    [link] = await all_rows(db, CustomerLink)
    assert link.email == "new@example.com"


async def test_customers_link_refuses_something_that_is_not_an_email(
    env: dict[str, str], workdir: Path
) -> None:
    run = await supportbot("customers", "link", "U1", "not-an-email", env=env, cwd=workdir)
    assert run.code == 2
    assert_clean_failure(run)
    assert "not-an-email" in run.stderr


# --- chat -----------------------------------------------------------------------------------


async def test_chat_answers_in_the_terminal_and_records_everything(
    env: dict[str, str], workdir: Path, db: Database, fake_anthropic: FakeAnthropic
) -> None:
    run = await supportbot(
        "chat",
        "--email",
        "alice@example.com",
        "--main-database",  # by default the chat keeps to its own (test_cli_usage.py)
        env=env | model_env(fake_anthropic),
        cwd=workdir,
        stdin=b"where is my order 1042?\n",
    )
    assert run.code == 0, run.stderr
    assert "shipped" in run.stdout and "1Z999AA10123456784" in run.stdout
    assert len(fake_anthropic.requests) == 2  # lookup_order, then final_answer

    [conv] = await all_rows(db, Conversation)
    assert conv.user_id == "cli:alice@example.com"
    messages = await all_rows(db, Message)
    assert [(m.role, m.status) for m in messages] == [("user", "answered"), ("assistant", "none")]
    assert messages[0].text == "where is my order 1042?"
    assert "shipped" in messages[1].text
    calls = await all_rows(db, ModelCall)
    assert len(calls) == 2
    assert all(c.provider == "anthropic" and c.model == "claude-haiku-4-5" for c in calls)
    assert all(c.cost_usd is not None and c.cost_usd > 0 for c in calls)
    assert conv.total_cost_usd == sum(c.cost_usd for c in calls)


async def test_chat_as_a_customer_cannot_see_another_customers_order_but_a_lead_can(
    env: dict[str, str], workdir: Path, fake_anthropic: FakeAnthropic
) -> None:
    chat_env = env | model_env(fake_anthropic)
    customer = await supportbot(
        "chat", "--email", "alice@example.com", env=chat_env, cwd=workdir, stdin=b"order 2001?\n"
    )
    lead = await supportbot(
        "chat",
        "--email",
        "lead@example.com",
        "--lead",
        env=chat_env,
        cwd=workdir,
        stdin=b"order 2001?\n",
    )
    assert customer.code == 0 and lead.code == 0, customer.stderr + lead.stderr
    assert "delivered" not in customer.stdout
    assert "delivered" in lead.stdout


# --- serve ---------------------------------------------------------------------------------


@asynccontextmanager
async def serve(env: dict[str, str], cwd: Path, log: Path) -> AsyncIterator[Served]:
    """`supportbot serve` on a free local port, healthy; killed if the test did not stop it."""
    async with aiohttp.ClientSession() as http:
        served = Served(await start_serve(env, cwd, log, http), http)
        try:
            yield served
        finally:
            await served.process.kill()


@dataclass
class Served:
    process: ServeProcess
    http: aiohttp.ClientSession

    @property
    def base(self) -> str:
        return self.process.base

    @property
    def output(self) -> str:
        return self.process.output

    async def stop(self) -> int:
        return await self.process.stop(COMMAND_TIMEOUT)

    async def wait_for(self, condition: Callable[[], Awaitable[bool]], what: str) -> None:
        deadline = time.monotonic() + COMMAND_TIMEOUT
        while not await condition():
            if not self.process.alive():
                pytest.fail(f"supportbot exited before {what}:\n{self.output}")
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}:\n{self.output}")
            await asyncio.sleep(0.05)


@pytest.fixture
def serve_env(
    env: dict[str, str], fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> dict[str, str]:
    return env | slack_env() | model_env(fake_anthropic) | {"SLACK_API_URL": fake_slack.api_url}


async def test_serve_returns_only_once_its_cut_off_sweep_has_unwound(
    make_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A sweep cut off in a database call closes its connection as it unwinds. Serve returning
    # before that leaves the close to asyncio.run's teardown, which cancels it again: with
    # aiosqlite the process then never exits on SIGTERM.
    started, unwound = asyncio.Event(), asyncio.Event()

    async def sweep_cut_off_in_a_call(_worker: Worker) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await asyncio.sleep(0.5)  # its connection being closed
            unwound.set()
            raise

    monkeypatch.setattr(Worker, "sweep_forever", sweep_cut_off_in_a_call)
    serving = asyncio.create_task(_serve(make_settings(), "127.0.0.1", free_port()))
    await asyncio.wait_for(started.wait(), COMMAND_TIMEOUT)
    os.kill(os.getpid(), signal.SIGTERM)  # serve's own handler takes it
    await asyncio.wait_for(serving, COMMAND_TIMEOUT)
    assert unwound.is_set()


async def test_serve_answers_a_signed_event_and_stops_cleanly_on_sigterm(
    serve_env: dict[str, str],
    workdir: Path,
    tmp_path: Path,
    fake_slack: FakeSlack,
    fake_anthropic: FakeAnthropic,
) -> None:
    async with serve(serve_env, workdir, tmp_path / "serve.log") as served:
        events_url = f"{served.base}/slack/events"
        now = int(time.time())

        # A forged signature is refused before anything else happens.
        forged = event_body(dm("where is my order 1043?", ts=f"{now - 1}.999998"))
        headers = {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": str(now),
            "X-Slack-Signature": "v0=" + "0" * 64,
        }
        async with served.http.post(events_url, data=forged, headers=headers) as resp:
            assert resp.status == 401

        # A ts of the past second: the fake Slack numbers its own posts from 1 in this second.
        event = dm("where is my order 1042?", ts=f"{now - 1}.999999")
        body = event_body(event)
        headers = {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": str(now),
            "X-Slack-Signature": sign(body, now),
        }
        async with served.http.post(events_url, data=body, headers=headers) as resp:
            assert resp.status == 200

        async def answered() -> bool:
            return bool(fake_slack.posts())

        await served.wait_for(answered, "a reply was posted to Slack")
        [post] = fake_slack.posts()
        assert post["channel"] == "D0001" and post["thread_ts"] == event["ts"]
        assert "shipped" in post["text"] and "1043" not in post["text"]
        # Only the signed message reached the model.
        assert all("1043" not in json.dumps(r["messages"]) for r in fake_anthropic.requests)

        assert await served.stop() == 0, served.output
        assert "Traceback" not in served.output


async def test_purge_as_a_command_deletes_old_conversations_and_refuses_a_bad_age(
    bot: Bot, env: dict[str, str], workdir: Path
) -> None:
    await bot.event(dm("where is my order 1042?"))
    await bot.event(dm("where is my order 2001?", user="UBOB"))
    await bot.settle()
    async with bot.services.db.session() as s:
        await s.exec(
            update(Conversation)
            .where(col(Conversation.user_id) == "UALICE")
            .values(updated_at=utcnow() - timedelta(days=100))
        )
        await s.commit()
    bad = await supportbot("purge", "--older-than", "3w", env=env, cwd=workdir)
    assert_clean_failure(bad)
    run = await supportbot("purge", "--older-than", "90d", env=env, cwd=workdir)
    assert run.code == 0, run.stderr
    assert "purged 1 conversation(s): 2 message(s)" in run.stdout
    messages = await all_rows(bot.services.db, Message)
    assert {m.user_id for m in messages if m.role == "user"} == {"UBOB"}
    assert len(messages) == 2  # Bob's question and answer
