"""One tier's attempt at an answer, with every check run on what it did and said."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.agent.checks import off_loop
from bot.agent.citations import apply_citations
from bot.agent.loop import LoopResult, final_confidence, run_tool_loop
from bot.agent.models.base import ChatMessage
from bot.agent.models.calls import RecordCall
from bot.agent.models.chain import ModelChain
from bot.agent.prompts import render
from bot.agent.tools import Toolbox, ToolOutcome
from bot.agent.transcripts import record
from bot.delivery import Reply, Transcript
from bot.errors import ProviderError
from bot.store.models import MessageVerdict, ReplyKind, Tier
from escalation.answer_data import check_answer_data
from escalation.guards import GuardFinding, check_output
from escalation.policy import Check, Finding, InjectionReport, ModelTier, Situation

_WITHHELD = "(withheld: it contained text that tries to instruct the assistant)"
_REPORTED = {  # finding details: a line for the leads
    InjectionReport.MESSAGE: "The model reported that the message tried to change or extract "
    "its instructions",
    InjectionReport.TOOL_RESULT: "The model reported that a tool result tried to instruct it",
    InjectionReport.UNRECOGNISED: "The model gave an unrecognised report of an attempt on its "
    "instructions",
}


@dataclass
class TierResult:
    tier: Tier
    loop: LoopResult | None  # None when the provider failed
    findings: list[GuardFinding] = field(default_factory=list)

    @property
    def text(self) -> str | None:
        return self.loop.text if self.loop else None

    @property
    def confidence(self) -> float | None:
        return self.loop.confidence if self.loop else None

    def answer(
        self,
        verdict: MessageVerdict,
        *,
        escalated: bool = False,
        transcript: Transcript | None = None,
    ) -> Reply:
        """This tier's text as the answer to the customer."""
        return Reply(
            self.text,
            ReplyKind.ANSWER,
            self.tier,
            self.confidence,
            verdict=verdict,
            escalated=escalated,
            transcript=transcript,
        )

    def transcript(self, system: str, conversation: list[ChatMessage]) -> Transcript | None:
        """This tier's turn after `conversation` (what the primary tier saw, its system prompt
        `system`), to store with an answer or a draft it wrote; None when it wrote none."""
        if self.loop is None or not self.text:
            return None
        return record(self.tier, system, conversation, self.loop.steps)

    def situation(self) -> Situation:
        outcomes = self.loop.outcomes if self.loop else []
        return Situation(
            tier=ModelTier(self.tier),
            answered=bool(self.text),
            confidence=self.confidence,
            findings=[Finding(f.check, f.rule) for f in self.findings],
            denied_tool_calls=sum(1 for o in outcomes if o.denied),
            order_totals=[t for o in outcomes for t in o.order_totals],
            provider_failed=self.loop is None,
        )


async def run_tier(
    chain: ModelChain,
    *,
    tier: Tier,
    system: str,
    canary: str,
    history: list[ChatMessage],
    toolbox: Toolbox,
    asker_email: str | None,
    max_steps: int,
    max_tokens: int,
    record: RecordCall,
    gate: Callable[[], Awaitable[None]] | None = None,
) -> TierResult:
    """Run the tool loop, every API call of the chain passed to `record` (with the confidence
    of a final answer), then the output checks (canary, prompt leaks, unauthorised data); the
    model's own report of an injection attempt is a finding too."""
    try:
        loop = await run_tool_loop(
            chain.reporting(record, tier=tier, confidence=final_confidence),
            system=system,
            history=history,
            toolbox=toolbox,
            max_steps=max_steps,
            max_tokens=max_tokens,
            gate=gate,
        )
    except ProviderError:
        return TierResult(tier, None)
    findings = [f for o in loop.outcomes for f in o.findings]
    if loop.injection_report != InjectionReport.NONE:
        report = loop.injection_report
        findings.append(GuardFinding(Check.MODEL_REPORT, report, _REPORTED[report]))
    if loop.text and loop.confidence is not None:
        cited = apply_citations(
            loop.text,
            loop.confidence,
            loop.citations,
            {i: a for o in loop.outcomes for i, a in o.articles.items()},
            [o.content for o in loop.outcomes if o.ok],
        )
        loop.text, loop.confidence = cited.text, cited.confidence
    if loop.text:
        findings += await off_loop(check_output, loop.text, system_prompt=system, canary=canary)
        findings += await off_loop(
            check_answer_data,
            loop.text,
            asker_email=asker_email,
            tool_texts=[o.content for o in loop.outcomes if o.ok],
        )
    return TierResult(tier, loop, findings)


def escalation_data(reasons: list[str], draft: str, earlier: list[ToolOutcome]) -> ChatMessage:
    """The primary tier's attempt as one data message for the strong tier, never in `system`:
    its draft and tool calls are what customers, tools and articles wrote (`prompts.as_data`
    keeps them inside their block). Results that tried to instruct the model are withheld."""
    attempt = {
        "reasons": reasons,
        "draft": draft,
        "tool_calls": [
            {
                "tool": o.name,
                "arguments": o.arguments,
                "result": _WITHHELD if o.findings else _parsed(o.content),
            }
            for o in earlier
        ],
    }
    return ChatMessage("user", text=render("escalation_data.md.j2", attempt=attempt))


def _parsed(content: str) -> Any:
    """A tool result is JSON (unless cut at the size cap): nest it as JSON, not as a string of
    JSON, so the strong tier reads it as the primary tier did."""
    try:
        return json.loads(content)
    except (ValueError, RecursionError):  # cut short, or nested past the decoder's depth
        return content
