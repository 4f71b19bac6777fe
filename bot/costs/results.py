"""What the cost reports return: pydantic models with `to_json()` (costs as decimal strings)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict

from bot.costs.money import usd
from bot.slack_links import thread_url
from bot.store.models import ConversationStatus, EscalationStatus, Tier


def _utc(moment: datetime) -> datetime:
    """SQLite hands timestamps back naive; they are UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# A stored call's time and cost, read straight from its row.
_StoredTime = Annotated[datetime, AfterValidator(_utc)]
_StoredCost = Annotated[Decimal, AfterValidator(usd)]


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
    tier: Tier
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


class _PeriodSpend(_Json):
    """What a period's calls cost: the figures a period report and a customer's spend share."""

    period: str
    start: datetime
    end: datetime
    total_usd: Decimal
    calls: int
    unknown_cost_calls: int


class CostReport(_PeriodSpend):
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
    """One model call; `CallDetail.model_validate(row)` reads a `model_call` row."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: _StoredTime
    user_id: str  # who it is charged to: the sender of the message it answered
    provider: str
    model: str
    tier: Tier
    input_tokens: int
    cached_input_tokens: int
    cache_write_tokens: int
    output_tokens: int
    cost_usd: _StoredCost | None
    outcome: str
    reasons: str
    confidence: float | None


class HumanEscalation(_Json):
    id: int
    created_at: _StoredTime
    status: EscalationStatus
    reasons: list[str]


class ThreadDetail(_Json):
    conversation_id: int
    channel_id: str
    thread_ts: str
    user_id: str
    status: ConversationStatus
    tier: Tier
    link: str
    total_usd: Decimal
    unknown_cost_calls: int
    calls: list[CallDetail]
    escalations: list[HumanEscalation]


class CustomerSpend(_PeriodSpend):
    user_id: str
    conversations: int
    by_tier: list[TierSpend]
    top_threads: list[ThreadSpend]


class DailySpend(_Json):
    day: date
    tier: Tier
    cost_usd: Decimal


def thread_spend(row: Any, user_id: str) -> ThreadSpend:
    """A thread's spend from a row of its conversation id (`cid`), channel, thread ts, calls and
    cost, charged to `user_id`."""
    return ThreadSpend(
        conversation_id=row.cid,
        channel_id=row.channel_id,
        thread_ts=row.thread_ts,
        user_id=user_id,
        calls=row.calls,
        cost_usd=usd(row.cost),
        link=thread_url(row.channel_id, row.thread_ts),
    )


def by_tier(rows: Iterable[tuple[str, int, int, Any]]) -> list[TierSpend]:
    """Spend by tier from (tier, calls, calls of unknown cost, cost), the costliest first."""
    tiers = (
        TierSpend(tier=tier, calls=calls, unknown_cost_calls=unknown, cost_usd=usd(cost))
        for tier, calls, unknown, cost in rows
    )
    return sorted(tiers, key=lambda x: (-x.cost_usd, x.tier))
