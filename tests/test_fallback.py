"""Providers failing: SDK retries honouring retry-after, a fallback chain per tier, a cool-down
for a failing model, and every failed call recorded with its error kind."""

from __future__ import annotations

import dataclasses
import socket
from typing import Any

import pytest

from bot.agent.models.base import ChatMessage, ChatModel, ChatRequest, ModelResponse, TokenUsage
from bot.agent.models.calls import CallRecord
from bot.agent.models.chain import Cooldown, ModelChain
from bot.errors import ProviderError, ProviderFailure
from bot.store.models import ModelCall, Tier
from tests.conftest import Bot, dm
from tests.fakes.models import final, lookup
from tests.helpers import rows


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def fallback_bot(start_bot: Any, **overrides: Any) -> Bot:
    values: dict[str, Any] = {
        "fallback_models": ["openai:gpt-4o-mini"],
        "strong_fallback_models": ["openai:gpt-4o"],
        "model_max_retries": 0,
        "model_cooldown_seconds": 60,
    }
    return await start_bot(**(values | overrides))


@pytest.mark.parametrize(
    ("status", "kind"), [(429, "rate_limited"), (500, "server_error"), (529, "overloaded")]
)
async def test_a_failing_primary_falls_back_to_the_next_model(
    start_bot: Any, status: int, kind: str
) -> None:
    bot = await fallback_bot(start_bot)
    bot.anthropic.fail(status)
    await bot.event(dm("where is my order 1042?"))
    await bot.settle()
    assert "shipped" in bot.replies()[0]["text"]
    calls = await rows(bot, ModelCall)
    assert [(c.provider, c.model, c.tier, c.outcome) for c in calls] == [
        ("anthropic", "claude-haiku-4-5", "primary", kind),
        ("openai", "gpt-4o-mini", "primary", "ok"),
        ("openai", "gpt-4o-mini", "primary", "ok"),
    ]
    assert calls[0].input_tokens == 0 and calls[0].cost_usd == 0


async def test_a_timeout_falls_back(start_bot: Any) -> None:
    bot = await fallback_bot(start_bot, model_timeout_seconds=0.5)
    bot.anthropic.delay = 2.0
    await bot.event(dm("where is my order 1042?"))
    await bot.settle()
    assert "shipped" in bot.replies()[0]["text"]
    assert (await rows(bot, ModelCall))[0].outcome == "timeout"


async def test_a_provider_that_cannot_be_reached_falls_back(start_bot: Any) -> None:
    bot = await fallback_bot(start_bot, anthropic_base_url=f"http://127.0.0.1:{closed_port()}")
    await bot.event(dm("where is my order 1042?"))
    await bot.settle()
    assert "shipped" in bot.replies()[0]["text"]
    assert (await rows(bot, ModelCall))[0].outcome == "connection"


async def test_a_failed_model_is_skipped_during_its_cool_down(start_bot: Any) -> None:
    bot = await fallback_bot(start_bot)
    bot.anthropic.fail(529)
    await bot.event(dm("where is my order 1042?"))
    await bot.settle()
    anthropic_requests = len(bot.anthropic.requests)
    await bot.event(dm("where is my order 1043?"))
    await bot.settle()
    assert len(bot.anthropic.requests) == anthropic_requests  # not asked again
    assert "processing" in bot.replies()[1]["text"]


async def test_the_model_is_asked_again_after_its_cool_down(start_bot: Any) -> None:
    bot = await fallback_bot(start_bot, model_cooldown_seconds=0)
    bot.anthropic.fail(529)
    await bot.event(dm("where is my order 1042?"))
    await bot.settle()
    before, fallback_before = len(bot.anthropic.requests), len(bot.openai.requests)
    await bot.event(dm("where is my order 1043?"))
    await bot.settle()
    # The whole second answer (lookup, final answer) comes from the primary model again.
    assert len(bot.anthropic.requests) == before + 2
    assert len(bot.openai.requests) == fallback_before
    calls = await rows(bot, ModelCall)
    assert [c.outcome for c in calls if c.provider == "anthropic"][-2:] == ["ok", "ok"]


