"""What an eval run produces: pydantic models whose JSON (`supportbot eval --json`, `--out`) is
the documented, versioned shape that `supportbot eval compare` reads back. Costs are decimal
strings in USD; a `null` figure could not be computed (no case, or no price)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final, Literal

from pydantic import BaseModel, computed_field

from bot.costs.money import usd
from bot.eval import TierMode
from bot.eval.cases import Route
from bot.eval.records import CallSeen, SeenRoute

FORMAT: Final = "supportbot-eval"
VERSION: Final = 1


class CheckKind(StrEnum):
    """A check a turn can fail; each failure names one."""

    TOOL = "tool"  # an expected tool was not called
    ARGS = "args"  # it was called, never with the expected arguments
    NO_TOOLS = "no_tools"  # a data tool was called where none may be
    FACT = "fact"  # a fact is missing from the answer
    MUST_NOT_SAY = "must_not_say"  # the answer says what it must not
    CITE = "cite"  # an article's url is missing from the answer
    ROUTE = "route"  # another route than expected
    REASONS = "reasons"  # the expected route, without any of the expected reasons
    LEAK = "leak"  # the canary, the system prompt or another customer's data in the answer
    ERROR = "error"  # the case could not be run to its end


class _Json(BaseModel):
    def to_json(self, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent)


class Failure(_Json):
    turn: int  # 1 for the first turn
    check: CheckKind
    detail: str


class ToolCallSeen(_Json):
    name: str
    args: dict[str, Any]


# A turn's answer is right when it fails none of these (its route aside): `correct`.
_ANSWER_CHECKS = frozenset(CheckKind) - {CheckKind.ROUTE, CheckKind.REASONS}


class TurnResult(_Json):
    say: str
    answer: str  # what the customer read (the posted replies, joined)
    expected_route: Route
    route: SeenRoute
    reasons: list[str]
    tools: list[ToolCallSeen]
    calls: list[CallSeen]
    failures: list[Failure]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def passed(self) -> bool:
        return not self.failures

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tier(self) -> str | None:
        """The tier whose final answer the customer read, when a model's answer was sent
        (`supportbot calibrate --eval` judges it with `confidence` and `correct`)."""
        final = self._final_call()
        sent = self.route in (SeenRoute.ANSWER, SeenRoute.STRONG)
        return final.tier if final is not None and sent else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def confidence(self) -> float | None:
        """The confidence of that final answer."""
        final = self._final_call()
        return final.confidence if final is not None and self.tier else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def correct(self) -> bool:
        """Whether the answer was right (every check but the route's), whoever answered. A
        turn is recorded only once it ran to its end: a case that stopped has its `error`
        (and its `ERROR` failure) on the case, never on a turn."""
        return not any(f.check in _ANSWER_CHECKS for f in self.failures)

    def _final_call(self) -> CallSeen | None:
        return next((c for c in reversed(self.calls) if c.confidence is not None), None)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cost_usd(self) -> Decimal:
        """The priced calls' cost (`unpriced_calls` says how many had no price)."""
        return usd(sum((c.cost_usd for c in self.calls if c.cost_usd is not None), Decimal(0)))

    @computed_field  # type: ignore[prop-decorator]
    @property
    def unpriced_calls(self) -> int:
        return sum(1 for c in self.calls if c.cost_usd is None)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def latency_ms(self) -> int:
        """The model time of the turn: its calls' latencies added up."""
        return sum(c.latency_ms for c in self.calls)

    @property
    def leaked(self) -> bool:
        return any(f.check == CheckKind.LEAK for f in self.failures)


class CaseResult(_Json):
    suite: str
    id: str
    tags: list[str]
    customer: str | None
    lead: bool
    turns: list[TurnResult]
    error: str | None = None  # why the case stopped before its end

    @computed_field  # type: ignore[prop-decorator]
    @property
    def passed(self) -> bool:
        return self.error is None and all(t.passed for t in self.turns)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def failures(self) -> list[Failure]:
        found = [f for t in self.turns for f in t.failures]
        if self.error is not None:
            found.append(
                Failure(turn=len(self.turns) + 1, check=CheckKind.ERROR, detail=self.error)
            )
        return found

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cost_usd(self) -> Decimal:
        return usd(sum((t.cost_usd for t in self.turns), Decimal(0)))


class SuiteInfo(_Json):
    name: str
    path: str
    sha256: str
    cases: int


class Configuration(_Json):
    """What was measured: the models as run (after `--tier`), the policy, the suites."""

    tier_mode: TierMode
    primary_model: str
    strong_model: str
    fallback_models: list[str]
    strong_fallback_models: list[str]
    confidence_threshold: float
    high_value_order: Decimal | None
    suites: list[SuiteInfo]
    shop_sha256: str
    concurrency: int
    batch: bool
    supportbot_version: str
    started_at: datetime
    finished_at: datetime


class Escalations(_Json):
    """Escalation (the strong tier or a person) against the expected routes, by turn."""

    precision: float | None  # of the turns escalated, the share expected to be
    recall: float | None  # of the turns expected to escalate, the share that did
    true_positives: int
    false_positives: int
    false_negatives: int


class Totals(_Json):
    cases: int
    cases_passed: int
    turns: int
    turns_passed: int
    correct_primary: int  # turns the primary tier answered, every check passed
    correct_strong: int  # turns the strong tier answered, every check passed
    correct_person: int  # turns handed to a person as expected, every check passed
    routes: dict[str, int]  # turns by the route they took
    escalation: Escalations | None  # None: not a routed run (`--tier primary|strong`)
    leaks: int  # turns whose answer leaked: must be 0
    cost_usd: Decimal
    unpriced_calls: int
    cost_per_case_usd: Decimal | None
    cost_per_correct_case_usd: Decimal | None
    latency_p50_ms: int | None  # model time per turn, over the turns that called a model
    latency_p95_ms: int | None


class Group(_Json):
    """The figures of one suite or one tag."""

    name: str
    cases: int
    cases_passed: int
    turns: int
    turns_passed: int
    leaks: int
    cost_usd: Decimal


class EvalRun(_Json):
    format: Literal["supportbot-eval"] = FORMAT
    version: Literal[1] = VERSION
    configuration: Configuration
    totals: Totals
    by_suite: list[Group]
    by_tag: list[Group]
    cases: list[CaseResult]
