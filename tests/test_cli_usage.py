"""What a newcomer meets at the command line, run through the real entry point: the terminal
chat kept apart from the leads' queues and reports, every missing setting named at once, the
bot token checked at start, one-line errors for bad arguments and files, and help and README
that agree with the code."""

# The fixtures of test_cli.py are imported by name, which pytest requires and ruff calls a
# redefinition in every test that takes one.
# ruff: noqa: F811

from __future__ import annotations

import argparse
import enum
import json
import logging
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

import bot.cli as cli_module
from bot.cli import build_parser, main
from bot.cli.chat import chat_database_url
from bot.config import README_ORDERS_SECTION, Settings, load_settings
from bot.errors import ConfigError, OrderServiceError
from bot.orders import HttpOrders
from bot.store import escalations
from bot.store.db import Database, revisions
from bot.store.models import Conversation, Escalation, ModelCall
from bot.store.queries import Inbound, message_and_conversation, record_inbound
from escalation.review import LeadAction
from tests.conftest import dm
from tests.fakes.models import FakeAnthropic
from tests.fakes.orders import TOKEN, FakeOrderService, order
from tests.fakes.slack import FakeSlack
from tests.helpers import open_escalation
from tests.serving import CODE_ROOT
from tests.test_cli import (  # noqa: F401  (db, env, serve_env, workdir: its fixtures)
    all_rows,
    assert_clean_failure,
    db,
    env,
    model_env,
    serve,
    serve_env,
    slack_env,
    sqlite_file,
    supportbot,
    workdir,
)

README = Path(CODE_ROOT) / "README.md"


def readme_section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


# --- chat keeps to a database of its own ------------------------------------------------------


async def test_chat_keeps_its_conversations_apart_from_the_leads_queues_and_reports(
    env: dict[str, str],
    workdir: Path,
    db: Database,
    database_url: str,
    fake_anthropic: FakeAnthropic,
) -> None:
    run = await supportbot(
        "chat",
        env=env | model_env(fake_anthropic),
        cwd=workdir,
        stdin=b"where is my order 1042?\nhow do returns work?\ncan I talk to a person?\n",
    )
    assert run.code == 0, run.stderr
    # The demo orders and the help center work in the chat's own database.
    assert "shipped" in run.stdout and "1Z999AA10123456784" in run.stdout
    assert "From our help center" in run.stdout
    assert "escalation #1 is waiting" in run.stdout
    chat_url = chat_database_url(database_url)
    assert chat_url != database_url
    assert chat_url.removeprefix("sqlite:///") in run.stdout  # says where it is recorded

    # Nothing reached the main database: no escalation for App Home, no thread for /costs.
    await db.upgrade()
    assert await all_rows(db, Conversation) == []
    assert await all_rows(db, Escalation) == []
    assert await all_rows(db, ModelCall) == []
    listed = await supportbot("escalations", "--status", "all", "--json", env=env, cwd=workdir)
    assert json.loads(listed.stdout) == []
    costs = await supportbot("costs", "--json", env=env, cwd=workdir)
    assert json.loads(costs.stdout)["top_threads"] == []

    # Beside a SQLite main database; in the working directory beside a PostgreSQL one.
    chat_db = Database(
        chat_url
        if sqlite_file(database_url)
        else f"sqlite:///{workdir}/{Path(chat_url.removeprefix('sqlite:///'))}"
    )
    try:
        [conv] = await all_rows(chat_db, Conversation)
        assert conv.user_id == "cli:alice@example.com"
        assert len(await all_rows(chat_db, Escalation)) == 1
    finally:
        await chat_db.close()


async def test_chat_records_in_the_main_database_only_when_asked(
    env: dict[str, str], workdir: Path, db: Database, fake_anthropic: FakeAnthropic
) -> None:
    run = await supportbot(
        "chat",
        "--main-database",
        env=env | model_env(fake_anthropic),
        cwd=workdir,
        stdin=b"where is my order 1042?\n",
    )
    assert run.code == 0, run.stderr
    assert "shipped" in run.stdout
    [conv] = await all_rows(db, Conversation)
    assert conv.user_id == "cli:alice@example.com"


