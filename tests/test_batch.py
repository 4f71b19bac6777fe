"""`BatchRounds` through the adapters `ModelFactory` builds, with the real SDKs against the fake
Batch APIs: the body the live adapter sends, the answer read as a live one, calls gathered in
rounds (one batch per model per round), error lines as the adapter's errors, progress, and a
batch the provider cannot be asked about for a while."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest

from bot.agent.models import ModelFactory
from bot.agent.models.base import ChatMessage, ChatModel, ChatRequest, ModelResponse
from bot.agent.tools import TOOL_SPECS
from bot.batch.calls import Backoff, BatchProgress, custom_id
from bot.batch.models import BatchState
from bot.batch.openai_batches import OpenAIBatches
from bot.batch.rounds import CALL_SCOPE, BatchRounds
from bot.errors import ProviderError, ProviderFailure
from bot.store.db import Database
from tests.fakes.models import FakeModelServer

ANTHROPIC = "anthropic:claude-haiku-4-5"
OPENAI = "openai:gpt-4o-mini"
FAKES = {ANTHROPIC: "fake_anthropic", OPENAI: "fake_openai"}
FAST = Backoff(first=0.001, factor=1.0, most=0.001)


def ask(text: str) -> ChatRequest:
    return ChatRequest(
        system="You are the support assistant of Acme Shop.",
        messages=[ChatMessage("user", text=text)],
        tools=TOOL_SPECS,
        require_tool=True,
        max_tokens=256,
    )


@pytest.fixture
async def state_db(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    await db.upgrade()
    yield db
    await db.close()


@pytest.fixture
async def factory(make_settings: Any) -> AsyncIterator[ModelFactory]:
    models = ModelFactory(make_settings())
    yield models
    await models.close()


async def run_cases(
    rounds: BatchRounds, models: dict[str, ChatModel], asks: dict[str, list[str]]
) -> dict[str, list[ModelResponse | ProviderError]]:
    """Each scope's questions asked in turn of its model, in a task of its own, as the eval
    runs cases; a call that fails gives its error, and the case goes on."""

    async def case(scope: str) -> list[ModelResponse | ProviderError]:
        CALL_SCOPE.set(scope)
        answers: list[ModelResponse | ProviderError] = []
        try:
            for text in asks[scope]:
                try:
                    answers.append(await models[scope].complete(ask(text)))
                except ProviderError as exc:
                    answers.append(exc)
            return answers
        finally:
            rounds.case_finished()

    for _ in asks:
        rounds.case_started()
    answers = await asyncio.gather(*(case(scope) for scope in asks))
    return dict(zip(asks, answers, strict=True))


@pytest.fixture
async def batching(
    make_settings: Any, state_db: Database
) -> AsyncIterator[tuple[BatchRounds, ModelFactory, list[BatchProgress]]]:
    """A run's rounds over the state database, reporting to a list, and a factory through it."""
    progress: list[BatchProgress] = []
    rounds = BatchRounds(state_db, progress.append, backoff=FAST)
    models = ModelFactory(make_settings(), wrap=rounds.wrap)
    yield rounds, models, progress
    await rounds.close()
    await models.close()


@pytest.mark.parametrize("ref", [ANTHROPIC, OPENAI])
async def test_a_batched_call_sends_the_live_body_and_reads_the_answer_as_a_live_one(
    ref: str,
    request: pytest.FixtureRequest,
    factory: ModelFactory,
    batching: tuple[BatchRounds, ModelFactory, list[BatchProgress]],
) -> None:
    fake: FakeModelServer = request.getfixturevalue(FAKES[ref])
    live = await factory.build(ref).complete(ask("Where is my order 1042?"))
    rounds, batched, _ = batching
    scope = "orders/where-is-1042"
    got = await run_cases(rounds, {scope: batched.build(ref)}, {scope: ["Where is my order 1042?"]})
    (answer,) = got[scope]
    assert isinstance(answer, ModelResponse)
    assert fake.batch_lines == [
        {"custom_id": custom_id("orders/where-is-1042", 0), "body": fake.requests[-1]}
    ]
    assert answer.batch and not live.batch
    assert (
        [(c.name, c.arguments) for c in answer.tool_calls]
        == [(c.name, c.arguments) for c in live.tool_calls]
        == [("lookup_order", {"order_id": "1042"})]
    )
    assert (answer.text, answer.stop_reason) == (live.text, live.stop_reason)
    assert answer.usage.output_tokens == live.usage.output_tokens > 0


