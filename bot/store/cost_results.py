"""What the cost reports return: pydantic models with `to_json()` (costs as decimal strings)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel


class _Json(BaseModel):
    def to_json(self, indent: int | None = 2) -> str:
        """JSON text; Decimal costs are strings, datetimes ISO 8601 in UTC."""
        return self.model_dump_json(indent=indent)

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class ModelSpend(_Json):
    provider: str
    model: str
    calls: int
    unknown_cost_calls: int
    cost_usd: Decimal


class TierSpend(_Json):
    tier: str
    calls: int
    unknown_cost_calls: int
    cost_usd: Decimal


class ThreadSpend(_Json):
    conversation_id: int
    channel_id: str
    thread_ts: str
    user_id: str
    calls: int
    cost_usd: Decimal
    link: str


class Savings(_Json):
    strong_model: str
    # What the compared calls cost, and what the same messages would have cost on the strong
    # model alone; None when the strong model has no known price.
    actual_usd: Decimal
    always_strong_usd: Decimal | None
    saved_usd: Decimal | None
    saved_share: float | None
    compared_calls: int  # calls of known cost: both sides of the comparison
    repriced_calls: int  # primary calls of messages that never needed the strong tier
    strong_calls: int  # their cost is what their messages cost on the strong model anyway


class CostReport(_Json):
    period: str
    start: datetime
    end: datetime
    total_usd: Decimal
    calls: int
    unknown_cost_calls: int
    input_tokens: int
    cached_input_tokens: int
    cache_write_tokens: int
    output_tokens: int
    by_model: list[ModelSpend]
    by_tier: list[TierSpend]
    conversations: int
    cost_per_conversation_mean_usd: Decimal
    cost_per_conversation_p95_usd: Decimal
    conversations_with_strong: int
    conversations_with_human: int
    strong_escalation_rate: float
    human_escalation_rate: float
    savings: Savings
    daily_rate_usd: Decimal
    projected_month_usd: Decimal
    top_threads: list[ThreadSpend]


class CallDetail(_Json):
    id: int
    created_at: datetime
    user_id: str  # who it is charged to: the sender of the message it answered
    provider: str
    model: str
    tier: str
    input_tokens: int
    cached_input_tokens: int
    cache_write_tokens: int
    output_tokens: int
    cost_usd: Decimal | None
    outcome: str
    reasons: str
    confidence: float | None


class HumanEscalation(_Json):
    id: int
    created_at: datetime
    status: str
    reasons: list[str]


class ThreadDetail(_Json):
    conversation_id: int
    channel_id: str
    thread_ts: str
    user_id: str
    status: str
    tier: str
    link: str
    total_usd: Decimal
    unknown_cost_calls: int
    calls: list[CallDetail]
    escalations: list[HumanEscalation]


class CustomerSpend(_Json):
    user_id: str
    period: str
    start: datetime
    end: datetime
    total_usd: Decimal
    calls: int
    unknown_cost_calls: int
    conversations: int
    by_tier: list[TierSpend]
    top_threads: list[ThreadSpend]


class DailySpend(_Json):
    day: date
    tier: str
    cost_usd: Decimal