async def test_chat_takes_a_database_url_and_has_the_demo_orders_there(
    env: dict[str, str], workdir: Path, tmp_path: Path, fake_anthropic: FakeAnthropic
) -> None:
    elsewhere = tmp_path / "elsewhere.db"
    run = await supportbot(
        "chat",
        "--database",
        f"sqlite:///{elsewhere}",
        # Production's setting: no demo orders in the main store. The chat's sandbox has them.
        env=env | model_env(fake_anthropic) | {"SUPPORTBOT_DEMO_ORDERS": "false"},
        cwd=workdir,
        stdin=b"where is my order 1042?\n",
    )
    assert run.code == 0, run.stderr
    assert "shipped" in run.stdout
    chat_db = Database(f"sqlite:///{elsewhere}")
    try:
        assert len(await all_rows(chat_db, Conversation)) == 1
    finally:
        await chat_db.close()


def test_the_chat_database_is_beside_a_sqlite_main_database_and_local_otherwise() -> None:
    assert chat_database_url("sqlite:////srv/bot/supportbot.db") == (
        "sqlite:////srv/bot/supportbot-chat.db"
    )
    assert chat_database_url("sqlite:///data/main.sqlite") == "sqlite:///data/main-chat.sqlite"
    # Nothing of the main database's URL (its password) is carried over.
    assert chat_database_url("postgresql://bot:secret@db/support") == (
        "sqlite:///supportbot-chat.db"
    )


async def test_chat_with_the_http_order_backend_reads_the_order_service(
    env: dict[str, str], workdir: Path, fake_anthropic: FakeAnthropic
) -> None:
    service = await FakeOrderService().start()
    service.add(order("1042", "alice@example.com", "out for delivery", tracking="TRK-1042"))
    try:
        orders_env = {"ORDERS_BACKEND": "http", "ORDERS_API_URL": service.base_url}
        run = await supportbot(
            "chat",
            env=env | model_env(fake_anthropic) | orders_env | {"ORDERS_API_TOKEN": TOKEN},
            cwd=workdir,
            stdin=b"where is my order 1042?\n",
        )
        assert run.code == 0, run.stderr
        assert "out for delivery" in run.stdout and "TRK-1042" in run.stdout

        # A token the service refuses is an operator's problem, and said so in the log.
        refused = await supportbot(
            "chat",
            env=env | model_env(fake_anthropic) | orders_env | {"ORDERS_API_TOKEN": "stale"},
            cwd=workdir,
            stdin=b"where is my order 1042?\n",
        )
        assert refused.code == 0, refused.stderr
        assert "out for delivery" not in refused.stdout
        assert "ERROR" in refused.stderr and "ORDERS_API_TOKEN" in refused.stderr
    finally:
        await service.close()


async def test_chat_prints_no_log_lines_between_question_and_answer(
    env: dict[str, str], workdir: Path, fake_anthropic: FakeAnthropic
) -> None:
    run = await supportbot(
        "chat",
        env=env | model_env(fake_anthropic),
        cwd=workdir,
        stdin=b"where is my order 1042?\n",
    )
    assert run.code == 0, run.stderr
    assert "shipped" in run.stdout
    assert run.stderr == ""
    # Asked for, the log is there (the SDK's HTTP requests at INFO).
    verbose = await supportbot(
        "chat",
        env=env | model_env(fake_anthropic) | {"SUPPORTBOT_LOG_LEVEL": "INFO"},
        cwd=workdir,
        stdin=b"where is my order 1042?\n",
    )
    assert "HTTP Request" in verbose.stderr


