"""A model call as it is stored and counted: one per API call, failed ones too."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.agent.models.base import TokenUsage


@dataclass(frozen=True)
class CallRecord:
    """One API call as it will be stored: who, how many tokens, how long, how it ended."""

    provider: str
    model: str
    tier: str
    usage: TokenUsage
    usage_raw: dict[str, Any]
    latency_ms: int
    outcome: str  # "ok", or the error kind of a failed call
    stop_reason: str = ""
    confidence: float | None = None


RecordCall = Callable[[CallRecord], Awaitable[None]]
