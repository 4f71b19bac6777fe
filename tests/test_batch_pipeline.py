"""`BatchRounds` under the real answering pipeline (as `supportbot eval --batch` runs it: no
Slack, a throwaway database per run, one task per case), against the fake Batch APIs: the same
replies as live calls, round by round, the calls recorded as batch calls at batch prices; and a
run stopped after its first round was sent, started again, sends no request twice."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.agent.models import ModelFactory
from bot.batch.calls import Backoff, BatchProgress, custom_id
from bot.batch.models import BatchState
from bot.batch.rounds import CALL_SCOPE, BatchRounds
from bot.delivery import LeadsPost, ThreadPost
from bot.services import build_services, prepare_database
from bot.store import queries
from bot.store.db import Database
from bot.store.models import Conversation, ModelCall
from bot.store.pricing import call_cost
from tests.fakes.models import FakeAnthropic

FAST = Backoff(first=0.001, factor=1.0, most=0.001)
# Each case: the asker's email and what they write. Each takes two model calls (the lookup,
# then the answer).
CASES = {
    "demo/alice-1042": ("alice@example.com", "Where is my order 1042?"),
    "demo/bob-2001": ("bob@example.com", "Where is my order 2001?"),
    "demo/carol-3100": ("carol@example.com", "What about my order 3100?"),
}
_runs = itertools.count()


class Replies:
    """The pipeline's sender: each thread's reply kept."""

    def __init__(self) -> None:
        self.by_thread: dict[str, str] = {}

    async def thinking(self, conversation: Conversation) -> None:
        return None

    async def clear_thinking(self, conversation: Conversation) -> None:
        return None

    async def post_reply(self, post: ThreadPost) -> str | None:
        self.by_thread[post.thread_ts] = post.text
        return None

    async def post_escalation(self, post: LeadsPost) -> tuple[str, str | None]:
        return post.channel_id, None

    async def post_alert(self, channel_id: str, text: str) -> str | None:
        return None


@pytest.fixture
async def state_db(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    await db.upgrade()
    yield db
    await db.close()


async def run_cases(
    settings: Any, tmp_path: Path, rounds: BatchRounds | None
) -> tuple[dict[str, str], list[ModelCall]]:
    """Every case through the pipeline in a throwaway database, batched through `rounds` (live
    without): each case's reply, and the model calls recorded."""
    database = f"sqlite:///{tmp_path}/run-{next(_runs)}.db"
    settings = settings.model_copy(update={"database_url": database})
    sender = Replies()
    models = ModelFactory(settings, wrap=rounds.wrap if rounds else None)
    known = {f"eval:{email}": email for email, _ in CASES.values()}
    services = build_services(settings, None, sender=sender, known_emails=known, models=models)
    await prepare_database(settings, services.db)
    await services.start()

    async def case(scope: str, email: str, text: str) -> None:
        CALL_SCOPE.set(scope)
        try:
            inbound = queries.Inbound("T1", "D1", scope, f"eval:{email}", text, f"{scope}.1")
            message_id = await queries.record_inbound(services.db, inbound)
            assert message_id is not None
            await services.worker.process(message_id)
        finally:
            if rounds:
                rounds.case_finished()

    try:
        for _ in CASES if rounds else ():
            rounds.case_started()
        await asyncio.gather(*(case(scope, *asked) for scope, asked in CASES.items()))
        async with services.db.session() as s:
            calls = list((await s.exec(select(ModelCall))).all())
    finally:
        await services.close()
    return sender.by_thread, calls


async def test_the_pipeline_answers_through_batches_as_it_does_live_at_batch_prices(
    make_settings: Any, fake_anthropic: FakeAnthropic, state_db: Database, tmp_path: Path
) -> None:
    settings = make_settings()
    live_replies, live_calls = await run_cases(settings, tmp_path, None)
    live_requests = len(fake_anthropic.requests)
    rounds = BatchRounds(state_db, backoff=FAST)
    try:
        replies, calls = await run_cases(settings, tmp_path, rounds)
    finally:
        await rounds.close()

    assert replies == live_replies
    assert "shipped" in replies["demo/alice-1042"] and "delivered" in replies["demo/bob-2001"]
    assert len(fake_anthropic.requests) == live_requests  # nothing more went live
    # Round 1: every case's first call, in one batch; round 2: every second call.
    assert [sorted(i for i, _ in b.requests) for b in fake_anthropic.batches.values()] == [
        sorted(custom_id(scope, n) for scope in CASES) for n in (0, 1)
    ]
    assert len(calls) == len(live_calls) == 2 * len(CASES)
    assert {c.batch for c in calls} == {True} and {c.batch for c in live_calls} == {False}
    for call in calls:
        usage = call.input_tokens, call.cached_input_tokens, call.cache_write_tokens
        batch_price = call_cost(
            call.provider,
            call.model,
            input_tokens=usage[0],
            cached_input_tokens=usage[1],
            cache_write_tokens=usage[2],
            output_tokens=call.output_tokens,
            batch=True,
        )
        assert call.cost_usd == batch_price
    live_cost = sum((c.cost_usd or Decimal(0) for c in live_calls), Decimal(0))
    batch_cost = sum((c.cost_usd or Decimal(0) for c in calls), Decimal(0))
    assert batch_cost < live_cost  # half the rates; cache figures differ between the two runs