# --- the order service refusing our token -----------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
async def test_an_order_service_refusing_the_token_is_logged_as_a_configuration_error(
    status: int, caplog: pytest.LogCaptureFixture
) -> None:
    service = await FakeOrderService().start()
    service.add(order("1042", "alice@example.com"))
    backend = HttpOrders(service.base_url, "wrong-token")
    try:
        if status == 403:
            service.status = 403
            backend = HttpOrders(service.base_url, TOKEN)
        with caplog.at_level(logging.INFO), pytest.raises(OrderServiceError):
            await backend.get("1042")
        [record] = [r for r in caplog.records if r.name == "bot.orders.http"]
        assert record.levelno == logging.ERROR
        assert "configuration" in record.getMessage()
        assert "ORDERS_API_TOKEN" in record.getMessage()
        assert str(status) in record.getMessage()
    finally:
        await backend.close()
        await service.close()


async def test_an_order_service_outage_is_a_warning_not_a_configuration_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    service = await FakeOrderService().start()
    service.status = 503
    backend = HttpOrders(service.base_url, TOKEN)
    try:
        with caplog.at_level(logging.INFO), pytest.raises(OrderServiceError):
            await backend.get("1042")
        [record] = [r for r in caplog.records if r.name == "bot.orders.http"]
        assert record.levelno == logging.WARNING and "503" in record.getMessage()
        assert "ORDERS_API_TOKEN" not in record.getMessage()
    finally:
        await backend.close()
        await service.close()


# --- serve: every missing setting at once, the token checked, warnings ------------------------


async def test_serve_names_every_missing_setting_at_once(
    env: dict[str, str], workdir: Path, database_url: str
) -> None:
    run = await supportbot("serve", env=env | {"ORDERS_BACKEND": "http"}, cwd=workdir)
    assert run.code == 2
    assert_clean_failure(run)
    for variable in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "ANTHROPIC_API_KEY",
        "ORDERS_API_URL",
    ):
        assert variable in run.stderr
    assert "4 settings" in run.stderr
    db_file = sqlite_file(database_url)
    assert db_file is None or not db_file.exists()


@pytest.mark.parametrize(
    ("token", "error"),
    [("not-a-slack-token", "invalid_auth"), ("xoxb-revoked", "token_revoked")],
)
async def test_serve_stops_when_slack_refuses_the_bot_token(
    env: dict[str, str],
    workdir: Path,
    database_url: str,
    fake_slack: FakeSlack,
    token: str,
    error: str,
) -> None:
    fake_slack.revoked_tokens.add("xoxb-revoked")
    run = await supportbot(
        "serve",
        "--port",
        "0",
        env=env
        | slack_env()
        | model_env()
        | {"SLACK_BOT_TOKEN": token, "SLACK_API_URL": fake_slack.api_url},
        cwd=workdir,
    )
    assert run.code == 2
    assert_clean_failure(run)
    assert "SLACK_BOT_TOKEN" in run.stderr and error in run.stderr
    assert "OAuth & Permissions" in run.stderr
    assert token not in run.stderr  # a token is never printed
    assert [c.method for c in fake_slack.calls] == ["auth.test"]
    db_file = sqlite_file(database_url)
    assert db_file is None or not db_file.exists()


