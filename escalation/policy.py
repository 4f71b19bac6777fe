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


# Output-check rules that mean the answer shows data or text the customer may not see.
# An answer too long to check whole ("unchecked_text") is not sent unread.
_LEAK_RULES = {"canary_leak", "system_prompt_leak", "unchecked_text"}
_DATA_RULES = {"foreign_email", "unverified_identifier"}


@dataclass(frozen=True)
class PolicyConfig:
    confidence_threshold: float = 0.7
    high_value_order: Decimal | None = None  # an order above this goes to a person
    complaints_before_human: int = 2


@dataclass(frozen=True)
class Finding:
    """A failed check as the policy sees it (`escalation.guards.GuardFinding` fits)."""

    check: str  # input | tool_output | output
    rule: str


@dataclass(frozen=True)
class Situation:
    """Everything the decision depends on, for one answer of one tier."""

    tier: str  # primary | strong
    answered: bool = True
    confidence: float | None = None
    findings: Sequence[Finding] = ()
    denied_tool_calls: int = 0
    order_totals: Sequence[Decimal] = ()
    asked_for_human: bool = False
    complaints: int = 0  # messages in this thread saying the bot was wrong, this one included
    provider_failed: bool = False


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    reasons: tuple[Reason, ...] = field(default_factory=tuple)


def before_model(s: Situation, cfg: PolicyConfig) -> Verdict | None:
    """Checks on the customer's message alone: a verdict means no model is asked at all."""
    reasons: list[Reason] = []
    if any(f.check == "input" for f in s.findings):
        reasons.append(Reason.INJECTION)
    if s.asked_for_human:
        reasons.append(Reason.CUSTOMER_REQUEST)
    if s.complaints >= cfg.complaints_before_human:
        reasons.append(Reason.REPEATED_COMPLAINT)
    return Verdict(Decision.HUMAN, tuple(reasons)) if reasons else None


def decide(s: Situation, cfg: PolicyConfig) -> Verdict:
    """Answer, escalate to the strong tier, or hand to a person, with the reasons why."""
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
    rules = {f.rule for f in s.findings if f.check == "output"}
    if rules & _LEAK_RULES:
        failed.append(Reason.OUTPUT_LEAK)
    if rules & _DATA_RULES:
        failed.append(Reason.UNAUTHORIZED_DATA)
    if any(f.check == "tool_output" for f in s.findings):
        failed.append(Reason.TOOL_OUTPUT_INJECTION)
    if s.denied_tool_calls and s.tier == "primary":
        # The strong tier re-checks a denied lookup; it is not handed to a person for the
        # denial alone, because a handoff would tell the asker that the order exists.
        failed.append(Reason.DENIED_AUTHORIZATION)

    if human:
        return Verdict(Decision.HUMAN, tuple(human + failed))
    if not failed:
        return Verdict(Decision.ANSWER)
    if s.tier == "primary":
        return Verdict(Decision.STRONG, tuple(failed))
    return Verdict(Decision.HUMAN, (Reason.STRONG_NOT_ENOUGH, *failed))
