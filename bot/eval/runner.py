"""Running suites through the real answering pipeline, as `supportbot chat` does: the same
`build_services` (prompts, tools, guards, policy, `Answerer`, `Worker`), the configured
models, a `Sender` that keeps the posts, and a throwaway database holding the eval shop.

Each case is one thread, run in an asyncio task of its own (`concurrency` at once); its turns
are stored as inbound messages and answered by `Worker.process` one after the other, then
read back (`records.py`) and graded (`grading.py`). Spending limits and the per-customer rate
limit are off for a run: its cost is what it reports."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from bot.agent.models import ModelFactory
from bot.agent.models.base import ChatModel
from bot.config import Settings
from bot.eval import TierMode, records
from bot.eval.capture import CURRENT_CASE, CapturingSender, CaseLog, recording
from bot.eval.cases import Case, Suite, SuiteError
from bot.eval.grading import Judge, TurnSeen, grade_turn, protected_data
from bot.eval.results import CaseResult, ToolCallSeen, TurnResult
from bot.eval.shop import Shop, throwaway_database
from bot.services import Services, build_services
from bot.store import queries
from bot.store.db import Database

log = logging.getLogger(__name__)
CHANNEL = "eval"


class CaseRounds(Protocol):
    """What `--batch` plugs in (`bot.batch.rounds.BatchRounds`): a wrap for every adapter,
    and to be told when a case starts and ends, so that a round of calls is sent once every
    running case waits on a model call."""

    def wrap(self, ref: str, model: ChatModel) -> ChatModel: ...

    def case_started(self) -> None: ...

    def case_finished(self) -> None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class BatchPlug:
    """`--batch`'s wiring: `make_rounds` is given the batch state's database (`state_url`,
    migrated; it outlives the run's throwaway database, so an interrupted run resumes); the
    runner sets `call_scope` to `"<suite>/<case id>"` in each case's task."""

    make_rounds: Callable[[Database], CaseRounds]
    call_scope: ContextVar[str]
    state_url: str


@dataclass(frozen=True)
class CaseAsker:
    user_id: str
    email: str | None
    lead: bool


def askers(suites: list[Suite]) -> dict[tuple[str, str], CaseAsker]:
    """A Slack-like user per case: its email known as `supportbot chat` knows its user's."""
    found: dict[tuple[str, str], CaseAsker] = {}
    for suite in suites:
        for case in suite.cases:
            found[(suite.name, case.id)] = CaseAsker(
                f"eval{len(found) + 1}", case.customer, case.lead
            )
    return found


def tier_models(settings: Settings, mode: TierMode) -> Settings:
    """The settings with the models of `mode`: routed as configured; primary, the strong tier
    running the primary model (and its fallbacks); strong, the primary tier running the
    strong model (and its fallbacks)."""
    if mode == TierMode.PRIMARY:
        return settings.model_copy(
            update={
                "strong_model": settings.primary_model,
                "strong_fallback_models": settings.fallback_models,
            }
        )
    if mode == TierMode.STRONG:
        return settings.model_copy(
            update={
                "primary_model": settings.strong_model,
                "fallback_models": settings.strong_fallback_models,
            }
        )
    return settings


# The high-value line the bundled suite's `high_value` cases assume (the eval shop has orders on
# both sides of it), used when SUPPORTBOT_HIGH_VALUE_ORDER is not set.
SHOP_HIGH_VALUE_ORDER = Decimal(500)


def run_settings(
    settings: Settings, mode: TierMode, database_url: str, shop: Shop, leads: list[str]
) -> Settings:
    """The settings of a run: the configured ones on the throwaway database and the eval shop,
    the leads among the askers added, no budgets, no rate limit, the shop's high-value line
    unless one is set, and the models of `mode`."""
    update: dict[str, object] = {
        "database_url": database_url,
        "orders_backend": "sql",
        "load_demo_orders": False,
        "knowledge_dir": str(shop.knowledge_dir),
        "lead_users": [*settings.lead_users, *leads],
        "rate_limit_per_minute": 0,
        "budget_thread_usd": None,
        "budget_customer_daily_usd": None,
        "budget_workspace_daily_usd": None,
        "high_value_order": (
            SHOP_HIGH_VALUE_ORDER
            if settings.high_value_order is None
            else settings.high_value_order
        ),
    }
    return tier_models(settings, mode).model_copy(update=update)


def check_against_shop(suites: list[Suite], shop: Shop) -> None:
    """Every article a case expects cited is in the eval shop."""
    for suite in suites:
        for case in suite.cases:
            for number, turn in enumerate(case.turns, start=1):
                unknown = [s for s in turn.expect.cites if s not in shop.article_urls]
                if unknown:
                    raise SuiteError(
                        f"{suite.path}, case {case.id!r} turn {number}: no article "
                        f"{', '.join(unknown)} in the eval shop (known: "
                        f"{', '.join(sorted(shop.article_urls))})"
                    )


@dataclass
class CaseRunner:
    """Runs cases on one set of services, each in the task that calls `run`."""

    services: Services
    sender: CapturingSender
    judge: Judge
    shop: Shop
    askers: dict[tuple[str, str], CaseAsker]
    rounds: CaseRounds | None = None
    call_scope: ContextVar[str] | None = None

    async def run(self, suite: Suite, case: Case) -> CaseResult:
        asker = self.askers[(suite.name, case.id)]
        case_log = CaseLog(thread_ts=f"{asker.user_id}.0")
        CURRENT_CASE.set(case_log)
        if self.call_scope is not None:
            self.call_scope.set(f"{suite.name}/{case.id}")
        if self.rounds is not None:
            self.rounds.case_started()
        result = CaseResult(
            suite=suite.name,
            id=case.id,
            tags=case.tags,
            customer=case.customer,
            lead=case.lead,
            turns=[],
        )
        try:
            for number in range(1, len(case.turns) + 1):
                result.turns.append(await self._turn(case, number, asker, case_log))
        except Exception as exc:
            log.exception("eval case %s/%s failed", suite.name, case.id)
            result.error = f"{type(exc).__name__}: {exc}"
        finally:
            if self.rounds is not None:
                self.rounds.case_finished()
        return result

    async def _turn(
        self, case: Case, number: int, asker: CaseAsker, case_log: CaseLog
    ) -> TurnResult:
        spec = case.turns[number - 1]
        case_log.next_turn()
        thread = case_log.thread_ts
        inbound = queries.Inbound(
            "eval", CHANNEL, thread, asker.user_id, spec.say, f"{thread}.{number}"
        )
        message_id = await queries.record_inbound(self.services.db, inbound)
        assert message_id is not None  # each turn has a ts of its own
        await self.services.worker.process(message_id)
        stored = await records.stored_turn(self.services.db, message_id)
        tools = [ToolCallSeen(name=n, args=a) for n, a in case_log.tool_calls]
        answer = "\n\n".join(self.sender.take(thread))
        seen = TurnSeen(answer, stored.route, stored.reasons, tools)
        others = set() if case.lead else self.shop.emails_and_tracking(case.customer)
        protected = protected_data(others, (t.say for t in case.turns[:number]))
        return TurnResult(
            say=spec.say,
            answer=answer,
            expected_route=spec.expect.route,
            route=stored.route,
            reasons=stored.reasons,
            tools=tools,
            calls=stored.calls,
            failures=grade_turn(number, spec.expect, seen, self.judge, protected),
        )


async def run_cases(
    runner: CaseRunner,
    suites: list[Suite],
    concurrency: int,
    progress: Callable[[CaseResult], None] | None = None,
) -> list[CaseResult]:
    """Every case of the suites, `concurrency` at once; the results in suite and case order."""
    gate = asyncio.Semaphore(concurrency)

    async def one(suite: Suite, case: Case) -> CaseResult:
        async with gate:
            result = await runner.run(suite, case)
        if progress is not None:
            progress(result)
        return result

    tasks = [asyncio.create_task(one(s, c)) for s in suites for c in s.cases]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()


def build_runner(
    settings: Settings,
    shop: Shop,
    who: dict[tuple[str, str], CaseAsker],
    mode: TierMode,
    rounds: CaseRounds | None = None,
    call_scope: ContextVar[str] | None = None,
) -> CaseRunner:
    """Services on the run's settings (`run_settings`), every adapter recording its tool
    calls (around `--batch`'s wrap, if any); the judge from the prompt they answer with."""
    sender = CapturingSender()
    known = {a.user_id: a.email for a in who.values() if a.email}
    factory = ModelFactory(settings, wrap=recording(rounds.wrap if rounds else None))
    services = build_services(settings, None, sender=sender, known_emails=known, models=factory)
    judge = Judge.build(
        canary=services.answerer.canary,
        system_prompt=services.answerer.protected_prompt,
        support_policy=settings.support_policy,
        article_urls=shop.article_urls,
        routed=mode == TierMode.ROUTED,
    )
    return CaseRunner(services, sender, judge, shop, who, rounds, call_scope)


async def run_eval(
    settings: Settings,
    suites: list[Suite],
    mode: TierMode,
    *,
    concurrency: int,
    shop: Shop,
    batch: BatchPlug | None = None,
    progress: Callable[[CaseResult], None] | None = None,
) -> tuple[Settings, list[CaseResult]]:
    """Run every case on a throwaway database holding `shop`; the settings it ran with and
    the results, in suite and case order."""
    check_against_shop(suites, shop)
    who = askers(suites)
    leads = [a.user_id for a in who.values() if a.lead]
    async with throwaway_database(shop) as url:
        ran = run_settings(settings, mode, url, shop, leads)
        state, rounds, scope = None, None, None
        if batch is not None:
            state = Database(batch.state_url)
            await state.upgrade()
            rounds, scope = batch.make_rounds(state), batch.call_scope
        runner = build_runner(ran, shop, who, mode, rounds, scope)
        await runner.services.start()
        try:
            results = await run_cases(runner, suites, concurrency, progress)
        finally:
            await runner.services.close()
            if rounds is not None:
                await rounds.close()
            if state is not None:
                await state.close()
    return ran, results