async def test_retries_honour_retry_after_before_falling_back(start_bot: Any) -> None:
    bot = await fallback_bot(start_bot, model_max_retries=1)
    # 2 s: well above the SDK's own first backoff (at most 0.5 s), so the wait proves it.
    bot.anthropic.fail(429, headers={"retry-after": "2"})
    await bot.event(dm("where is my order 1042?"))
    await bot.settle()
    first, retried = bot.anthropic.arrivals[:2]
    assert retried - first >= 1.9
    assert "shipped" in bot.replies()[0]["text"]
    # The SDK retried the same request after the 429; no fallback was needed.
    assert [c.outcome for c in await rows(bot, ModelCall)] == ["ok", "ok"]
    assert bot.openai.requests == []
    assert len(bot.anthropic.requests) == 3


async def test_the_strong_tier_has_its_own_fallback(start_bot: Any) -> None:
    bot = await fallback_bot(start_bot)
    bot.anthropic.script = [lookup("1042"), final("not sure", 0.1)]
    bot.anthropic.failing_models["claude-sonnet-4-5"] = 529
    await bot.event(dm("where is my order 1042?"))
    await bot.settle()
    assert "shipped" in bot.replies()[0]["text"]
    calls = await rows(bot, ModelCall)
    strong = [(c.provider, c.model, c.outcome) for c in calls if c.tier == "strong"]
    assert strong == [
        ("anthropic", "claude-sonnet-4-5", "overloaded"),
        ("openai", "gpt-4o", "ok"),
        ("openai", "gpt-4o", "ok"),
    ]


class ScriptedModel:
    """A `ChatModel` in process: answers with `response`, or fails with `fails` (a kind)."""

    def __init__(
        self,
        provider: str,
        name: str,
        response: ModelResponse | None,
        fails: ProviderFailure | None = None,
    ):
        self.provider, self.name = provider, name
        self.response, self.fails = response, fails
        self.calls = 0

    async def complete(self, request: ChatRequest) -> ModelResponse:
        self.calls += 1
        if self.fails or self.response is None:
            raise ProviderError(self.fails or ProviderFailure.UNKNOWN, f"{self.name} failed")
        return self.response


async def ask(model: ChatModel) -> ModelResponse:
    return await model.complete(
        ChatRequest("s", [ChatMessage("user", text="hi")], [], require_tool=False, max_tokens=10)
    )


async def test_a_chain_is_a_model_that_reports_each_attempt_as_a_call_of_its_tier() -> None:
    usage = TokenUsage(input_tokens=12, cached_input_tokens=2, output_tokens=3)
    answer = ModelResponse("hello", [], usage, {"input_tokens": 12}, "end_turn")
    down = ScriptedModel("anthropic", "claude-haiku-4-5", None, fails=ProviderFailure.OVERLOADED)
    up = ScriptedModel("openai", "gpt-4o-mini", answer)
    chain = ModelChain([down, up], Cooldown(60))
    records: list[CallRecord] = []

    async def record(call: CallRecord) -> None:
        records.append(call)

    reporting = chain.reporting(record, tier=Tier.STRONG, confidence=lambda r: 0.25)
    assert await ask(reporting) is answer
    assert [dataclasses.replace(r, latency_ms=0) for r in records] == [
        CallRecord("anthropic", "claude-haiku-4-5", "strong", TokenUsage(), {}, 0, "overloaded"),
        CallRecord(
            "openai",
            "gpt-4o-mini",
            "strong",
            usage,
            {"input_tokens": 12},
            0,
            "ok",
            "end_turn",
            0.25,
        ),
    ]
    # The chain it came from reports nothing, and shares the cool-down: the failed model is
    # skipped now.
    assert await ask(chain) is answer
    assert len(records) == 2 and (down.calls, up.calls) == (1, 2)


async def test_a_chain_whose_models_all_fail_reports_each_and_raises_the_last_error() -> None:
    first = ScriptedModel("anthropic", "claude-haiku-4-5", None, fails=ProviderFailure.RATE_LIMITED)
    last = ScriptedModel("openai", "gpt-4o-mini", None, fails=ProviderFailure.AUTH)
    records: list[CallRecord] = []

    async def record(call: CallRecord) -> None:
        records.append(call)

    chain = ModelChain([first, last], Cooldown(60)).reporting(record, tier=Tier.PRIMARY)
    with pytest.raises(ProviderError) as raised:
        await ask(chain)
    assert raised.value.kind == "auth"
    assert [(r.model, r.tier, r.outcome, r.confidence) for r in records] == [
        ("claude-haiku-4-5", "primary", "rate_limited", None),
        ("gpt-4o-mini", "primary", "auth", None),
    ]