async def test_every_case_s_nth_call_goes_in_one_batch_per_model_a_round(
    fake_anthropic: FakeModelServer,
    fake_openai: FakeModelServer,
    batching: tuple[BatchRounds, ModelFactory, list[BatchProgress]],
) -> None:
    rounds, models, progress = batching
    claude, gpt = models.build(ANTHROPIC), models.build(OPENAI)
    asks = {
        "s/alice": ["Where is my order 1042?", "And 1043?"],
        "s/bob": ["Where is my order 2001?", "And 2002?"],
        "s/carol": ["Where is my order 3100?", "Thanks, and my refund?"],
    }
    got = await run_cases(rounds, {"s/alice": claude, "s/bob": claude, "s/carol": gpt}, asks)

    assert all(
        isinstance(a, ModelResponse) and a.batch for answers in got.values() for a in answers
    )
    claude_batches = [sorted(i for i, _ in b.requests) for b in fake_anthropic.batches.values()]
    gpt_batches = [sorted(i for i, _ in b.requests) for b in fake_openai.batches.values()]
    assert claude_batches == [
        [custom_id("s/alice", 0), custom_id("s/bob", 0)],
        [custom_id("s/alice", 1), custom_id("s/bob", 1)],
    ]
    assert gpt_batches == [[custom_id("s/carol", 0)], [custom_id("s/carol", 1)]]
    assert not fake_anthropic.requests and not fake_openai.requests  # no live call
    ended = [(p.round, p.provider, p.done, p.total) for p in progress if p.state == "ended"]
    assert sorted(ended) == [
        (1, "anthropic", 2, 2),
        (1, "openai", 1, 1),
        (2, "anthropic", 2, 2),
        (2, "openai", 1, 1),
    ]
    first = [p for p in progress if p.batch_id == next(iter(fake_anthropic.batches))]
    assert [(p.state, p.provider_status) for p in first] == [
        (BatchState.IN_PROGRESS, "in_progress"),  # sent
        (BatchState.IN_PROGRESS, "in_progress"),  # the first poll
        (BatchState.ENDED, "ended"),  # the second: the fake's batch_polls
    ]
    assert (rounds.sent, rounds.replayed) == (6, 0)


@pytest.mark.parametrize(
    ("ref", "status", "kind"),
    [
        (ANTHROPIC, 529, ProviderFailure.OVERLOADED),
        (ANTHROPIC, 400, ProviderFailure.BAD_REQUEST),
        (OPENAI, 429, ProviderFailure.RATE_LIMITED),
        (OPENAI, 400, ProviderFailure.BAD_REQUEST),
    ],
)
async def test_an_error_line_is_the_error_the_live_adapter_raises(
    ref: str,
    status: int,
    kind: ProviderFailure,
    request: pytest.FixtureRequest,
    factory: ModelFactory,
    batching: tuple[BatchRounds, ModelFactory, list[BatchProgress]],
) -> None:
    fake: FakeModelServer = request.getfixturevalue(FAKES[ref])
    fake.failing_models[ref.partition(":")[2]] = status
    rounds, models, _ = batching
    got = await run_cases(rounds, {"s/one": models.build(ref)}, {"s/one": ["Where is 1042?"]})
    (error,) = got["s/one"]
    assert isinstance(error, ProviderError)
    assert error.kind == kind
    if status == 400:  # not retried by the SDK: cheap to ask live
        with pytest.raises(ProviderError) as live:
            await factory.build(ref).complete(ask("Where is 1042?"))
        assert (error.kind, str(error)) == (live.value.kind, str(live.value))


async def test_a_failed_model_falls_back_through_the_chain_in_the_next_round(
    make_settings: Any,
    fake_anthropic: FakeModelServer,
    fake_openai: FakeModelServer,
    state_db: Database,
) -> None:
    from bot.agent.models.calls import CallRecord
    from bot.store.models import Tier

    fake_anthropic.failing_models["claude-haiku-4-5"] = 529
    rounds = BatchRounds(state_db, backoff=FAST)
    settings = make_settings(primary_model=ANTHROPIC, fallback_models=[OPENAI])
    models = ModelFactory(settings, wrap=rounds.wrap)
    records: list[CallRecord] = []

    async def record(call: CallRecord) -> None:
        records.append(call)

    try:
        chain = models.chain(Tier.PRIMARY).reporting(record, tier=Tier.PRIMARY)
        got = await run_cases(rounds, {"s/one": chain}, {"s/one": ["Where is my order 1042?"]})
    finally:
        await rounds.close()
        await models.close()
    (answer,) = got["s/one"]
    assert isinstance(answer, ModelResponse) and answer.tool_calls[0].name == "lookup_order"
    assert [(r.provider, r.outcome, r.batch) for r in records] == [
        ("anthropic", ProviderFailure.OVERLOADED, False),
        ("openai", "ok", True),
    ]
    assert len(fake_anthropic.batches) == len(fake_openai.batches) == 1