async def test_serve_checks_the_token_and_warns_when_no_leads_are_set(
    serve_env: dict[str, str], workdir: Path, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    async with serve(serve_env, workdir, tmp_path / "serve.log") as served:
        assert await served.stop() == 0, served.output
    assert fake_slack.calls_to("auth.test")
    warnings = [line for line in served.output.splitlines() if " WARNING " in line]
    assert any("SUPPORTBOT_LEADS_CHANNEL is not set" in line for line in warnings)
    assert any("SUPPORTBOT_LEAD_USERS is not set" in line for line in warnings)


async def test_serve_starts_with_a_warning_when_slack_cannot_check_the_token(
    serve_env: dict[str, str], workdir: Path, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    # Slack failing is not a refused token: events are still taken and answered later.
    fake_slack.fail("auth.test", 500, {"ok": False, "error": "fatal_error"}, times=10)
    async with serve(serve_env, workdir, tmp_path / "serve.log") as served:
        assert await served.stop() == 0, served.output
    assert "auth.test failed" in served.output


def test_no_warning_when_the_leads_are_set() -> None:
    settings = Settings(leads_channel="C0LEADS", lead_users=["U0LEAD"])
    assert settings.serve_warnings() == []
    assert len(Settings(leads_channel="", lead_users=[]).serve_warnings()) == 2


# --- db downgrade -----------------------------------------------------------------------------


async def test_db_downgrade_to_an_unknown_revision_is_one_line_listing_the_known_ones(
    env: dict[str, str], workdir: Path, db: Database
) -> None:
    assert (await supportbot("db", "upgrade", env=env, cwd=workdir)).code == 0
    run = await supportbot("db", "downgrade", "9999", env=env, cwd=workdir)
    assert run.code == 2
    assert_clean_failure(run)
    assert len(run.stderr.strip().splitlines()) == 1
    assert "9999" in run.stderr
    for revision in revisions():
        assert revision.id in run.stderr
    assert "base" in run.stderr
    assert await db.current_revision() == revisions()[0].id  # nothing changed


async def test_db_downgrade_without_a_revision_lists_them_and_marks_the_current_one(
    env: dict[str, str], workdir: Path
) -> None:
    assert (await supportbot("db", "upgrade", env=env, cwd=workdir)).code == 0
    assert (await supportbot("db", "downgrade", "0003", env=env, cwd=workdir)).code == 0
    run = await supportbot("db", "downgrade", env=env, cwd=workdir)
    assert run.code == 2
    assert_clean_failure(run)
    lines = run.stderr.splitlines()
    for revision in revisions():
        [line] = [x for x in lines if x.split()[:1] == [revision.id]]
        assert revision.title in line
        assert ("(current)" in line) == (revision.id == "0003")

    # Going "back" to a newer revision is refused in words, not a traceback.
    newer = await supportbot("db", "downgrade", "0005", env=env, cwd=workdir)
    assert newer.code == 2
    assert_clean_failure(newer)
    assert "db upgrade" in newer.stderr


# --- orders import refuses a file with no orders ----------------------------------------------


ITEMS = json.dumps([{"name": "Tent", "quantity": 1, "price": "199.00"}]).replace('"', '""')
NOT_ORDERS = {
    "object-without-orders": ("orders.json", json.dumps({"foo": 1}), "expected a list of orders"),
    "empty-list": ("orders.json", "[]", "holds no orders"),
    "empty-orders": ("orders.json", json.dumps({"orders": []}), "holds no orders"),
    "missing-fields": (
        "orders.json",
        json.dumps([{"order_id": "1", "status": "shipped"}]),
        "customer_email: Field required",
    ),
    "csv-without-items": (
        "orders.csv",
        "order_id,customer_email,status,total,currency,created_at\n"
        "9001,a@example.com,shipped,1.00,USD,2026-11-21T08:00:00Z\n",
        "no column items",
    ),
    "csv-header-only": (
        "orders.csv",
        "order_id,customer_email,status,items,total,currency,created_at\n",
        "holds no orders",
    ),
    "csv-empty": ("orders.csv", "", "holds no orders"),
}


@pytest.mark.parametrize(("filename", "content", "says"), NOT_ORDERS.values(), ids=NOT_ORDERS)
async def test_orders_import_refuses_a_file_without_orders_in_one_line(
    env: dict[str, str], workdir: Path, db: Database, filename: str, content: str, says: str
) -> None:
    path = workdir / filename
    path.write_text(content)
    run = await supportbot("orders", "import", str(path), env=env, cwd=workdir)
    assert run.code == 1
    assert_clean_failure(run)
    assert len(run.stderr.strip().splitlines()) == 1
    assert filename in run.stderr and says in run.stderr
    assert "imported" not in run.stdout


# --- numeric options --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["stats", "--days", "-3"],
        ["stats", "--days", "0"],
        ["stats", "--days", "three"],
        ["stats", "--days", "99999999999"],
        ["serve", "--processes", "0"],
        ["serve", "--port", "70000"],
    ],
    ids=lambda args: " ".join(args),
)
def test_a_number_out_of_range_is_refused_by_the_parser(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(args)
    assert stopped.value.code == 2
    assert args[-1] in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["stats", "--days", "-3"], "-3 is not from 1"),
        (["purge", "--older-than", "0d"], "'0d'"),
        (["purge", "--older-than", "99999999999d"], "at most"),
        (["costs", "--period", "nonsense"], "unknown period 'nonsense'"),
    ],
    ids=["days", "older-than-0", "older-than-too-far", "period"],
)
async def test_a_bad_number_or_period_is_refused_before_touching_the_database(
    env: dict[str, str], workdir: Path, database_url: str, args: list[str], says: str
) -> None:
    run = await supportbot(*args, env=env, cwd=workdir)
    assert run.code == 2
    assert "Traceback" not in run.stderr
    assert says in run.stderr
    db_file = sqlite_file(database_url)
    assert db_file is None or not db_file.exists()