async def test_a_run_stopped_after_its_first_round_was_sent_resumes_without_sending_twice(
    make_settings: Any, fake_anthropic: FakeAnthropic, state_db: Database, tmp_path: Path
) -> None:
    settings = make_settings()
    fake_anthropic.batch_polls = 10**6  # the first run never sees its batch end
    sent = asyncio.Event()

    def note(p: BatchProgress) -> None:
        if p.round == 1 and p.state == BatchState.IN_PROGRESS:
            sent.set()

    first = BatchRounds(state_db, note, backoff=FAST)
    run = asyncio.create_task(run_cases(settings, tmp_path, first))
    await sent.wait()
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    await first.close()
    (round_one,) = fake_anthropic.batches.values()
    assert len(round_one.requests) == len(CASES)

    # Later: the batch ended while nobody was polling; a new run over the same state database.
    round_one.polls_left = 1
    fake_anthropic.batch_polls = 2
    progress: list[BatchProgress] = []
    second = BatchRounds(state_db, progress.append, backoff=FAST)
    try:
        replies, calls = await run_cases(settings, tmp_path, second)
    finally:
        await second.close()

    sent_ids = [line["custom_id"] for line in fake_anthropic.batch_lines]
    assert len(sent_ids) == len(set(sent_ids)) == 2 * len(CASES)  # none sent twice
    assert len(fake_anthropic.batches) == 2  # round 1 followed, not sent again; then round 2
    assert {(p.round, p.batch_id) for p in progress if p.state == BatchState.ENDED} == {
        (1, round_one.id),
        (2, list(fake_anthropic.batches)[1]),
    }
    assert second.sent == len(CASES)  # round 2 only (a case starting late may find round 1
    # already ended and stored by then: answered from the store)
    assert "shipped" in replies["demo/alice-1042"] and len(replies) == len(CASES)
    assert len(calls) == 2 * len(CASES) and all(c.batch for c in calls)

    # Once more: every call answered from the stored results at once, nothing sent.
    third = BatchRounds(state_db, backoff=FAST)
    try:
        again, _ = await run_cases(settings, tmp_path, third)
    finally:
        await third.close()
    assert again == replies
    assert (third.replayed, third.sent) == (2 * len(CASES), 0)
    assert len(fake_anthropic.batch_lines) == 2 * len(CASES)


async def test_the_eval_runner_runs_its_cases_through_batch_rounds_on_its_plug(
    make_settings: Any, fake_anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    """`BatchRounds` is what `supportbot eval`'s `BatchPlug` takes: the runner's cases pass,
    every call went through a batch, round 1 holding every case's first call."""
    from bot.eval import TierMode
    from bot.eval.cases import load_suite
    from bot.eval.runner import BatchPlug, run_eval
    from bot.eval.shop import load_shop

    made: list[BatchRounds] = []

    def make_rounds(db: Database) -> BatchRounds:
        made.append(BatchRounds(db, backoff=FAST))
        return made[-1]

    checks = load_suite(Path(__file__).parent / "data" / "eval" / "checks.yaml")
    suite = checks.model_copy(update={"cases": checks.cases[:3]})  # three passing cases
    _, results = await run_eval(
        make_settings(),
        [suite],
        TierMode.ROUTED,
        concurrency=len(suite.cases),
        shop=load_shop(),
        batch=BatchPlug(make_rounds, CALL_SCOPE, f"sqlite:///{tmp_path / 'state.db'}"),
    )
    assert all(r.passed for r in results), [r.failures for r in results]
    (rounds,) = made
    calls = [c for r in results for t in r.turns for c in t.calls]
    assert rounds.sent == len(calls) > len(suite.cases) and not fake_anthropic.requests
    first = next(iter(fake_anthropic.batches.values()))
    assert sorted(i for i, _ in first.requests) == sorted(
        custom_id(f"checks/{c.id}", 0) for c in suite.cases
    )
