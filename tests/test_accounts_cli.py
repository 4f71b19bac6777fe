"""`supportbot accounts add | link-channel | list`, run for real as a subprocess against the
test's database (SQLite or PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store.db import Database
from bot.store.models import Conversation
from tests.serving import process_env
from tests.test_cli import supportbot


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return process_env(database_url, tmp_path)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.upgrade()
    yield database
    await database.close()


async def _seen_team(db: Database, team_id: str, channel: str = "C0001") -> None:
    """A conversation of `team_id`: the database knows that workspace."""
    async with db.session() as s:
        s.add(Conversation(team_id=team_id, channel_id=channel, thread_ts="1.1", user_id="U1"))
        await s.commit()


async def test_add_link_and_list_an_account_in_the_only_workspace(
    env: dict[str, str], workdir: Path, db: Database
) -> None:
    await _seen_team(db, "T0001")
    run = await supportbot(
        "accounts", "add", "Acme", "--domain", "Acme.com", "--domain", "acme.io", "--tier",
        "gold", "--slack-team", "T0ACME", "--external-id", "acc-1", env=env, cwd=workdir,
    )  # fmt: skip
    assert run.code == 0, run.stderr
    assert run.stdout.strip() == (
        "added account Acme (tier gold) in T0001: domains acme.com, acme.io; Slack teams T0ACME"
    )
    run = await supportbot(
        "accounts", "link-channel", "acme", "C0SHARED", "--reply-mode", "requests",
        env=env, cwd=workdir,
    )  # fmt: skip
    assert run.code == 0, run.stderr
    assert "linked C0SHARED to Acme in T0001; reply mode requests\n" in run.stdout
    run = await supportbot("accounts", "list", env=env, cwd=workdir)
    assert run.code == 0, run.stderr
    assert run.stdout.splitlines() == [
        "Acme  tier gold  external id acc-1",
        "  domains: acme.com, acme.io",
        "  Slack teams: T0ACME",
        "  channels: C0SHARED (requests)",
    ]
    run = await supportbot("accounts", "list", "--json", env=env, cwd=workdir)
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout) == [
        {
            "name": "Acme",
            "team_id": "T0001",
            "tier": "gold",
            "external_id": "acc-1",
            "domains": ["acme.com", "acme.io"],
            "slack_teams": ["T0ACME"],
            "channels": [
                {"channel_id": "C0SHARED", "mapping": "confirmed", "reply_mode": "requests"}
            ],
        }
    ]


async def test_a_duplicate_domain_an_empty_tier_and_an_unknown_account_are_refused_politely(
    env: dict[str, str], workdir: Path, db: Database
) -> None:
    await _seen_team(db, "T0001")
    add = ("accounts", "add", "Acme", "--domain", "acme.com", "--tier", "gold")
    assert (await supportbot(*add, env=env, cwd=workdir)).code == 0
    run = await supportbot(
        "accounts", "add", "Other", "--domain", "ACME.com", "--tier", "gold", env=env, cwd=workdir
    )
    assert run.code == 1
    assert "the domain acme.com belongs to the account 'Acme' already" in run.stderr
    assert "Traceback" not in run.stderr
    run = await supportbot(
        "accounts", "add", "Other", "--domain", "o.com", "--tier", "", env=env, cwd=workdir
    )
    assert run.code == 1 and "an account needs a tier (--tier)" in run.stderr
    run = await supportbot("accounts", "link-channel", "Globex", "C0X", env=env, cwd=workdir)
    assert run.code == 1
    assert "no account named 'Globex' in T0001; the accounts are: Acme" in run.stderr
    run = await supportbot("accounts", "list", "--json", env=env, cwd=workdir)
    assert [a["name"] for a in json.loads(run.stdout)] == ["Acme"]


async def test_team_is_required_when_the_database_knows_several_workspaces_or_none(
    env: dict[str, str], workdir: Path, db: Database
) -> None:
    run = await supportbot("accounts", "list", env=env, cwd=workdir)
    assert run.code == 2 and "knows no workspace yet" in run.stderr
    await _seen_team(db, "T0001")
    await _seen_team(db, "T0002", channel="C0002")
    run = await supportbot("accounts", "list", env=env, cwd=workdir)
    assert run.code == 2 and "pass --team, one of T0001, T0002" in run.stderr
    run = await supportbot("accounts", "list", "--team", "T0002", env=env, cwd=workdir)
    assert run.code == 0 and "no accounts in T0002 yet" in run.stdout