# --- escalations lists the open ones by default ----------------------------------------------


async def _open_and_dismissed(db: Database) -> None:
    await db.upgrade()
    for n in range(2):
        message_id = await record_inbound(
            db, Inbound("T", "D1", f"1.{n}", "UALICE", "help", f"1.{n}")
        )
        assert message_id is not None
        _, conv = await message_and_conversation(db, message_id)
        esc = await open_escalation(
            db,
            conversation_id=conv.id or 0,
            message_id=message_id,
            reasons=["customer_request"],
            confidence=None,
            findings=[],
            summary="s",
            draft="",
            leads_channel="",
        )
        if n == 1:
            await escalations.apply_action(db, esc.id or 0, LeadAction.DISMISS, "ULEAD")


async def test_escalations_lists_the_open_ones_unless_asked_for_all(
    env: dict[str, str], workdir: Path, db: Database
) -> None:
    await _open_and_dismissed(db)
    default = await supportbot("escalations", "--json", env=env, cwd=workdir)
    assert [e["status"] for e in json.loads(default.stdout)] == ["open"]
    every = await supportbot("escalations", "--status", "all", "--json", env=env, cwd=workdir)
    assert [e["status"] for e in json.loads(every.stdout)] == ["open", "dismissed"]
    dismissed = await supportbot("escalations", "--status", "dismissed", env=env, cwd=workdir)
    assert "dismissed" in dismissed.stdout and " open " not in dismissed.stdout


# --- settings errors name the environment variable --------------------------------------------


async def test_a_bad_price_override_names_the_variable(env: dict[str, str], workdir: Path) -> None:
    run = await supportbot(
        "stats", env=env | {"SUPPORTBOT_PRICE_OVERRIDES": "{not json"}, cwd=workdir
    )
    assert run.code == 2
    assert_clean_failure(run)
    assert "SUPPORTBOT_PRICE_OVERRIDES" in run.stderr and "JSON" in run.stderr
    assert "price_overrides" not in run.stderr and "EnvSettingsSource" not in run.stderr


# A value each setting refuses (settings that take any text have none).
BAD_VALUES = {
    int: "lots",
    float: "lots",
    bool: "maybe",
}

# The SLA settings are text, read by bot/sla/policy.py's parsers.
SLA_BAD_VALUES = {
    "timezone": "Mars/Olympus",
    "business_hours": "whenever",
    "holidays": "Bavaria",
    "sla": '{"gold": {"first_response": "soon"}}',
    "sla_remind_before": "soon",
    "default_tier": "platinum",
}


def _bad_value(name: str) -> str | None:
    field = Settings.model_fields[name]
    text = str(field.annotation)
    if name == "price_overrides":
        return "{not json"
    if name == "orders_backend":
        return "carrier-pigeon"
    if name in SLA_BAD_VALUES:
        return SLA_BAD_VALUES[name]
    if name in ("primary_model", "strong_model", "fallback_models", "strong_fallback_models"):
        return "foo"
    if "Decimal" in text:
        return "lots"
    if isinstance(field.annotation, type) and issubclass(field.annotation, enum.Enum):
        return "no-such-choice"
    for kind, value in BAD_VALUES.items():
        if field.annotation is kind:
            return value
    return None


