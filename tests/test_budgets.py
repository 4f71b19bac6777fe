"""Budgets from configuration, checked before every model call."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot.agent.pipeline import canary_for
from bot.agent.replies import CUSTOMER_BUDGET
from bot.slack_blocks import sends_draft_as_is
from bot.store import costs
from bot.store.models import BudgetNotice, Escalation, Message, MessageVerdict, ModelCall
from tests.conftest import Bot, dm, next_ts
from tests.fakes.models import final

LEADS = "CLEADS"
TINY = "0.000001"  # one call of any model costs more than this


async def rows(bot: Bot, table: Any) -> list[Any]:
    async with bot.services.db.session() as s:
        return list((await s.exec(select(table))).all())


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
