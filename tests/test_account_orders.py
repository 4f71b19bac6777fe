"""Authorization by account in a Slack Connect channel (issue 15; docs/issue-15-plan.md §1.2,
§1.4, B5), over the real Bolt request path with the fake Slack, the fake model and the fake
HTTP order service: a customer of a confirmed account sees that account's orders only, the
order service is asked within the account, and a sender of no confirmed account is shown
nothing and the order service is not asked."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.agent import replies
from bot.orders import HttpOrders
from bot.store.accounts import NewAccount, add_account, link_channel
from bot.store.models import Escalation
from tests.conftest import TEAM_ID, Bot
from tests.fakes.events import shared_mention
from tests.fakes.models import Turn
from tests.fakes.orders import TOKEN, FakeOrderService, order
from tests.fakes.slack import FakeSlack
from tests.helpers import rows
from tests.test_escalation_flow import LEADS
from tests.test_lead_review import modal_error, submit_edit

ACME, GLOBEX = "acc-acme", "acc-globex"
# What of Globex's order must never reach an Acme user, the model or Acme's channel.
GLOBEX_DATA = ("gus@globex.com", "delivered", "TRK-GLOBEX", GLOBEX, "Globex", "2001")


@pytest.fixture
async def order_service() -> AsyncIterator[FakeOrderService]:
    service = await FakeOrderService().start()
    service.add(
        order("1042", "joe@acme.com", "out for delivery", tracking="TRK-1042", account_id=ACME)
    )
    service.add(order("1050", "ann@acme.com", "processing", account_id=ACME))
    service.add(
        order("2001", "gus@globex.com", "delivered", tracking="TRK-GLOBEX", account_id=GLOBEX)
    )
    yield service
    await service.close()


@pytest.fixture
async def bot(start_bot: Any, connect: FakeSlack, order_service: FakeOrderService) -> Bot:
    """Acme (acme.com, Slack team T0ACME) mapped by a lead to C0SHARED; Globex an account too."""
    bot: Bot = await start_bot(
        orders_backend="http", orders_api_url=order_service.base_url, orders_api_token=TOKEN
    )
    db = bot.services.db
    await add_account(db, NewAccount(TEAM_ID, "Acme", "gold", ("acme.com",), ("T0ACME",), ACME))
    await add_account(
        db, NewAccount(TEAM_ID, "Globex", "gold", ("globex.com",), ("T0GLOBEX",), GLOBEX)
    )
    await link_channel(db, TEAM_ID, "Acme", "C0SHARED", confirmed_by="ULEAD")
    return bot


async def ask(bot: Bot, text: str, user: str, team: str, channel: str = "C0SHARED") -> str:
    """A mention in a shared channel; the bot's one reply to it (in the mention's thread)."""
    mention = shared_mention(f"<@UBOT> {text}", user, channel, sender_team=team)
    before = len(bot.replies())
    assert await bot.event(body=mention) == 200
    await bot.settle()
    [reply] = bot.replies()[before:]
    assert reply["channel"] == channel and reply["thread_ts"] == mention["event"]["ts"]
    return str(reply["text"])


def seen_by_model(bot: Bot) -> str:
    """Everything the model was sent (tool results included), as one text."""
    return json.dumps(bot.anthropic.requests)


async def test_an_external_user_of_account_a_gets_account_a_order_with_their_email_hidden(
    bot: Bot, order_service: FakeOrderService
) -> None:
    text = await ask(bot, "where is order 1042?", "UACME1", "T0ACME")  # Joe hides his email
    assert "out for delivery" in text and "TRK-1042" in text
    assert order_service.queries == [{"account_id": ACME}]
    assert [r.path for r in order_service.requests] == ["/orders/1042"]


async def test_an_external_user_of_account_a_asking_for_account_b_order_is_denied_and_nothing_is_revealed(  # noqa: E501
    bot: Bot, order_service: FakeOrderService
) -> None:
    denied = await ask(bot, "where is order 2001?", "UACME1", "T0ACME")
    assert order_service.queries == [{"account_id": ACME}]
    for leaked in GLOBEX_DATA[:-1]:
        assert leaked not in denied and leaked not in seen_by_model(bot)
    unknown = await ask(bot, "where is order 9999?", "UACME1", "T0ACME")
    assert denied == unknown  # the unknown-order reply, word for word
    shared = " ".join(p["text"] for p in bot.slack.posts_in("C0SHARED"))
    for leaked in GLOBEX_DATA[:-1]:
        assert leaked not in shared


async def test_an_unmapped_shared_channel_gets_no_account_data(
    bot: Bot, connect: FakeSlack, order_service: FakeOrderService
) -> None:
    connect.add_channel("C0GLOBEX", "globex-support", [TEAM_ID, "T0GLOBEX"])
    text = await ask(bot, "where is order 2001?", "UGLOBEX", "T0GLOBEX", channel="C0GLOBEX")
    assert text == replies.NOT_LINKED_SHARED and "supportbot" not in text
    assert order_service.requests == []  # nothing was asked of the order service
    for leaked in GLOBEX_DATA[:-1]:
        assert leaked not in seen_by_model(bot)
    # The channel was recognised on first sight (conversations.info) and waits for a lead.
    view = await bot.services.channels.cached(TEAM_ID, "C0GLOBEX")
    assert view is not None and view.account is None


async def test_a_sender_of_a_third_org_in_a_mapped_channel_is_not_attributed(
    bot: Bot, connect: FakeSlack, order_service: FakeOrderService
) -> None:
    connect.add_channel("C0TRIO", "acme-and-friends", [TEAM_ID, "T0ACME", "T0GLOBEX"])
    await link_channel(bot.services.db, TEAM_ID, "Acme", "C0TRIO", confirmed_by="ULEAD")
    for number in ("1042", "2001"):  # Acme's order, and the sender's own organisation's
        text = await ask(bot, f"where is order {number}?", "UGLOBEX", "T0GLOBEX", "C0TRIO")
        assert text == replies.NOT_LINKED_SHARED
    assert order_service.requests == []
    for leaked in ("joe@acme.com", "out for delivery", "TRK-1042", ACME, *GLOBEX_DATA[:-1]):
        assert leaked not in seen_by_model(bot)
    # An Acme user in the same channel is attributed: the channel's mapping is Acme's.
    assert "out for delivery" in await ask(bot, "order 1042?", "UACME1", "T0ACME", "C0TRIO")


async def test_a_visible_email_outside_the_accounts_domains_is_ignored_and_inside_narrows(
    bot: Bot, connect: FakeSlack, order_service: FakeOrderService
) -> None:
    inside = await ask(bot, "show my orders", "UACME2", "T0ACME")  # ann@acme.com, visible
    assert "1050" in inside and "1042" not in inside
    connect.add_user("UACME3", "kim@gmail.com", "Kim", team_id="T0ACME")
    outside = await ask(bot, "show my orders", "UACME3", "T0ACME")
    assert "1050" in outside and "1042" in outside and "2001" not in outside
    assert order_service.queries == [
        {"account_id": ACME, "customer_email": "ann@acme.com"},
        {"account_id": ACME},  # kim@gmail.com is not an Acme address: not used
    ]
    assert "kim@gmail.com" not in seen_by_model(bot)


async def test_the_http_order_service_receives_the_account_scope(
    order_service: FakeOrderService,
) -> None:
    backend = HttpOrders(order_service.base_url, TOKEN)
    try:
        found = await backend.get("1042", account=ACME)
        assert found is not None and found.account_id == ACME
        assert await backend.get("2001", account=ACME) is None
        listed = await backend.list_for("ann@acme.com", account=ACME)
        assert [o.order_id for o in listed] == ["1050"]
        everyone = await backend.list_for(account=ACME)
        assert sorted(o.order_id for o in everyone) == ["1042", "1050"]
    finally:
        await backend.close()
    assert order_service.queries == [
        {"account_id": ACME},
        {"account_id": ACME},
        {"account_id": ACME, "customer_email": "ann@acme.com"},
        {"account_id": ACME},
    ]
    assert [r.path for r in order_service.requests[:2]] == ["/orders/1042", "/orders/2001"]


async def test_a_leads_answer_is_checked_against_the_accounts_orders_for_its_customer(
    start_bot: Any, connect: FakeSlack, order_service: FakeOrderService
) -> None:
    """The send check of a lead's answer sees the customer as the turn did: an Acme user
    whose email is hidden is checked against Acme's orders (asked within the account), so
    Acme's tracking number passes and Globex's is stopped."""
    order_service.add(order("1060", "joe@acme.com", tracking="1Z999AA10123456785", account_id=ACME))
    order_service.add(
        order("2060", "gus@globex.com", tracking="1Z999AA10123456799", account_id=GLOBEX)
    )
    bot = await start_bot(
        leads_channel=LEADS,
        orders_backend="http",
        orders_api_url=order_service.base_url,
        orders_api_token=TOKEN,
    )
    db = bot.services.db
    await add_account(db, NewAccount(TEAM_ID, "Acme", "gold", ("acme.com",), ("T0ACME",), ACME))
    await link_channel(db, TEAM_ID, "Acme", "C0SHARED", confirmed_by="ULEAD")
    bot.anthropic.script = [Turn(text="Wants a person.")]
    mention = shared_mention(
        "<@UBOT> can I talk to a person?", "UACME1", "C0SHARED", sender_team="T0ACME"
    )
    await bot.event(body=mention)
    await bot.settle()
    [esc] = await rows(bot, Escalation)
    error = modal_error((await submit_edit(bot, esc, "Tracking: 1Z999AA10123456799."))[1])
    assert "unverified_identifier" in error
    assert await submit_edit(bot, esc, "Your tracking number is 1Z999AA10123456785.") == (200, "")
    assert order_service.queries[-1] == {"account_id": ACME}
    assert "1Z999AA10123456785" in bot.slack.posts_in("C0SHARED")[-1]["text"]