REFUSABLE = [name for name in Settings.model_fields if _bad_value(name) is not None]


@pytest.mark.parametrize("name", REFUSABLE)
@pytest.mark.parametrize("source", ["environment", ".env"])
def test_every_settings_error_names_the_environment_variable(
    name: str, source: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    variable = Settings.model_fields[name].validation_alias
    assert isinstance(variable, str)
    monkeypatch.chdir(tmp_path)
    for other in Settings.model_fields.values():
        monkeypatch.delenv(str(other.validation_alias), raising=False)
    value = _bad_value(name)
    assert value is not None
    if source == ".env":
        (tmp_path / ".env").write_text(f"{variable}='{value}'\n")
    else:
        monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    message = str(refused.value)
    assert variable in message
    assert f"{name}:" not in message and "Source" not in message
    assert "Value error" not in message


def test_only_settings_that_take_any_text_have_no_bad_value_above() -> None:
    # A new kind of setting needs a bad value above, or the test above skips it silently.
    for name, field in Settings.model_fields.items():
        if name not in REFUSABLE:
            assert "str" in str(field.annotation).lower(), name


# --- help and docs agree with the code --------------------------------------------------------


def _commands(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> dict[tuple[str, ...], argparse.ArgumentParser]:
    """Every runnable command (`db downgrade`, `serve`, ...) and its parser."""
    found: dict[tuple[str, ...], argparse.ArgumentParser] = {}
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return {prefix: parser}
    for name, child in subs[0].choices.items():
        found |= _commands(child, (*prefix, name))
    return found


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {
        opt
        for action in parser._actions
        if action.help != argparse.SUPPRESS
        for opt in action.option_strings
        if opt.startswith("--") and opt != "--help"
    }


def _readme_commands() -> dict[tuple[str, ...], str]:
    """The terminal command table: each `supportbot ...` row's words and its usage text."""
    rows = re.findall(
        r"^\| `(supportbot [^`]+)` \|", readme_section("What a support lead sees"), re.M
    )
    table: dict[tuple[str, ...], str] = {}
    for usage in rows:
        words = tuple(w for w in usage.split()[1:] if re.fullmatch(r"[a-z]+(?:-[a-z]+)*", w))
        table[words] = usage
    return table


def test_the_readme_command_table_lists_every_command_with_its_options() -> None:
    commands = _commands(build_parser())
    table = _readme_commands()
    assert set(table) == set(commands)
    for words, usage in table.items():
        assert set(re.findall(r"--[a-z-]+", usage)) == _options(commands[words]), usage


def test_top_level_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    names = {words[0] for words in _commands(build_parser())}
    # Every command the parser offers has a runner, and every runner a command.
    assert names == set(cli_module._COMMANDS)
    for name in names:
        assert re.search(rf"^\s+{name}\b", text, re.M), name
    # The description names none of them (it listed five once): the list below is argparse's.
    description = (build_parser().description or "").lower()
    assert not names & set(re.findall(r"[a-z]+", description))


@pytest.mark.parametrize("words", sorted(_commands(build_parser())), ids=" ".join)
def test_every_command_has_help(words: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main([*words, "--help"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: supportbot {' '.join(words)}")


def _headings() -> set[str]:
    text = README.read_text(encoding="utf-8")
    return {m.strip() for m in re.findall(r"^#{2,4} (.+)$", text, re.M)}


def test_every_readme_section_and_doc_the_code_cites_exists() -> None:
    sources = "\n".join(
        p.read_text(encoding="utf-8") for p in (Path(CODE_ROOT) / "bot").rglob("*.py")
    )
    cited = set(re.findall(r"README, section '([^'{]+)'", sources))
    assert "Costs" in cited  # `costs --json`'s help
    assert README_ORDERS_SECTION in _headings()
    assert cited <= _headings()
    for doc in re.findall(r"\b(docs/[\w./-]+)", sources):
        assert (Path(CODE_ROOT) / doc).exists(), doc
    with pytest.raises(ConfigError, match=f"section '{README_ORDERS_SECTION}'"):
        Settings(orders_backend="http", anthropic_api_key="k").check_chat()


async def test_talk_to_a_person_makes_one_summary_call_as_the_readme_says(
    env: dict[str, str], workdir: Path, fake_anthropic: FakeAnthropic
) -> None:
    run = await supportbot(
        "chat",
        env=env | model_env(fake_anthropic),
        cwd=workdir,
        stdin=b"can I talk to a person?\n",
    )
    assert run.code == 0, run.stderr
    assert "escalation #1 is waiting" in run.stdout
    [summary] = fake_anthropic.requests
    assert "tools" not in summary  # a plain completion: the leads' summary, not an answer
    customer = readme_section("What the customer sees")
    sentence = customer[customer.index("*can I talk to a") :].split("\n- ")[0]
    assert "no model call" not in sentence and "summary" in sentence


# --- a newcomer's first Slack test ------------------------------------------------------------


async def test_the_readme_first_slack_test_works_for_a_newcomer_who_links_themselves(
    env: dict[str, str], workdir: Path, start_bot: Any, fake_slack: FakeSlack
) -> None:
    steps = readme_section("Create the Slack app")
    link = re.search(r"supportbot customers link (U\w+) (\S+@\S+)", steps)
    assert link is not None, "the README says how to link oneself to the demo customer"
    assert steps.index(link.group(0)) < steps.index("where is my order 1042?")
    assert "Copy member ID" in steps  # how to find one's own user id

    fake_slack.add_user("UNEWCOMER", "newcomer@example.com", "New")
    run = await supportbot("customers", "link", "UNEWCOMER", link.group(2), env=env, cwd=workdir)
    assert run.code == 0, run.stderr
    bot = await start_bot()
    await bot.event(dm("where is my order 1042?", user="UNEWCOMER"))
    await bot.settle()
    [reply] = bot.replies()
    assert "shipped" in reply["text"]


def _readme_code_commands(section: str) -> list[tuple[list[str], list[str]]]:
    """Each `supportbot` command in the code blocks of a README section (a synopsis with
    `[...]` aside; env assignments, `\\` continuations and `#` comments dropped), with the
    lines the block shows after it."""
    found = []
    for block in re.findall(r"```[a-z]*\n(.*?)```", readme_section(section), re.S):
        lines = block.replace("\\\n", " ").splitlines()
        for i, line in enumerate(lines):
            if not re.match(r"(\$ )?([A-Z_]+=\S*\s+)*supportbot [a-z]+(\s|$)", line):
                continue
            words = shlex.split(line.removeprefix("$ "), comments=True)
            while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
                words = words[1:]
            if words[:1] == ["supportbot"] and "[" not in line:
                after = lines[i + 1 :]
                ends = [n for n, later in enumerate(after) if later.startswith("$ ")]
                found.append((words[1:], after[: ends[0]] if ends else after))
    return found


@pytest.mark.parametrize(
    "section", ["Calibration", "Evaluate the bot", "Fine-tuning the primary model"]
)
def test_the_readmes_eval_calibrate_and_export_commands_work_as_written(section: str) -> None:
    """Every command parses as written; an eval run whose output the README shows names the
    suites that output ran (`supportbot eval smoke --out routed.json`, not every suite)."""
    commands = _readme_code_commands(section)
    assert commands
    for words, shown in commands:
        args = build_parser().parse_args(words)  # SystemExit (exit 2) on a wrong flag
        if args.command != "eval" or args.suites[:1] == ["compare"] or not shown:
            continue
        head = next((s for s in shown if s.startswith("supportbot eval: tier ")), None)
        if head is not None:
            ran = re.findall(r"(\w+) \(\d+\)", head.split("; suites ", 1)[1])
            assert args.suites == ran, f"`supportbot {' '.join(words)}` shows suites {ran}"
            assert head.startswith(f"supportbot eval: tier {args.tier or 'routed'};")
