"""The bounded tool-calling loop of one tier, ending in a structured final answer."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError

from bot.agent.models.base import ChatMessage, ChatModel, TokenUsage
from bot.agent.tools import FINAL_ANSWER, TOOL_SPECS, FinalAnswerArgs, Toolbox, ToolOutcome
from bot.errors import ProviderError

_FINAL_ONLY = [t for t in TOOL_SPECS if t.name == FINAL_ANSWER]


@dataclass(frozen=True)
class CallRecord:
    """One API call as it will be stored: who, how many tokens, how long, how it ended."""

    provider: str
    model: str
    tier: str
    usage: TokenUsage
    usage_raw: dict[str, Any]
    latency_ms: int
    outcome: str
    stop_reason: str = ""
    confidence: float | None = None


RecordCall = Callable[[CallRecord], Awaitable[None]]
Ending = Literal["final", "plain_text", "not_linked", "step_limit"]


@dataclass
class LoopResult:
    ending: Ending
    text: str | None = None
    confidence: float | None = None
    outcomes: list[ToolOutcome] = field(default_factory=list)


async def run_tool_loop(
    model: ChatModel,
    *,
    tier: str,
    system: str,
    history: list[ChatMessage],
    toolbox: Toolbox,
    max_steps: int,
    max_tokens: int,
    record: RecordCall,
) -> LoopResult:
    """Call the model until it gives a valid final answer or `max_steps` calls are spent.

    Every call is passed to `record` as soon as it returns (or fails). A `ProviderError`
    propagates after being recorded.
    """
    messages = list(history)
    outcomes: list[ToolOutcome] = []
    for step in range(max_steps):
        last_step = step == max_steps - 1
        started = time.perf_counter()
        try:
            resp = await model.complete(
                system=system,
                messages=messages,
                tools=_FINAL_ONLY if last_step else TOOL_SPECS,
                require_tool=True,
                max_tokens=max_tokens,
            )
        except ProviderError as exc:
            latency = int((time.perf_counter() - started) * 1000)
            await record(
                CallRecord(model.provider, model.name, tier, TokenUsage(), {}, latency, exc.kind)
            )
            raise
        latency = int((time.perf_counter() - started) * 1000)
        final_call = next((c for c in resp.tool_calls if c.name == FINAL_ANSWER), None)
        final: FinalAnswerArgs | None = None
        problem = ""
        if final_call is not None:
            try:
                final = FinalAnswerArgs.model_validate(final_call.arguments)
            except ValidationError as exc:
                problem = "; ".join(
                    f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
                )
        await record(
            CallRecord(
                model.provider,
                model.name,
                tier,
                resp.usage,
                resp.usage_raw,
                latency,
                "ok",
                resp.stop_reason,
                final.confidence if final else None,
            )
        )
        if final is not None:
            return LoopResult("final", final.text.strip(), final.confidence, outcomes)
        if not resp.tool_calls:
            # A model that ignores the tool requirement: keep its text, but trust it as little
            # as possible (confidence 0) so the escalation checks treat it accordingly.
            text = resp.text.strip() or None
            return LoopResult("plain_text", text, 0.0 if text else None, outcomes)
        messages.append(ChatMessage("assistant", text=resp.text, tool_calls=resp.tool_calls))
        for call in resp.tool_calls:
            if call.name == FINAL_ANSWER:
                content, is_error = f"Invalid final answer: {problem}. Call it again.", True
            else:
                outcome = await toolbox.run(call)
                outcomes.append(outcome)
                content, is_error = outcome.content, not outcome.ok
            messages.append(
                ChatMessage("tool", text=content, tool_call_id=call.id, is_error=is_error)
            )
        if any(o.not_linked for o in outcomes):
            return LoopResult("not_linked", outcomes=outcomes)
    return LoopResult("step_limit", outcomes=outcomes)
