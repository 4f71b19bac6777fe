"""Budgets from configuration, checked before every model call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import select

from bot import costs
from bot.agent.budgets import BudgetExceeded, Budgets, Spend, usd
from bot.agent.prompts import canary_for
from bot.agent.replies import CUSTOMER_BUDGET
from bot.config import Settings
from bot.slack_blocks import sends_draft_as_is
from bot.store.db import Database
from bot.store.models import (
    BudgetNotice,
    Conversation,
    Escalation,
    Message,
    MessageVerdict,
    ModelCall,
    utcnow,
)
from tests.conftest import Bot, dm, next_ts
from tests.fakes.models import final
from tests.fakes.slack import TEAM_ID
from tests.helpers import rows

LEADS = "CLEADS"
TINY = "0.000001"  # one call of any model costs more than this


def alerts(bot: Bot) -> list[str]:
    return [
        p["text"] for p in bot.replies() if p["channel"] == LEADS and "was reached" in p["text"]
    ]


async def test_a_thread_over_budget_goes_to_a_person_and_leads_are_told_once(
    start_bot: Any,
) -> None:
    bot = await start_bot(leads_channel=LEADS, budget_thread_usd=TINY)
    root = dm("where is my order 1042?")
    await bot.event(root)
    await bot.settle()
    # The first call was allowed (nothing spent yet); the second was stopped by the budget.
    assert len(bot.anthropic.requests) == 1
    [esc] = await rows(bot, Escalation)
    assert esc.reasons == ["budget"]
    assert "spending limit" in esc.summary
    await bot.event(dm("hello?", ts=next_ts(), thread_ts=root["ts"]))
    await bot.settle()
    assert len(alerts(bot)) == 1 and "thread budget" in alerts(bot)[0]
    [notice] = await rows(bot, BudgetNotice)
    assert notice.budget == "thread"


async def test_a_customer_over_the_daily_budget_gets_a_polite_message(start_bot: Any) -> None:
    bot = await start_bot(leads_channel=LEADS, budget_customer_daily_usd=TINY)
    await bot.event(dm("where is my order 1042?"))
    await bot.settle()
    await bot.event(dm("and order 1043?"))
    await bot.settle()
    customer = [p["text"] for p in bot.replies() if p["channel"] != LEADS]
    assert customer == [CUSTOMER_BUDGET, CUSTOMER_BUDGET]
    assert len(bot.anthropic.requests) == 1  # the second message made no model call
    assert await rows(bot, Escalation) == []
    assert len(alerts(bot)) == 1 and "<@UALICE>" in alerts(bot)[0]
    # Another customer's spend is counted apart: his first call is made.
    await bot.event(dm("where is my order 2001?", user="UBOB"))
    await bot.settle()
    assert len(bot.anthropic.requests) == 2


async def test_no_other_customers_spend_counts_against_a_customer(start_bot: Any) -> None:
    # Bob (UBOB) spends first: Alice (UALICE, sorting before him) still gets her first call.
    bot = await start_bot(leads_channel=LEADS, budget_customer_daily_usd=TINY)
    await bot.event(dm("where is my order 2001?", user="UBOB"))
    await bot.settle()
    assert len(bot.anthropic.requests) == 1
    await bot.event(dm("where is my order 1042?"))
    await bot.settle()
    assert len(bot.anthropic.requests) == 2
    assert [p["text"] for p in bot.replies() if p["channel"] != LEADS] == [CUSTOMER_BUDGET] * 2


async def test_a_workspace_over_its_daily_budget_stops_using_the_strong_tier(
    start_bot: Any,
) -> None:
    bot = await start_bot(leads_channel=LEADS, budget_workspace_daily_usd=TINY)
    bot.anthropic.script = [final("Maybe shipped?", 0.2)]
    await bot.event(dm("where is my order 1042?"))
    await bot.settle()
    assert {r["model"] for r in bot.anthropic.requests} == {"claude-haiku-4-5"}
    [esc] = await rows(bot, Escalation)
    assert esc.reasons == ["low_confidence", "budget"] and esc.draft == "Maybe shipped?"
    assert len(alerts(bot)) == 1 and "workspace budget" in alerts(bot)[0]
    # Confident primary answers still go out.
    await bot.event(dm("where is my order 1043?"))
    await bot.settle()
    assert "processing" in bot.replies()[-1]["text"]


async def test_negotiated_prices_are_used_for_recorded_costs(start_bot: Any) -> None:
    from decimal import Decimal

    from bot.store.models import ModelCall

    bot = await start_bot(
        price_overrides={
            "anthropic:claude-haiku-4-5": {
                "input_mtok": "2",
                "output_mtok": "10",
                "cache_read_mtok": "0",
                "cache_write_mtok": "0",
            }
        }
    )
    bot.anthropic.script = [
        final("Hello!", 0.95),
    ]
    bot.anthropic.script[0].input_tokens = 1_000
    bot.anthropic.script[0].cache_read = 0
    bot.anthropic.script[0].cache_write = 0
    bot.anthropic.script[0].output_tokens = 100
    await bot.event(dm("hi there"))
    await bot.settle()
    [call] = await rows(bot, ModelCall)
    # 1,000 input x $2/M + 100 output x $10/M = $0.002 + $0.001
    assert call.cost_usd == Decimal("0.003")


async def channel_thread(bot: Bot, user: str, text: str, root: str | None = None) -> str:
    """A mention that starts a channel thread, or a reply in one; its ts."""
    ts = next_ts()
    event: dict[str, Any] = {"channel": "C0001", "user": user, "ts": ts}
    if root is None:
        event |= {"type": "app_mention", "text": f"<@UBOT> {text}"}
    else:
        event |= {"type": "message", "channel_type": "channel", "text": text, "thread_ts": root}
    await bot.event(event)
    await bot.settle()
    return ts


async def test_each_sender_of_a_shared_thread_pays_for_their_own_messages(
    start_bot: Any,
) -> None:
    bot = await start_bot(leads_channel=LEADS, budget_customer_daily_usd=TINY)
    root = await channel_thread(bot, "UALICE", "where is my order 1042?")
    assert len(bot.anthropic.requests) == 1  # then Alice was over her budget
    # Bob asks in Alice's thread: his budget is his own, so his first call is made.
    await channel_thread(bot, "UBOB", "where is my order 2001?", root)
    assert len(bot.anthropic.requests) == 2
    await channel_thread(bot, "UALICE", "and order 1043?", root)
    assert len(bot.anthropic.requests) == 2
    assert sorted(a.split("<@")[1].split(">")[0] for a in alerts(bot)) == ["UALICE", "UBOB"]

    [alice_call, bob_call] = await rows(bot, ModelCall)
    assert (alice_call.user_id, bob_call.user_id) == ("UALICE", "UBOB")
    # /costs @user charges the same way.
    for user, call in (("UALICE", alice_call), ("UBOB", bob_call)):
        spend = await costs.customer_spend(bot.services.db, user)
        assert (spend.calls, spend.total_usd) == (1, costs.usd(call.cost_usd))
        assert [(t.user_id, t.calls) for t in spend.top_threads] == [(user, 1)]


async def test_a_budget_stopping_the_strong_tier_keeps_what_the_checks_found_for_the_lead(
    start_bot: Any,
) -> None:
    # The primary answer leaked the canary; the workspace budget then stops the strong tier.
    bot = await start_bot(
        leads_channel=LEADS, lead_users=["ULEAD"], budget_workspace_daily_usd=TINY
    )
    canary = canary_for(bot.services.settings)
    bot.anthropic.script = [final(f"Sure! My reference is {canary}.", 0.99)]
    await bot.event(dm("hello there"))
    await bot.settle()
    [esc] = await rows(bot, Escalation)
    assert "output_leak" in esc.reasons and "budget" in esc.reasons
    assert any(f["rule"] == "canary_leak" for f in esc.findings)
    assert not sends_draft_as_is(esc)  # no Send draft for a draft that leaked
    [asked] = [m for m in await rows(bot, Message) if m.role == "user"]
    assert asked.verdict == MessageVerdict.FLAGGED  # never replayed to a model


# The limits checked directly, against a real database (SQLite, or PostgreSQL with
# TEST_DATABASE_URL): the boundaries, the day, and the leads' alert to the character.
LIMIT = Decimal("0.05")


class Leads:
    def __init__(self, fail: bool = False) -> None:
        self.told: list[str] = []
        self.teams: list[str] = []  # whose leads were told
        self.fail = fail

    async def __call__(self, team_id: str, text: str) -> None:
        self.teams.append(team_id)
        self.told.append(text)
        if self.fail:
            raise RuntimeError("Slack is down")


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.upgrade()
    yield database
    await database.close()


def budgets(db: Database, leads: Leads, **limits: Decimal) -> Budgets:
    return Budgets(Settings.model_construct(**limits), db, leads)


async def thread(
    db: Database, spent: Decimal = Decimal(0), user: str = "UALICE", team: str = TEAM_ID
) -> Conversation:
    async with db.session() as s:
        conversation = Conversation(
            team_id=team,
            channel_id="D1",
            thread_ts=next_ts(),
            user_id=user,
            total_cost_usd=spent,
        )
        s.add(conversation)
        await s.commit()
        return conversation


async def charge(
    db: Database, conversation: Conversation, user: str, cost: Decimal, at: datetime | None = None
) -> None:
    async with db.session() as s:
        assert conversation.id is not None
        s.add(
            ModelCall(
                conversation_id=conversation.id,
                team_id=conversation.team_id,
                user_id=user,
                provider="anthropic",
                model="m",
                tier="primary",
                cost_usd=cost,
                created_at=at or utcnow(),
            )
        )
        await s.commit()


async def test_nothing_spent_yet_is_zero_and_a_spend_exactly_at_a_limit_stops(db: Database) -> None:
    leads = Leads()
    b = budgets(db, leads, budget_thread_usd=LIMIT)
    fresh = await thread(db)
    at_the_limit = await thread(db, LIMIT)  # a later thread: its spend is not this one's
    assert await b.spend(fresh, "UALICE") == Spend(Decimal(0), Decimal(0), Decimal(0))
    await b.check(fresh, "UALICE")  # nothing spent: allowed
    with pytest.raises(BudgetExceeded) as stopped:
        await b.check(at_the_limit, "UALICE")
    assert stopped.value.budget == "thread"
    assert str(stopped.value) == "thread budget reached: $0.0500 of $0.0500"


async def test_a_customers_day_counts_today_only_and_stops_at_the_limit(db: Database) -> None:
    leads = Leads()
    b = budgets(db, leads, budget_customer_daily_usd=LIMIT)
    conversation = await thread(db)
    yesterday = utcnow() - timedelta(days=1)
    await charge(db, conversation, "UALICE", Decimal(1), at=yesterday)
    await charge(db, conversation, "UALICE", LIMIT - Decimal("0.000001"))
    spend = await b.spend(conversation, "UALICE")
    assert spend.customer_today == spend.workspace_today == LIMIT - Decimal("0.000001")
    await b.check(conversation, "UALICE")  # a millionth of a dollar below: allowed
    await charge(db, conversation, "UALICE", Decimal("0.000001"))
    with pytest.raises(BudgetExceeded):
        await b.check(conversation, "UALICE")
    assert leads.told == [
        ":money_with_wings: The customer budget was reached for customer <@UALICE>: "
        "$0.05 spent of $0.05 today."
    ]


async def test_the_workspace_limit_stops_only_the_strong_tier(db: Database) -> None:
    leads = Leads()
    b = budgets(db, leads, budget_workspace_daily_usd=LIMIT)
    conversation = await thread(db)
    await charge(db, conversation, "UBOB", Decimal("0.0123456"))  # another customer's
    await charge(db, conversation, "UBOB", LIMIT)
    await b.check(conversation, "UALICE")  # the primary tier goes on
    with pytest.raises(BudgetExceeded):
        await b.check(conversation, "UALICE", strong=True)
    assert leads.told == [
        ":money_with_wings: The workspace budget was reached for the workspace: "
        "$0.06 spent of $0.05 today."
    ]


async def test_the_workspace_budget_counts_only_its_own_spend_and_tells_its_own_leads(
    db: Database,
) -> None:
    leads = Leads()
    b = budgets(db, leads, budget_workspace_daily_usd=LIMIT)
    ours, theirs = await thread(db), await thread(db, user="UBOB", team="T0002")
    await charge(db, theirs, "UBOB", LIMIT)  # the other workspace reached its limit
    await b.check(ours, "UALICE", strong=True)  # this one did not
    for _ in range(2):
        with pytest.raises(BudgetExceeded):
            await b.check(theirs, "UBOB", strong=True)
    await charge(db, ours, "UALICE", LIMIT)
    with pytest.raises(BudgetExceeded):
        await b.check(ours, "UALICE", strong=True)
    assert leads.teams == ["T0002", TEAM_ID]  # each workspace's leads, told once


async def test_the_thread_alert_names_the_thread_and_a_failing_alert_still_stops(
    db: Database,
) -> None:
    leads = Leads(fail=True)
    b = budgets(db, leads, budget_thread_usd=Decimal("1234.5"))
    conversation = await thread(db, Decimal("1234.5"))
    with pytest.raises(BudgetExceeded):  # the budget's refusal, not the alert's error
        await b.check(conversation, "UALICE")
    assert leads.told == [
        f":money_with_wings: The thread budget was reached for thread "
        f"D1/{conversation.thread_ts}: $1,234.50 spent of $1,234.50."
    ]


async def test_a_notice_scope_is_cut_to_its_column(db: Database) -> None:
    b = budgets(db, Leads(), budget_customer_daily_usd=Decimal(0))
    user = "U" + "X" * 99
    with pytest.raises(BudgetExceeded):
        await b.check(await thread(db), user)
    async with db.session() as s:
        [notice] = (await s.exec(select(BudgetNotice))).all()
    assert notice.scope == user[:64]


@pytest.mark.parametrize(
    ("amount", "shown"),
    [("0", "$0.00"), ("0.01", "$0.01"), ("1234.567", "$1,234.57"), ("0.0012345", "$0.001234")],
)
def test_dollars_are_shown_with_cents_or_the_fraction_of_a_cent(amount: str, shown: str) -> None:
    assert usd(Decimal(amount)) == shown
