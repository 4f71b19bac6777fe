"""Customer accounts in the database (`bot/store/accounts.py`) and the shared channels'
directory (`bot/accounts/directory.py`), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.accounts.directory import SqlChannelDirectory
from bot.accounts.views import ChannelMapping, ReplyMode
from bot.slack_clients import SingleWorkspace
from bot.store.accounts import (
    AccountError,
    NewAccount,
    add_account,
    link_channel,
    list_accounts,
    load_shared_channel,
)
from bot.store.db import Database
from tests.fakes.slack import TEAM_ID, FakeSlack

ACME = NewAccount(
    team_id="T0001",
    name="Acme",
    tier="gold",
    domains=("Acme.com", "@acme.io", "acme.com"),
    slack_team_ids=("T0ACME",),
    external_id="acc-1",
)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.upgrade()
    yield database
    await database.close()


async def test_an_account_keeps_its_domains_lower_cased_once_and_its_slack_teams(
    db: Database,
) -> None:
    account = await add_account(db, ACME)
    assert account.domains == {"acme.com", "acme.io"}
    assert account.slack_team_ids == {"T0ACME"} and account.external_id == "acc-1"
    (listed,) = await list_accounts(db, "T0001")
    assert listed.account == account and listed.channels == ()
    assert await list_accounts(db, "T0OTHER") == []


async def test_a_domain_name_team_or_external_id_taken_in_the_workspace_is_refused(
    db: Database,
) -> None:
    await add_account(db, ACME)
    clashes = {
        "domain acme.io": NewAccount("T0001", "Other", "gold", ("ACME.IO",)),
        "named 'acme'": NewAccount("T0001", "acme", "gold", ("other.com",)),
        "T0ACME": NewAccount("T0001", "Other", "gold", ("o.com",), ("T0ACME",)),
        "acc-1": NewAccount("T0001", "Other", "gold", ("o.com",), (), "acc-1"),
        "tier": NewAccount("T0001", "Other", " ", ("o.com",)),
        "domain (--domain)": NewAccount("T0001", "Other", "gold", (" ",)),
    }
    for words, new in clashes.items():
        with pytest.raises(AccountError, match=words.replace("(", r"\(").replace(")", r"\)")):
            await add_account(db, new)
    # Another workspace may have the same customer.
    elsewhere = await add_account(db, NewAccount("T0002", "Acme", "gold", ("acme.com",)))
    assert elsewhere.team_id == "T0002"


async def test_a_linked_channel_shows_its_account_and_reply_mode(db: Database) -> None:
    account = await add_account(db, ACME)
    view = await link_channel(db, "T0001", "ACME", "C0SHARED", ReplyMode.REQUESTS, "ULEAD")
    assert view.mapping is ChannelMapping.CONFIRMED and view.account == account
    assert view.reply_mode is ReplyMode.REQUESTS
    assert await load_shared_channel(db, "T0001", "C0SHARED") == view
    assert await load_shared_channel(db, "T0002", "C0SHARED") is None
    (listed,) = await list_accounts(db, "T0001")
    assert listed.channels == (view,)
    with pytest.raises(AccountError, match=r"no account named 'Globex'.*Acme"):
        await link_channel(db, "T0001", "Globex", "C0OTHER")


async def test_the_directory_remembers_a_channel_for_thirty_seconds(db: Database) -> None:
    now = [datetime(2026, 3, 2, 12, 0, tzinfo=UTC)]
    directory = SqlChannelDirectory(db, clock=lambda: now[0])
    await add_account(db, ACME)
    assert await directory.cached("T0001", "C0SHARED") is None
    assert not await directory.is_shared("T0001", "C0SHARED")
    await link_channel(db, "T0001", "Acme", "C0SHARED")
    assert await directory.channel("T0001", "C0SHARED") is None  # remembered
    now[0] += timedelta(seconds=31)
    view = await directory.channel("T0001", "C0SHARED")
    assert view is not None and view.account is not None and view.account.name == "Acme"
    assert await directory.is_shared("T0001", "C0SHARED")
    assert not await directory.is_shared("T0002", "C0SHARED")


@pytest.fixture
async def slack_clients(connect: FakeSlack) -> AsyncIterator[SingleWorkspace]:
    client = AsyncWebClient(token="xoxb-test", base_url=connect.api_url)
    yield SingleWorkspace(client)
    if client.session is not None:
        await client.session.close()


async def test_a_shared_channel_seen_first_by_the_worker_gets_a_pending_row_once(
    db: Database, connect: FakeSlack, slack_clients: SingleWorkspace
) -> None:
    """`channel` asks conversations.info on first sight: C0SHARED (shared with Acme) becomes a
    pending row naming Acme's team, with no account; an internal channel stays unknown, and
    Slack is asked once per channel."""
    directory = SqlChannelDirectory(db, slack_clients)
    assert await directory.cached(TEAM_ID, "C0SHARED") is None  # the listener never asks
    view = await directory.channel(TEAM_ID, "C0SHARED")
    assert view is not None and view.mapping is ChannelMapping.PENDING
    assert view.account is None and view.external_team_ids == {"T0ACME"}
    assert await directory.is_shared(TEAM_ID, "C0SHARED")
    connect.add_channel("C0INTERNAL", "general", [TEAM_ID])
    assert await directory.channel(TEAM_ID, "C0INTERNAL") is None
    assert await directory.channel(TEAM_ID, "C0NOSUCH") is None  # channel_not_found: logged
    # A second process finds the row; a lead's link confirms it.
    await add_account(db, NewAccount(TEAM_ID, "Acme", "gold", ("acme.com",)))
    await link_channel(db, TEAM_ID, "Acme", "C0SHARED")
    again = await SqlChannelDirectory(db, slack_clients).channel(TEAM_ID, "C0SHARED")
    assert again is not None and again.mapping is ChannelMapping.CONFIRMED
    assert again.external_team_ids == {"T0ACME"}


async def test_a_channel_slack_could_not_describe_is_asked_about_again(
    db: Database, connect: FakeSlack, slack_clients: SingleWorkspace
) -> None:
    """A failed conversations.info (rate limited) is not remembered as "not shared": the next
    turn in that channel asks again and finds it shared."""
    connect.fail("conversations.info", 429, {"ok": False, "error": "ratelimited"}, times=1)
    directory = SqlChannelDirectory(db, slack_clients)
    assert await directory.channel(TEAM_ID, "C0SHARED") is None
    view = await directory.channel(TEAM_ID, "C0SHARED")
    assert view is not None and view.external_team_ids == {"T0ACME"}
