"""A model call as it is stored and counted: one per API call, failed ones too."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from bot.agent.models.base import TokenUsage
from bot.errors import ProviderFailure
from bot.store.models import Tier

# How a call ended: "ok", or the kind of its failure.
CallOutcome = Literal["ok"] | ProviderFailure


@dataclass(frozen=True)
class CallRecord:
    """One API call as it will be stored: who, how many tokens, how long, how it ended."""

    provider: str
    model: str
    tier: Tier
    usage: TokenUsage
    usage_raw: dict[str, Any]
    latency_ms: int
    outcome: CallOutcome
    stop_reason: str = ""
    confidence: float | None = None
    batch: bool = False  # answered through a Batch API: priced at the batch price


RecordCall = Callable[[CallRecord], Awaitable[None]]
