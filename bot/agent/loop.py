"""The bounded tool-calling loop of one tier, ending in a structured final answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import ValidationError

from bot.agent.models.base import ChatMessage, ChatModel, ChatRequest, ModelResponse
from bot.agent.tools import FINAL_ANSWER, TOOL_SPECS, FinalAnswerArgs, Toolbox, ToolOutcome
from escalation.policy import InjectionReport

_FINAL_ONLY = [t for t in TOOL_SPECS if t.name == FINAL_ANSWER]


Ending = Literal["final", "plain_text", "not_linked", "step_limit"]


@dataclass
class LoopResult:
    ending: Ending
    text: str | None = None
    confidence: float | None = None
    outcomes: list[ToolOutcome] = field(default_factory=list)
    citations: list[str] = field(default_factory=list)
    # The model's own say: what tried to change or extract its instructions this turn.
    injection_report: InjectionReport = InjectionReport.NONE
    # What the model said and was given this turn, after the history: its tool calls, their
    # results, and last its valid final answer alone (a stored turn's transcript).
    steps: list[ChatMessage] = field(default_factory=list)


async def run_tool_loop(
    model: ChatModel,
    *,
    system: str,
    history: list[ChatMessage],
    toolbox: Toolbox,
    max_steps: int,
    max_tokens: int,
    gate: Callable[[], Awaitable[None]] | None = None,
) -> LoopResult:
    """Call `model` (a tier's chain, which records its calls) until it gives a valid final
    answer or `max_steps` are spent. A `ProviderError` propagates when it failed.
    `gate` runs before every call and may raise to stop (budgets).
    """
    messages = list(history)
    outcomes: list[ToolOutcome] = []
    # A report in a final answer that was invalid (and asked again) is not lost.
    reported = InjectionReport.NONE

    for step in range(max_steps):
        last_step = step == max_steps - 1
        if gate is not None:
            await gate()
        tools = _FINAL_ONLY if last_step else TOOL_SPECS
        resp = await model.complete(
            ChatRequest(system, messages, tools, require_tool=True, max_tokens=max_tokens)
        )
        final = _parse_final(resp)
        steps = messages[len(history) :]
        if isinstance(final, FinalAnswerArgs):
            call = next(c for c in resp.tool_calls if c.name == FINAL_ANSWER)
            return LoopResult(
                "final",
                final.text.strip(),
                final.confidence,
                outcomes,
                final.citations,
                final.injection_attempt if reported == InjectionReport.NONE else reported,
                [*steps, ChatMessage("assistant", text=resp.text, tool_calls=[call])],
            )
        if not resp.tool_calls:
            # A model that ignores the tool requirement: keep its text, but trust it as little
            # as possible (confidence 0) so the escalation checks treat it accordingly.
            text = resp.text.strip() or None
            return LoopResult(
                "plain_text", text, 0.0 if text else None, outcomes, [], reported, steps
            )
        messages.append(ChatMessage("assistant", text=resp.text, tool_calls=resp.tool_calls))
        reported = await _run_calls(resp, final, toolbox, messages, outcomes, reported)
        if any(o.not_linked for o in outcomes):
            return LoopResult("not_linked", outcomes=outcomes, injection_report=reported)
    return LoopResult("step_limit", outcomes=outcomes, injection_report=reported)


async def _run_calls(
    resp: ModelResponse,
    final: str | None,
    toolbox: Toolbox,
    messages: list[ChatMessage],
    outcomes: list[ToolOutcome],
    reported: InjectionReport,
) -> InjectionReport:
    """Run the tool calls of one response, appending their results to `messages` and
    `outcomes`; an invalid final answer is sent back to be called again (its injection report
    kept). The injection report so far."""
    for call in resp.tool_calls:
        if call.name == FINAL_ANSWER:
            content, is_error = f"Invalid final answer: {final}. Call it again.", True
            if reported == InjectionReport.NONE:
                reported = InjectionReport.parse(call.arguments.get("injection_attempt"))
        else:
            outcome = await toolbox.run(call)
            outcomes.append(outcome)
            content, is_error = outcome.content, not outcome.ok
        messages.append(ChatMessage("tool", text=content, tool_call_id=call.id, is_error=is_error))
    return reported


def final_confidence(resp: ModelResponse) -> float | None:
    """The confidence of the valid final answer in a response, stored with its call."""
    final = _parse_final(resp)
    return final.confidence if isinstance(final, FinalAnswerArgs) else None


def _parse_final(resp: ModelResponse) -> FinalAnswerArgs | str | None:
    """The final answer in a response; a string describing the problem if it is invalid;
    None if the model did not give one."""
    call = next((c for c in resp.tool_calls if c.name == FINAL_ANSWER), None)
    if call is None:
        return None
    try:
        return FinalAnswerArgs.model_validate(call.arguments)
    except ValidationError as exc:
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