async def test_polls_that_fail_in_passing_are_asked_again(
    fake_openai: FakeModelServer, state_db: Database, make_settings: Any
) -> None:
    """A batch keeps running while its provider cannot be asked about it for a while."""

    def fail_polls(p: BatchProgress) -> None:
        if p.state == BatchState.IN_PROGRESS and p.provider_status == "validating":
            fake_openai.fail(503, headers={"retry-after-ms": "1"}, times=7)  # > the SDK's 3 tries

    rounds = BatchRounds(state_db, fail_polls, backoff=FAST)
    models = ModelFactory(make_settings(), wrap=rounds.wrap)
    try:
        got = await run_cases(
            rounds, {"s/one": models.build(OPENAI)}, {"s/one": ["Where is 1042?"]}
        )
    finally:
        await rounds.close()
        await models.close()
    assert isinstance(got["s/one"][0], ModelResponse)
    assert not fake_openai.faults
    (batch,) = fake_openai.batches.values()
    assert batch.polls >= 2


async def test_a_batch_refused_as_a_whole_is_a_bad_request(
    make_settings: Any, fake_openai: FakeModelServer
) -> None:
    settings = make_settings()
    client = openai.AsyncOpenAI(api_key="test", base_url=settings.openai_base_url)
    try:
        line = b'{"custom_id": "a", "method": "POST", "url": "/v1/embeddings", "body": {}}\n'
        upload = await client.files.create(file=("in.jsonl", line), purpose="batch")
        batch = await client.batches.create(
            input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h"
        )
        status = await OpenAIBatches(client).status(batch.id)
        assert (status.provider_status, status.ended) == ("failed", True)
        with pytest.raises(ProviderError) as refused:
            await OpenAIBatches(client).results(batch.id)
    finally:
        await client.close()
    assert refused.value.kind == ProviderFailure.BAD_REQUEST
    assert "mismatched_url" in str(refused.value)


def test_a_custom_id_is_what_both_apis_take_stable_and_distinct_per_scope() -> None:
    import re

    ids = [
        custom_id("orders/order-status-shipped", 0),
        custom_id("orders/order status shipped", 0),  # the same once made safe: still distinct
        custom_id("x" * 200 + "/long", 12),
    ]
    assert all(re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", i) for i in ids)
    assert len(set(ids)) == 3
    assert ids[0] == custom_id("orders/order-status-shipped", 0)  # stable
    assert ids[0].startswith("orders_order-status-shipped-") and ids[0].endswith("-0")


async def test_a_batched_call_outside_a_case_is_refused(
    batching: tuple[BatchRounds, ModelFactory, list[BatchProgress]],
) -> None:
    _, models, _ = batching
    outside = contextvars.Context()  # no case's scope set in it
    with pytest.raises(RuntimeError, match="CALL_SCOPE"):
        await asyncio.create_task(models.build(ANTHROPIC).complete(ask("hi")), context=outside)


async def test_an_error_line_is_kept_a_batch_lost_as_a_whole_is_sent_again(
    make_settings: Any, fake_anthropic: FakeModelServer, state_db: Database
) -> None:
    """The next run sees the same error for an error line (nothing sent); the calls of a batch
    the provider no longer knows are forgotten, and sent by the next run."""
    settings = make_settings()
    asks = {"s/failing": ["Where is 1042?"], "s/lost": ["Where is 2001?"]}

    async def run(on_progress: Any = None) -> dict[str, list[ModelResponse | ProviderError]]:
        rounds = BatchRounds(state_db, on_progress, backoff=FAST)
        models = ModelFactory(settings, wrap=rounds.wrap)
        try:
            return await run_cases(rounds, {s: models.build(ANTHROPIC) for s in asks}, asks)
        finally:
            await rounds.close()
            await models.close()

    fake_anthropic.failing_models["claude-haiku-4-5"] = 529
    first = await run()
    assert all(isinstance(a[0], ProviderError) for a in first.values())
    again = await run()
    assert [type(a[0]) for a in again.values()] == [ProviderError, ProviderError]
    assert len(fake_anthropic.batches) == 1  # both answered from the stored error lines

    asks = {"s/lost": ["Where is my order 2001?"]}  # another request: another call
    fake_anthropic.failing_models.clear()

    def lose_the_batch(p: BatchProgress) -> None:
        fake_anthropic.batches.pop(p.batch_id, None)  # the provider answers 404 from now on

    lost = await run(lose_the_batch)
    assert isinstance(lost["s/lost"][0], ProviderError)
    assert lost["s/lost"][0].kind == ProviderFailure.BAD_REQUEST
    found = await run()
    assert isinstance(found["s/lost"][0], ModelResponse)
    assert [line["custom_id"] for line in fake_anthropic.batch_lines][-2:] == [
        custom_id("s/lost", 0)
    ] * 2  # sent again, the lost batch's calls forgotten
