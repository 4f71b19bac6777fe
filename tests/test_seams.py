"""The seams Services carries for issue 15 (docs/issue-15-plan.md §8), as they are before the
branches that fill them: one Slack client for every team, no shared channels, no tickets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.accounts.directory import SqlChannelDirectory
from bot.accounts.views import ChannelMapping, NoChannels, ReplyMode
from bot.clock import SYSTEM_CLOCK
from bot.slack_clients import SingleWorkspace, WorkspaceNotInstalled
from bot.tickets.events import NoTickets
from bot.tickets.service import Tickets
from tests.conftest import Bot


async def test_one_workspace_has_one_client_for_every_team() -> None:
    client = AsyncWebClient(token="xoxb-test")
    clients = SingleWorkspace(client)
    assert await clients.for_team("T0001") is client
    assert await clients.for_team("") is client  # rows stored before teams were recorded
    assert await clients.token_for("T0001") == "xoxb-test"
    clients.evict("T0001")
    assert await clients.for_team("T0001") is client


async def test_a_client_without_a_token_has_no_token_to_give_and_says_which_team() -> None:
    with pytest.raises(WorkspaceNotInstalled, match="T0ACME") as raised:
        await SingleWorkspace(AsyncWebClient()).token_for("T0ACME")
    assert raised.value.team_id == "T0ACME"


async def test_before_accounts_no_channel_is_a_known_shared_channel() -> None:
    channels = NoChannels()
    assert await channels.cached("T0001", "C0SHARED") is None
    assert await channels.channel("T0001", "C0SHARED") is None
    assert await channels.is_shared("T0001", "C0SHARED") is False


async def test_before_tickets_ticket_events_are_ignored() -> None:
    tickets, at = NoTickets(), datetime(2026, 3, 2, tzinfo=UTC)
    assert await tickets.staff_replied(1, "USTAFF", at) is None
    assert await tickets.resolved(1, "USTAFF", at) is None
    assert await tickets.owned(1, "USTAFF", at) is None


def test_the_system_clock_is_aware_utc() -> None:
    now = SYSTEM_CLOCK()
    assert now.tzinfo is not None and now.utcoffset() == UTC.utcoffset(now)


def test_the_enums_are_the_values_the_tables_will_store() -> None:
    assert [m.value for m in ChannelMapping] == ["pending", "confirmed", "ignored"]
    assert [m.value for m in ReplyMode] == ["mentions", "requests"]


async def test_the_bot_is_built_with_the_seams(bot: Bot) -> None:
    services = bot.services
    assert isinstance(services.clients, SingleWorkspace)
    assert services.clock is SYSTEM_CLOCK
    assert isinstance(services.channels, SqlChannelDirectory)
    assert isinstance(services.tickets, Tickets)  # bot/tickets/service.py (issue 15, B6)
    client = await services.clients.for_team("T0001")
    assert client.token == "xoxb-test"
