"""The escalation decision: a pure function from what happened to what to do next.

No model, no database, no Slack: every path is tested with plain values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class Decision(StrEnum):
    ANSWER = "answer"
    STRONG = "strong"  # let the strong tier answer instead
    HUMAN = "human"  # hand the thread to a support lead


class ModelTier(StrEnum):
    """The model tiers the policy routes between. The values are bot's stored tiers' (a
    `bot.store.models.Tier` converts with `ModelTier(tier)`): escalation/ does not import bot/."""

    PRIMARY = "primary"
    STRONG = "strong"


class Reason(StrEnum):
    LOW_CONFIDENCE = "low_confidence"
    NO_ANSWER = "no_answer"
    INJECTION = "injection"
    TOOL_OUTPUT_INJECTION = "tool_output_injection"
    OUTPUT_LEAK = "output_leak"
    UNAUTHORIZED_DATA = "unauthorized_data"
    DENIED_AUTHORIZATION = "denied_authorization"
    CUSTOMER_REQUEST = "customer_request"
    REPEATED_COMPLAINT = "repeated_complaint"
    HIGH_VALUE_ORDER = "high_value_order"
    STRONG_NOT_ENOUGH = "strong_not_enough"
    PROVIDER_FAILURE = "provider_failure"
    BUDGET = "budget"


class Check(StrEnum):
    """Which check made a finding: the guards on the customer's message, on a tool's output and
    on an answer, or the model's own report (its rule is an `InjectionReport`)."""

    INPUT = "input"
    TOOL_OUTPUT = "tool_output"
    OUTPUT = "output"
    MODEL_REPORT = "model_report"


class InjectionReport(StrEnum):
    """The model's own say in its final answer: what tried to change or extract its
    instructions in this turn, if anything."""

    NONE = "none"
    MESSAGE = "message"  # the customer's message
    TOOL_RESULT = "tool_result"  # a tool result (or, for the strong tier, the escalation data)
    UNRECOGNISED = "unrecognised"  # a value the model made up; never offered to it

    @classmethod
    def parse(cls, value: object) -> InjectionReport:
        """A missing value is NONE; any value that is not one of those offered to the model
        is UNRECOGNISED, which the policy reads as strictly as MESSAGE: a report that cannot
        be read is not taken for "nothing happened"."""
        if value is None:
            return cls.NONE
        if isinstance(value, str):
            word = value.strip().lower()
            for member in (cls.NONE, cls.MESSAGE, cls.TOOL_RESULT):
                if word == member.value:
                    return member
        return cls.UNRECOGNISED


# Output-check rules that mean the answer shows data or text the customer may not see.
# An answer too long to check whole ("unchecked_text") is not sent unread.
LEAK_RULES = {"canary_leak", "system_prompt_leak", "unchecked_text"}
DATA_RULES = {"foreign_email", "unverified_identifier"}


@dataclass(frozen=True)
class PolicyConfig:
    confidence_threshold: float = 0.7
    high_value_order: Decimal | None = None  # an order above this goes to a person
    complaints_before_human: int = 2


@dataclass(frozen=True)
class Finding:
    """A failed check as the policy sees it (`escalation.guards.GuardFinding` fits)."""

    check: str  # a Check (stored findings come back as text)
    rule: str


@dataclass(frozen=True)
class Situation:
    """Everything the decision depends on, for one answer of one tier."""

    tier: ModelTier
    answered: bool = True
    confidence: float | None = None
    findings: Sequence[Finding] = ()
    denied_tool_calls: int = 0  # lookups of another customer's order, refused
    order_totals: Sequence[Decimal] = ()
    asked_for_human: bool = False
    complaints: int = 0  # messages in this thread saying the bot was wrong, this one included
    provider_failed: bool = False


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    reasons: tuple[Reason, ...] = field(default_factory=tuple)


def _says_message_injected(f: Finding) -> bool:
    """The input check flagged the message, or the model reported that the message tried to
    change or extract its instructions (any report but a tool result's)."""
    if f.check == Check.MODEL_REPORT:
        return f.rule not in (InjectionReport.NONE, InjectionReport.TOOL_RESULT)
    return f.check == Check.INPUT


def before_model(s: Situation, cfg: PolicyConfig) -> Verdict | None:
    """Checks on the customer's message alone: a verdict means no (further) model is asked.

    Before any model this is the input check; after a tier, the model's own report on the
    message counts the same.
    """
    reasons: list[Reason] = []
    if any(_says_message_injected(f) for f in s.findings):
        reasons.append(Reason.INJECTION)
    if s.asked_for_human:
        reasons.append(Reason.CUSTOMER_REQUEST)
    if s.complaints >= cfg.complaints_before_human:
        reasons.append(Reason.REPEATED_COMPLAINT)
    return Verdict(Decision.HUMAN, tuple(reasons)) if reasons else None


def decide(s: Situation, cfg: PolicyConfig) -> Verdict:
    """Answer, escalate to the strong tier, or hand to a person, with the reasons why.

    A denied lookup (someone else's order) never changes the decision: the asker sees the
    same reply, cost and time as for an order that does not exist. When the case goes to a
    person anyway, `denied_authorization` is among its reasons, for the leads.
    """
    verdict = _route(s, cfg)
    if verdict.decision == Decision.HUMAN and s.denied_tool_calls:
        return Verdict(Decision.HUMAN, (*verdict.reasons, Reason.DENIED_AUTHORIZATION))
    return verdict


def _route(s: Situation, cfg: PolicyConfig) -> Verdict:
    early = before_model(s, cfg)
    if early is not None:
        return early
    human: list[Reason] = []
    if cfg.high_value_order is not None and any(t > cfg.high_value_order for t in s.order_totals):
        human.append(Reason.HIGH_VALUE_ORDER)

    failed: list[Reason] = []
    if s.provider_failed:
        failed.append(Reason.PROVIDER_FAILURE)
    elif not s.answered:
        failed.append(Reason.NO_ANSWER)
    elif s.confidence is None or s.confidence < cfg.confidence_threshold:
        failed.append(Reason.LOW_CONFIDENCE)
    rules = {f.rule for f in s.findings if f.check == Check.OUTPUT}
    if rules & LEAK_RULES:
        failed.append(Reason.OUTPUT_LEAK)
    if rules & DATA_RULES:
        failed.append(Reason.UNAUTHORIZED_DATA)
    if any(
        f.check == Check.TOOL_OUTPUT
        or (f.check == Check.MODEL_REPORT and f.rule == InjectionReport.TOOL_RESULT)
        for f in s.findings
    ):
        failed.append(Reason.TOOL_OUTPUT_INJECTION)

    if human:
        return Verdict(Decision.HUMAN, tuple(human + failed))
    if not failed:
        return Verdict(Decision.ANSWER)
    if s.tier == ModelTier.PRIMARY:
        return Verdict(Decision.STRONG, tuple(failed))
    return Verdict(Decision.HUMAN, (Reason.STRONG_NOT_ENOUGH, *failed))
