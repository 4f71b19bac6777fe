"""Costs: prices with overrides, the period report (savings, p95, rates, projection, top
threads), one thread, one customer, `/costs` through /slack/events, the chart upload, the CLI.

Prices used below (USD per million tokens, as genai-prices has them):

    claude-haiku-4-5   input 1.00  cache read 0.10  cache write 1.25  output  5.00
    claude-sonnet-4-5  input 3.00  cache read 0.30  cache write 3.75  output 15.00
                       (above 200k input tokens in one call: 6.00 / 0.60 / 7.50 / 22.50)
    gpt-4o-mini        input 0.15  cached     0.075                   output  0.60

Every figure asserted here was worked out by hand in the comments next to it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import select

from bot import costs
from bot.cli import main
from bot.costs import request
from bot.costs.periods import PeriodError, period_window
from bot.errors import UsageError
from bot.listeners import commands
from bot.slack_links import parse_thread_link
from bot.store import pricing
from bot.store.db import Database
from bot.store.models import Conversation, Escalation, Message, ModelCall
from bot.store.pricing import call_cost
from tests.conftest import Bot
from tests.fakes.slack import TEAM_ID

D = Decimal
HAIKU = ("anthropic", "claude-haiku-4-5")
SONNET = ("anthropic", "claude-sonnet-4-5")
MINI = ("openai", "gpt-4o-mini")
LLAMA = ("openai", "llama3.1")  # self-hosted: no known price
STRONG = "anthropic:claude-sonnet-4-5"
# A Friday in February 2026 (28 days), so `7d` covers 13 Feb 12:00 to 20 Feb 12:00.
NOW = datetime(2026, 2, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pricing, "_warned", set())


def cost(provider_model: tuple[str, str], **tokens: int) -> Decimal | None:
    return call_cost(*provider_model, **_usage(**tokens))


def _usage(
    input_tokens: int = 0, cached: int = 0, write: int = 0, output: int = 0
) -> dict[str, int]:
    return {
        "input_tokens": input_tokens,
        "cached_input_tokens": cached,
        "cache_write_tokens": write,
        "output_tokens": output,
    }


# ---------------------------------------------------------------------------------------------
# Prices: each provider, each cache case, overrides


def test_anthropic_uncached_input_and_output() -> None:
    # Sonnet: 10,000 input x $3/M = $0.03; 1,000 output x $15/M = $0.015; total $0.045.
    assert cost(SONNET, input_tokens=10_000, output=1_000) == D("0.045")


def test_anthropic_cache_read() -> None:
    # Haiku: 10,000 input of which 8,000 read from cache: 2,000 x $1/M = $0.002,
    # 8,000 x $0.10/M = $0.0008, 200 output x $5/M = $0.001; total $0.0038.
    assert cost(HAIKU, input_tokens=10_000, cached=8_000, output=200) == D("0.0038")


def test_anthropic_cache_write() -> None:
    # Haiku: 5,000 input of which 4,000 written to the cache: 1,000 x $1/M = $0.001,
    # 4,000 x $1.25/M = $0.005, 100 output x $5/M = $0.0005; total $0.0065.
    assert cost(HAIKU, input_tokens=5_000, write=4_000, output=100) == D("0.0065")


def test_anthropic_cache_read_and_write_in_one_call() -> None:
    # Sonnet: 6,000 input = 1,000 uncached + 4,000 read + 1,000 written:
    # 1,000 x $3/M = $0.003, 4,000 x $0.30/M = $0.0012, 1,000 x $3.75/M = $0.00375,
    # 300 output x $15/M = $0.0045; total $0.01245.
    assert cost(SONNET, input_tokens=6_000, cached=4_000, write=1_000, output=300) == D("0.01245")


def test_anthropic_output_only() -> None:
    # 1,000 output x $15/M = $0.015.
    assert cost(SONNET, output=1_000) == D("0.015")


def test_openai_prompt_with_cached_tokens() -> None:
    # gpt-4o-mini: prompt 2,500 of which 2,048 cached: 452 x $0.15/M = $0.0000678,
    # 2,048 x $0.075/M = $0.0001536, 37 completion x $0.60/M = $0.0000222; total $0.0002436.
    assert cost(MINI, input_tokens=2_500, cached=2_048, output=37) == D("0.0002436")


def test_openai_prompt_without_cache() -> None:
    # 10,000 x $0.15/M = $0.0015; 1,000 x $0.60/M = $0.0006; total $0.0021.
    assert cost(MINI, input_tokens=10_000, output=1_000) == D("0.0021")


def test_an_override_replaces_only_the_keys_it_names() -> None:
    overrides = {"anthropic:claude-haiku-4-5": {"input_mtok": D("0.80")}}
    # 10,000 input of which 8,000 cached: 2,000 x $0.80/M = $0.0016 (negotiated),
    # 8,000 x $0.10/M = $0.0008 and 200 x $5/M = $0.001 (list); total $0.0034.
    usage = _usage(input_tokens=10_000, cached=8_000, output=200)
    assert call_cost(*HAIKU, **usage, overrides=overrides) == D("0.0034")
    # Other models keep their list price.
    assert call_cost(*SONNET, **_usage(output=1_000), overrides=overrides) == D("0.015")


def test_an_override_of_every_key() -> None:
    overrides = {
        "openai:gpt-4o-mini": {
            "input_mtok": D("0.10"),
            "cache_read_mtok": D("0.05"),
            "output_mtok": D("0.40"),
            "cache_write_mtok": D("0.20"),
        }
    }
    # 452 x $0.10/M = $0.0000452; 2,048 x $0.05/M = $0.0001024; 37 x $0.40/M = $0.0000148;
    # total $0.0001624.
    usage = _usage(input_tokens=2_500, cached=2_048, output=37)
    assert call_cost(*MINI, **usage, overrides=overrides) == D("0.0001624")


def test_an_unknown_model_is_priced_by_its_override_alone() -> None:
    overrides = {"openai:llama3.1": {"input_mtok": D("0.20"), "output_mtok": D("0.50")}}
    # No cache price: cached tokens are plain input. 1,000 x $0.20/M = $0.0002;
    # 100 x $0.50/M = $0.00005; total $0.00025.
    usage = _usage(input_tokens=1_000, cached=400, output=100)
    assert call_cost(*LLAMA, **usage, overrides=overrides) == D("0.00025")


def test_an_unknown_model_without_override_is_none_and_warned_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.store.pricing")
    results = [cost(LLAMA, input_tokens=1_000, output=10) for _ in range(3)]
    # An incomplete override cannot price an unknown model either (same single warning).
    overrides = {"openai:llama3.1": {"input_mtok": D("0.2")}}
    usage = _usage(input_tokens=1, output=1)
    results.append(call_cost(*LLAMA, **usage, overrides=overrides))
    assert results == [None] * 4
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "openai:llama3.1" in warnings[0]


def test_a_long_prompt_on_sonnet_uses_the_higher_tier() -> None:
    # 250,000 input > 200k: the whole call at $6/M = $1.50.
    assert cost(SONNET, input_tokens=250_000) == D("1.5")


# ---------------------------------------------------------------------------------------------
# Periods and links


def test_periods_are_utc_windows_ending_now() -> None:
    assert period_window("today", NOW) == (datetime(2026, 2, 20, tzinfo=UTC), NOW)
    assert period_window("week", NOW) == (datetime(2026, 2, 16, tzinfo=UTC), NOW)  # Monday
    assert period_window("month", NOW) == (datetime(2026, 2, 1, tzinfo=UTC), NOW)
    assert period_window("7d", NOW) == (NOW - timedelta(days=7), NOW)
    assert period_window("30D", NOW) == (NOW - timedelta(days=30), NOW)
    with pytest.raises(PeriodError, match="today, week, month, 7d, 30d"):
        period_window("yesterday", NOW)


def test_thread_links() -> None:
    assert parse_thread_link("https://acme.slack.com/archives/C123/p1700000000123456") == (
        "C123",
        "1700000000.123456",
    )
    reply = "https://acme.slack.com/archives/C123/p1700000099000200?thread_ts=1700000000.123456&cid=C123"
    assert parse_thread_link(reply) == ("C123", "1700000000.123456")
    assert parse_thread_link(f"<{reply}>") == ("C123", "1700000000.123456")
    assert parse_thread_link("<https://acme.slack.com/archives/D1/p1700000000000001|msg>") == (
        "D1",
        "1700000000.000001",
    )
    assert parse_thread_link("https://example.com/archives/C1/p1700000000000001") is None
    assert parse_thread_link("https://acme.slack.com/archives/C1/p17") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", request.CostsRequest("report", "today")),
        ("  week ", request.CostsRequest("report", "week")),
        ("30D", request.CostsRequest("report", "30d")),
        ("chart", request.CostsRequest("chart", "7d")),
        ("chart month", request.CostsRequest("chart", "month")),
        ("<@U0ALICE>", request.CostsRequest("customer", "today", user_id="U0ALICE")),
        ("<@U0ALICE|alice> 7d", request.CostsRequest("customer", "7d", user_id="U0ALICE")),
        (
            "<https://acme.slack.com/archives/C9/p1700000000123456>",
            request.CostsRequest("thread", channel_id="C9", thread_ts="1700000000.123456"),
        ),
    ],
)
def test_costs_arguments(text: str, expected: request.CostsRequest) -> None:
    assert request.parse_args(text) == expected


@pytest.mark.parametrize(
    "text", ["yesterday", "chart forever", "7d week", "@alice", "https://x.slack.com/archives/C1"]
)
def test_bad_costs_arguments_are_refused(text: str) -> None:
    with pytest.raises(UsageError):
        request.parse_args(text)


# ---------------------------------------------------------------------------------------------
# Seeding


@dataclass
class Seeder:
    db: Database
    counter: int = 0

    async def conversation(self, user: str = "UALICE", channel: str = "D0001") -> Conversation:
        self.counter += 1
        async with self.db.session() as s:
            conv = Conversation(
                team_id=TEAM_ID,
                channel_id=channel,
                thread_ts=f"1771000000.{self.counter:06d}",
                user_id=user,
            )
            s.add(conv)
            await s.commit()
            await s.refresh(conv)
            return conv

    async def message(self, conv: Conversation, user: str | None = None) -> Message:
        """A customer message in the thread, by its starter unless `user` says who."""
        self.counter += 1
        async with self.db.session() as s:
            msg = Message(
                conversation_id=conv.id or 0,
                role="user",
                user_id=user or conv.user_id,
                text="where is my order?",
                channel_id=conv.channel_id,
                slack_ts=f"1771000000.{self.counter:06d}",
                status="answered",
            )
            s.add(msg)
            await s.commit()
            await s.refresh(msg)
            return msg

    async def call(
        self,
        msg: Message,
        provider_model: tuple[str, str],
        at: datetime,
        cost_usd: str | None,
        tier: str = "primary",
        reasons: str = "",
        **tokens: int,
    ) -> None:
        usage = _usage(**tokens)
        # The seeded cost is the hand-checked figure; it must be what call_cost says.
        priced = call_cost(*provider_model, **usage)
        assert priced == (D(cost_usd) if cost_usd is not None else None), (tokens, priced)
        async with self.db.session() as s:
            s.add(
                ModelCall(
                    conversation_id=msg.conversation_id,
                    team_id=TEAM_ID,  # the conversation's, as the pipeline records it
                    message_id=msg.id,
                    user_id=msg.user_id,  # as the pipeline records it: the sender pays
                    provider=provider_model[0],
                    model=provider_model[1],
                    tier=tier,
                    cost_usd=priced,
                    reasons=reasons,
                    created_at=at,
                    **usage,
                )
            )
            await s.commit()

    async def escalation(self, conv: Conversation, msg: Message, at: datetime) -> None:
        async with self.db.session() as s:
            s.add(
                Escalation(
                    conversation_id=conv.id or 0,
                    team_id=conv.team_id,
                    message_id=msg.id or 0,
                    reasons=["low_confidence", "strong_not_enough"],
                    created_at=at,
                )
            )
            await s.commit()


@dataclass
class World:
    c1: Conversation
    c2: Conversation
    c3: Conversation
    cheap: list[Conversation]


async def seed_world(db: Database, now: datetime) -> World:
    """Twenty conversations in the last 7 days, plus one call 10 days ago.

    C1 (Alice) one message, primary only, two Haiku calls with cache reads:
       $0.0038 + $0.0035 = $0.0073
    C2 (Bob) one message: Haiku wrote the cache ($0.0065), was unsure; Sonnet twice
       ($0.0117 + $0.0132 = $0.0249); then handed to a person. Total $0.0314.
    C3 (Alice) gpt-4o-mini with cached prompt ($0.0002436), and a self-hosted llama call of
       unknown cost in a second message.
    C4 (Carol) one Haiku call ten days ago, $1.00: outside `7d`.
    C5 (Dan) an injection handed straight to a person: no model call at all.
    C6..C21 (Carol) sixteen conversations of one Haiku call each: 1,000 input = $0.001.
    """
    seed = Seeder(db)
    t = now - timedelta(days=1)

    c1 = await seed.conversation("UALICE")
    m1 = await seed.message(c1)
    # 2,000 x $1/M + 8,000 x $0.1/M + 200 x $5/M = 0.002 + 0.0008 + 0.001 = $0.0038
    await seed.call(m1, HAIKU, t, "0.0038", input_tokens=10_000, cached=8_000, output=200)
    # 2,000 x $1/M + 10,000 x $0.1/M + 100 x $5/M = 0.002 + 0.001 + 0.0005 = $0.0035
    await seed.call(m1, HAIKU, t, "0.0035", input_tokens=12_000, cached=10_000, output=100)

    c2 = await seed.conversation("UBOB", channel="C0SUPPORT")
    m2 = await seed.message(c2)
    # 1,000 x $1/M + 4,000 x $1.25/M + 100 x $5/M = 0.001 + 0.005 + 0.0005 = $0.0065
    await seed.call(m2, HAIKU, t, "0.0065", input_tokens=5_000, write=4_000, output=100)
    # 2,000 x $3/M + 4,000 x $0.3/M + 300 x $15/M = 0.006 + 0.0012 + 0.0045 = $0.0117
    await seed.call(
        m2,
        SONNET,
        t,
        "0.0117",
        "strong",
        "low_confidence",
        input_tokens=6_000,
        cached=4_000,
        output=300,
    )
    # 3,000 x $3/M + 4,000 x $0.3/M + 200 x $15/M = 0.009 + 0.0012 + 0.003 = $0.0132
    await seed.call(
        m2,
        SONNET,
        t,
        "0.0132",
        "strong",
        "low_confidence",
        input_tokens=7_000,
        cached=4_000,
        output=200,
    )
    await seed.escalation(c2, m2, t)

    c3 = await seed.conversation("UALICE")
    m3 = await seed.message(c3)
    await seed.call(m3, MINI, t, "0.0002436", input_tokens=2_500, cached=2_048, output=37)
    m4 = await seed.message(c3)
    await seed.call(m4, LLAMA, t, None, input_tokens=1_000, output=50)

    c4 = await seed.conversation("UCAROL")
    m5 = await seed.message(c4)
    await seed.call(m5, HAIKU, now - timedelta(days=10), "1", input_tokens=1_000_000)

    c5 = await seed.conversation("UDAN")
    await seed.escalation(c5, await seed.message(c5), t)

    cheap = []
    for _ in range(16):
        conv = await seed.conversation("UCAROL")
        await seed.call(await seed.message(conv), HAIKU, t, "0.001", input_tokens=1_000)
        cheap.append(conv)
    return World(c1, c2, c3, cheap)


@pytest.fixture
async def db(database_url: str) -> Any:
    database = Database(database_url)
    await database.upgrade()
    yield database
    await database.close()


# ---------------------------------------------------------------------------------------------
# The report


async def test_the_7d_report_figures(db: Database) -> None:
    world = await seed_world(db, NOW)
    r = await costs.report(db, "7d", strong_model=STRONG, now=NOW)

    # Spend: C1 0.0073 + C2 0.0314 + C3 0.0002436 + 16 x 0.001 = $0.0549436 (C4 is outside,
    # the llama call has no price).
    assert r.total_usd == D("0.0549436")
    assert (r.calls, r.unknown_cost_calls) == (2 + 3 + 2 + 16, 1)
    assert [(m.model, m.calls, m.unknown_cost_calls, m.cost_usd) for m in r.by_model] == [
        ("claude-haiku-4-5", 19, 0, D("0.0298")),  # 0.0073 + 0.0065 + 0.016
        ("claude-sonnet-4-5", 2, 0, D("0.0249")),
        ("gpt-4o-mini", 1, 0, D("0.0002436")),
        ("llama3.1", 1, 1, D("0")),
    ]
    assert [(t.tier, t.calls, t.cost_usd) for t in r.by_tier] == [
        ("primary", 21, D("0.0300436")),  # 0.0073 + 0.0065 + 0.0002436 + 0.016
        ("strong", 2, D("0.0249")),
    ]
    assert r.input_tokens == 10_000 + 12_000 + 5_000 + 6_000 + 7_000 + 2_500 + 1_000 + 16_000
    assert r.cached_input_tokens == 8_000 + 10_000 + 4_000 + 4_000 + 2_048

    # Conversations: C1, C2, C3, C5 (a person, no model) and the 16 cheap ones = 20.
    assert r.conversations == 20
    # Mean: 0.0549436 / 20 = 0.00274718.
    assert r.cost_per_conversation_mean_usd == D("0.00274718")
    # p95 by nearest rank: rank ceil(0.95 x 20) = 19 of [0, 0.0002436, 16 x 0.001, 0.0073,
    # 0.0314], i.e. C1's 0.0073 (not the maximum).
    assert r.cost_per_conversation_p95_usd == D("0.0073")
    # Strong tier: C2 only, 1/20; a person: C2 and C5, 2/20.
    assert (r.conversations_with_strong, r.strong_escalation_rate) == (1, 0.05)
    assert (r.conversations_with_human, r.human_escalation_rate) == (2, 0.1)

    # Savings, re-pricing each primary-only message's recorded tokens at Sonnet's prices:
    #   M1: uncached 2,000 + 2,000 = 4,000 x $3/M = 0.012; cached 18,000 x $0.3/M = 0.0054;
    #       output 300 x $15/M = 0.0045                                     -> 0.0219
    #   M2: needed the strong tier: its strong calls, 0.0117 + 0.0132      -> 0.0249
    #   M3: uncached 452 x $3/M = 0.001356; cached 2,048 x $0.3/M = 0.0006144;
    #       output 37 x $15/M = 0.000555                                   -> 0.0025254
    #   16 cheap: 1,000 x $3/M = 0.003 each                                -> 0.048
    #   M4 (unknown cost) is left out of both sides.
    #   always-strong = 0.0219 + 0.0249 + 0.0025254 + 0.048 = 0.0973254
    #   saved = 0.0973254 - 0.0549436 = 0.0423818 (43.55%)
    s = r.savings
    assert s.always_strong_usd == D("0.0973254")
    assert s.actual_usd == D("0.0549436")
    assert s.saved_usd == D("0.0423818")
    assert s.saved_share == 0.4355  # 0.0423818 / 0.0973254 = 0.43547
    # Compared: the 22 priced calls; re-priced: M1's 2, M3's 1 and the 16 cheap ones.
    assert (s.compared_calls, s.repriced_calls, s.strong_calls) == (22, 19, 2)

    # Projection: 0.0549436 over 7 days = 0.0078490857/day; February has 28 days:
    # 0.0549436 x 28 / 7 = 0.2197744.
    assert r.daily_rate_usd == D("0.0078490857")
    assert r.projected_month_usd == D("0.2197744")

    # Top threads: C2, C1, then three of the $0.001 ones (ties by age); C3 ($0.0002436) is not.
    assert [(t.conversation_id, t.cost_usd, t.calls) for t in r.top_threads] == [
        (world.c2.id, D("0.0314"), 3),
        (world.c1.id, D("0.0073"), 2),
        *((c.id, D("0.001"), 1) for c in world.cheap[:3]),
    ]
    top = r.top_threads[0]
    assert (top.channel_id, top.user_id) == ("C0SUPPORT", "UBOB")
    assert (
        top.link == f"https://slack.com/archives/C0SUPPORT/p{world.c2.thread_ts.replace('.', '')}"
    )

    # JSON: Decimal costs are strings.
    data = json.loads(r.to_json())
    assert data["total_usd"] == "0.0549436"
    assert data["savings"]["saved_usd"] == "0.0423818"
    assert data["by_tier"][0] == {
        "tier": "primary",
        "calls": 21,
        "unknown_cost_calls": 1,
        "cost_usd": "0.0300436",
    }


async def test_savings_use_the_strong_models_negotiated_price(db: Database) -> None:
    await seed_world(db, NOW)
    overrides = {STRONG: {"input_mtok": D("1.5")}}
    s = (await costs.report(db, "7d", strong_model=STRONG, overrides=overrides, now=NOW)).savings
    # Uncached input re-priced at $1.5/M instead of $3/M:
    #   M1 0.006 + 0.0054 + 0.0045 = 0.0159; M3 0.000678 + 0.0006144 + 0.000555 = 0.0018474;
    #   cheap 16 x 0.0015 = 0.024; M2 stays what its strong calls cost, 0.0249.
    #   always-strong = 0.0666474; saved = 0.0666474 - 0.0549436 = 0.0117038.
    assert s.always_strong_usd == D("0.0666474")
    assert s.saved_usd == D("0.0117038")


async def test_savings_price_each_call_in_its_own_sonnet_tier(db: Database) -> None:
    seed = Seeder(db)
    conv = await seed.conversation()
    msg = await seed.message(conv)
    t = NOW - timedelta(hours=1)
    # Haiku has no long-context tier: 250,000 x $1/M = $0.25 and 1,000 x $1/M = $0.001.
    await seed.call(msg, HAIKU, t, "0.25", input_tokens=250_000)
    await seed.call(msg, HAIKU, t, "0.001", input_tokens=1_000)
    s = (await costs.report(db, "today", strong_model=STRONG, now=NOW)).savings
    # On Sonnet the long call crosses 200k: 250,000 x $6/M = 1.5; the short one
    # 1,000 x $3/M = 0.003. Always-strong 1.503; saved 1.503 - 0.251 = 1.252.
    assert s.always_strong_usd == D("1.503")
    assert s.saved_usd == D("1.252")


async def test_an_unknown_strong_price_gives_no_savings_figure(db: Database) -> None:
    await seed_world(db, NOW)
    r = await costs.report(db, "7d", strong_model="openai:llama3.1", now=NOW)
    assert r.total_usd == D("0.0549436")
    assert r.savings.always_strong_usd is None and r.savings.saved_usd is None


async def test_an_empty_period(db: Database) -> None:
    await seed_world(db, NOW)
    r = await costs.report(db, "today", strong_model=STRONG, now=NOW)
    assert (r.total_usd, r.calls, r.conversations, r.top_threads) == (D(0), 0, 0, [])
    assert r.cost_per_conversation_p95_usd == 0 and r.strong_escalation_rate == 0.0
    assert r.savings.saved_usd == 0


async def test_the_month_and_30d_windows_include_the_older_call(db: Database) -> None:
    await seed_world(db, NOW)
    month = await costs.report(db, "month", strong_model=STRONG, now=NOW)
    assert month.total_usd == D("1.0549436")  # C4's $1 on 10 February is this month
    # Month so far: 19.5 days (1 Feb 00:00 to 20 Feb 12:00). 1.0549436 x 28 = 29.5384208;
    # / 19.5 = 1.51479081025...
    assert month.projected_month_usd == D("1.5147908103")


async def test_thread_detail_lists_every_call_and_why(db: Database) -> None:
    world = await seed_world(db, NOW)
    detail = await costs.thread_detail(db, "C0SUPPORT", world.c2.thread_ts)
    assert detail is not None
    assert detail.total_usd == D("0.0314")
    assert [(c.tier, c.model, c.cost_usd, c.reasons) for c in detail.calls] == [
        ("primary", "claude-haiku-4-5", D("0.0065"), ""),
        ("strong", "claude-sonnet-4-5", D("0.0117"), "low_confidence"),
        ("strong", "claude-sonnet-4-5", D("0.0132"), "low_confidence"),
    ]
    assert detail.calls[1].cached_input_tokens == 4_000
    assert detail.escalations[0].reasons == ["low_confidence", "strong_not_enough"]
    # Unknown costs stay unknown.
    c3 = await costs.thread_detail(db, "D0001", world.c3.thread_ts)
    assert c3 is not None and c3.calls[1].cost_usd is None and c3.unknown_cost_calls == 1
    assert json.loads(c3.to_json())["calls"][1]["cost_usd"] is None
    assert await costs.thread_detail(db, "D0001", "1.000000") is None
    # A link to a reply (no thread_ts in it) finds the thread through the message.
    async with db.session() as s:
        reply = (await s.exec(select(Message).where(Message.conversation_id == world.c2.id))).one()
    by_reply = await costs.thread_detail(db, "C0SUPPORT", reply.slack_ts or "")
    assert by_reply is not None and by_reply.conversation_id == world.c2.id


async def test_customer_spend(db: Database) -> None:
    await seed_world(db, NOW)
    alice = await costs.customer_spend(db, "UALICE", "7d", now=NOW)
    # C1 0.0073 + C3 0.0002436 (+ the unpriced llama call) = 0.0075436.
    assert alice.total_usd == D("0.0075436")
    assert (alice.calls, alice.unknown_cost_calls, alice.conversations) == (4, 1, 2)
    assert [t.cost_usd for t in alice.top_threads] == [D("0.0073"), D("0.0002436")]
    carol = await costs.customer_spend(db, "UCAROL", "30d", now=NOW)
    assert carol.total_usd == D("1.016")  # 1 + 16 x 0.001
    assert carol.conversations == 17


async def test_in_a_shared_thread_each_sender_is_charged_for_their_own_messages(
    db: Database,
) -> None:
    seed = Seeder(db)
    t = NOW - timedelta(hours=1)
    thread = await seed.conversation("UALICE", channel="C0SUPPORT")  # Alice started it
    # 2,000 x $1/M + 8,000 x $0.1/M + 200 x $5/M = $0.0038, for Alice's question
    alice = await seed.message(thread)
    await seed.call(alice, HAIKU, t, "0.0038", input_tokens=10_000, cached=8_000, output=200)
    # Bob's question in her thread: $0.0117 (Sonnet) + $0.0065 (Haiku) = $0.0182
    bob = await seed.message(thread, user="UBOB")
    await seed.call(bob, HAIKU, t, "0.0065", input_tokens=5_000, write=4_000, output=100)
    await seed.call(
        bob, SONNET, t, "0.0117", "strong", input_tokens=6_000, cached=4_000, output=300
    )

    alice_spend = await costs.customer_spend(db, "UALICE", "today", now=NOW)
    bob_spend = await costs.customer_spend(db, "UBOB", "today", now=NOW)
    assert (alice_spend.total_usd, alice_spend.calls) == (D("0.0038"), 1)
    assert (bob_spend.total_usd, bob_spend.calls) == (D("0.0182"), 2)
    assert [(x.user_id, x.cost_usd) for x in bob_spend.top_threads] == [("UBOB", D("0.0182"))]
    detail = await costs.thread_detail(db, "C0SUPPORT", thread.thread_ts)
    assert detail is not None
    assert [c.user_id for c in detail.calls] == ["UALICE", "UBOB", "UBOB"]
    # The report's most expensive thread names who it cost most for: Bob, not its starter.
    report = await costs.report(db, "today", strong_model=STRONG, now=NOW)
    [top] = report.top_threads
    assert (top.cost_usd, top.user_id) == (D("0.022"), "UBOB")


async def test_daily_spend_by_tier(db: Database) -> None:
    await seed_world(db, NOW)
    _, _, days = await costs.daily_spend(db, "30d", now=NOW)
    assert [(d.day.isoformat(), d.tier, d.cost_usd) for d in days] == [
        ("2026-02-10", "primary", D("1")),
        ("2026-02-19", "primary", D("0.0300436")),
        ("2026-02-19", "strong", D("0.0249")),
    ]


# ---------------------------------------------------------------------------------------------
# /costs through /slack/events


def slash(text: str, user: str = "ULEAD", channel: str = "C0LEADS", **extra: str) -> dict[str, str]:
    return {
        "token": "legacy",
        "team_id": TEAM_ID,
        "team_domain": "fake",
        "channel_id": channel,
        "channel_name": "leads",
        "user_id": user,
        "user_name": user.lower(),
        "command": "/costs",
        "text": text,
        "api_app_id": "A0001",
        "response_url": "http://127.0.0.1:9/never-called",
        "trigger_id": "1337.44.trigger",
        **extra,
    }


async def costs_command(bot: Bot, text: str, **kw: str) -> dict[str, Any]:
    status, body = await bot.form(slash(text, **kw))
    assert status == 200, body
    answer: dict[str, Any] = json.loads(body)
    assert answer["response_type"] == "ephemeral"
    return answer


async def seeded_bot(start_bot: Any) -> tuple[Bot, World]:
    bot: Bot = await start_bot()
    world = await seed_world(bot.services.db, datetime.now(UTC))
    return bot, world


def blocks_text(answer: dict[str, Any]) -> str:
    return json.dumps(answer.get("blocks", []), ensure_ascii=False)


async def test_a_lead_gets_the_report_privately_in_the_acknowledgement(start_bot: Any) -> None:
    bot, world = await seeded_bot(start_bot)
    started = time.monotonic()
    answer = await costs_command(bot, "7d")
    assert time.monotonic() - started < 3
    blocks = answer["blocks"]
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "Costs · 7d"}}
    assert blocks[1]["type"] == "section" and len(blocks[1]["fields"]) == 8
    text = blocks_text(answer)
    for expected in (
        "$0.0549",  # spend
        "mean $0.002747",
        "p95 $0.007300",
        "5.0% (1)",  # to the strong tier
        "10.0% (2)",  # to a person
        "$0.0424 (43.5%)",  # saved vs always-strong
        "By model",
        "anthropic:claude-haiku-4-5",
        "By tier",
        "Most expensive threads",
        f"https://slack.com/archives/C0SUPPORT/p{world.c2.thread_ts.replace('.', '')}",
        "1 calls have no known price",
    ):
        assert expected in text, expected
    # Nothing was posted publicly.
    assert bot.slack.calls_to("chat.postMessage") == []


async def test_costs_without_arguments_is_today(start_bot: Any) -> None:
    bot = await start_bot()
    answer = await costs_command(bot, "")
    assert answer["blocks"][0]["text"]["text"] == "Costs · today"


async def test_anyone_else_gets_a_polite_private_refusal(start_bot: Any) -> None:
    bot, _ = await seeded_bot(start_bot)
    answer = await costs_command(bot, "7d", user="UALICE")
    assert answer["text"].startswith("Sorry, `/costs` is only for support leads")
    assert "blocks" not in answer and "$" not in answer["text"]


async def test_bad_arguments_get_help_listing_the_forms(start_bot: Any) -> None:
    bot = await start_bot()
    answer = await costs_command(bot, "yesterday please")
    assert "I don't understand `yesterday please`" in answer["text"]
    for form in ("`/costs`", "today | week | month | 7d | 30d", "chart [period]", "thread link"):
        assert form in answer["text"], form
    answer = await costs_command(bot, "chart yesterday")
    assert answer["text"].startswith("`yesterday` is not a period")


async def test_a_thread_link_shows_each_call(start_bot: Any) -> None:
    bot, world = await seeded_bot(start_bot)
    ts = world.c2.thread_ts.replace(".", "")
    answer = await costs_command(bot, f"<https://fake.slack.com/archives/C0SUPPORT/p{ts}>")
    text = blocks_text(answer)
    assert answer["blocks"][0]["text"]["text"] == "Costs · one thread"
    for expected in (
        "<@UBOB>",
        "$0.0314",
        "primary `claude-haiku-4-5` · in 5,000 (4,000 cache write) · out 100 · $0.006500",
        "strong `claude-sonnet-4-5` · in 6,000 (4,000 cached) · out 300 · $0.0117",
        "why: low_confidence",
        "Handed to a person",
        "strong_not_enough",
    ):
        assert expected in text, expected
    answer = await costs_command(bot, "https://fake.slack.com/archives/C0SUPPORT/p1000000000000001")
    assert "no record of that thread" in answer["text"]


async def test_a_user_mention_shows_their_spend(start_bot: Any) -> None:
    bot, _ = await seeded_bot(start_bot)
    answer = await costs_command(bot, "<@UALICE|alice> 7d")
    text = blocks_text(answer)
    assert answer["blocks"][0]["text"]["text"] == "Costs · one customer · 7d"
    assert "<@UALICE>" in text and "$0.007544" in text and "Their most expensive threads" in text


async def eventually(condition: Any, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_chart_uploads_a_png_to_the_channel(start_bot: Any) -> None:
    bot, _ = await seeded_bot(start_bot)
    hook = bot.slack.api_url + "response.hook"
    answer = await costs_command(bot, "chart 30d", channel="C0LEADS", response_url=hook)
    assert answer["text"].startswith("Drawing the chart of daily spend by tier for 30d")
    await eventually(lambda: bot.slack.calls_to("files.completeUploadExternal"))
    [ask] = bot.slack.calls_to("files.getUploadURLExternal")
    assert ask.args["filename"].endswith(".png")
    [(file_id, png)] = bot.slack.uploads.items()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
    assert int(ask.args["length"]) == len(png)
    [done] = bot.slack.calls_to("files.completeUploadExternal")
    assert done.args["channel_id"] == "C0LEADS"
    assert json.loads(done.args["files"])[0]["id"] == file_id
    await asyncio.sleep(0.2)
    assert bot.slack.calls_to("response.hook") == []  # success needs no second message


async def test_a_chart_in_a_channel_without_the_bot_explains_itself(start_bot: Any) -> None:
    bot = await start_bot()
    bot.slack.fail("files.completeUploadExternal", 200, {"ok": False, "error": "not_in_channel"})
    hook = bot.slack.api_url + "response.hook"
    await costs_command(bot, "chart", response_url=hook)
    await eventually(lambda: bot.slack.calls_to("response.hook"))
    [late] = bot.slack.calls_to("response.hook")
    assert late.args["response_type"] == "ephemeral"
    assert "`not_in_channel`" in late.args["text"] and "Invite me" in late.args["text"]


async def test_a_slow_report_is_acknowledged_and_follows_by_response_url(
    start_bot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot, _ = await seeded_bot(start_bot)
    monkeypatch.setattr(commands, "ACK_BUDGET_SECONDS", 0)
    hook = bot.slack.api_url + "response.hook"
    answer = await costs_command(bot, "7d", response_url=hook)
    assert answer["text"].startswith("Working on it")
    await eventually(lambda: bot.slack.calls_to("response.hook"))
    [late] = bot.slack.calls_to("response.hook")
    assert late.args["response_type"] == "ephemeral"
    assert "Most expensive threads" in json.dumps(late.args["blocks"])


# ---------------------------------------------------------------------------------------------
# The CLI


async def test_cli_costs_json(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = Database(database_url)
    await db.upgrade()
    world = await seed_world(db, datetime.now(UTC))
    await db.close()
    monkeypatch.setenv("DATABASE_URL", database_url)

    assert await asyncio.to_thread(main, ["costs", "--period", "7d", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total_usd"] == "0.0549436"
    assert data["savings"]["always_strong_usd"] == "0.0973254"
    assert data["cost_per_conversation_p95_usd"] == "0.0073"
    assert data["top_threads"][0]["conversation_id"] == world.c2.id
    assert set(data) == {
        "period", "start", "end", "total_usd", "calls", "unknown_cost_calls", "input_tokens",
        "cached_input_tokens", "cache_write_tokens", "output_tokens", "by_model", "by_tier",
        "conversations", "cost_per_conversation_mean_usd", "cost_per_conversation_p95_usd",
        "conversations_with_strong", "conversations_with_human", "strong_escalation_rate",
        "human_escalation_rate", "savings", "daily_rate_usd", "projected_month_usd",
        "top_threads",
    }  # fmt: skip

    link = f"https://fake.slack.com/archives/C0SUPPORT/p{world.c2.thread_ts.replace('.', '')}"
    assert await asyncio.to_thread(main, ["costs", "--thread", link, "--json"]) == 0
    thread = json.loads(capsys.readouterr().out)
    assert [c["cost_usd"] for c in thread["calls"]] == ["0.0065", "0.0117", "0.0132"]

    assert await asyncio.to_thread(main, ["costs", "--period", "7d"]) == 0
    text = capsys.readouterr().out
    assert "spend" in text and "$0.0549" in text and "most expensive threads" in text

    assert await asyncio.to_thread(main, ["costs", "--period", "fortnight"]) == 2
    assert "today, week, month, 7d, 30d" in capsys.readouterr().err
