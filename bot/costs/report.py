"""The period report: spend, calls and tokens by model and tier, conversations and their cost,
escalation rates, savings against always-strong, the projected month, the priciest threads.

Savings are computed from recorded usage, never assumed: for each inbound message, if the strong
tier was called, its always-strong cost is what its strong calls cost; otherwise the recorded
tokens of its primary (and fallback) calls are re-priced at the strong model's prices, price
overrides included. Calls whose cost is unknown are left out of both sides of that comparison.
"""

from __future__ import annotations

import asyncio
import calendar
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from genai_prices.types import ModelPrice

from bot.agent.models.providers import parse_model_ref
from bot.costs.money import usd
from bot.costs.periods import period_window
from bot.costs.results import CostReport, ModelSpend, Savings, by_tier, thread_spend
from bot.costs.statements import by_model_statement, conversations_statement, fetch, in_window
from bot.store.db import Database
from bot.store.models import Tier
from bot.store.pricing import PriceOverrides, flat_price, model_price, price_usage, tier_starts

_MIN_ELAPSED = timedelta(hours=1)  # a rate is not extrapolated from less than this
_TOKENS = ("input", "cached", "cache_write", "output")


@dataclass
class _Sum:
    """Calls, tokens and cost summed over rows: of a model, of a tier, of everything; or of the
    calls to re-price in one strong-price bucket (a row's `r{b}_` columns, which have no cost)."""

    calls: int = 0
    unknown: int = 0
    cost: Decimal = Decimal(0)
    input: int = 0
    cached: int = 0
    cache_write: int = 0
    output: int = 0

    def add(self, row: Any, prefix: str = "") -> None:
        self.calls += int(getattr(row, f"{prefix}calls") or 0)
        for name in _TOKENS:
            setattr(self, name, getattr(self, name) + int(getattr(row, prefix + name) or 0))
        if not prefix:
            self.unknown += int(row.unknown or 0)
            self.cost += usd(row.cost)


@dataclass
class _Tally:
    """The rows by model and tier, summed: by model, by tier, in all; the strong calls; and the
    other calls' tokens by strong-price bucket, to re-price at the strong model."""

    by_model: dict[tuple[str, str], _Sum] = field(default_factory=dict)
    by_tier: dict[str, _Sum] = field(default_factory=dict)
    everything: _Sum = field(default_factory=_Sum)
    strong_cost: Decimal = Decimal(0)
    strong_calls: int = 0
    repriced: dict[int, _Sum] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: Sequence[Any], buckets: int) -> _Tally:
        tally = cls()
        for r in rows:
            for acc in (
                tally.by_model.setdefault((r.provider, r.model), _Sum()),
                tally.by_tier.setdefault(r.tier, _Sum()),
                tally.everything,
            ):
                acc.add(r)
            if r.tier == Tier.STRONG:
                tally.strong_cost += usd(r.cost)
                tally.strong_calls += int(r.priced or 0)
            else:
                for b in range(buckets):
                    tally.repriced.setdefault(b, _Sum()).add(r, f"r{b}_")
        return tally

    def model_spend(self) -> list[ModelSpend]:
        spend = (
            ModelSpend(
                provider=p,
                model=m,
                calls=a.calls,
                unknown_cost_calls=a.unknown,
                cost_usd=usd(a.cost),
            )
            for (p, m), a in self.by_model.items()
        )
        return sorted(spend, key=lambda x: (-x.cost_usd, x.provider, x.model))


def _savings(
    tally: _Tally, strong_model: str, strong_price: ModelPrice | None, starts: list[int]
) -> Savings:
    """Priced calls only, on both sides."""
    actual = usd(tally.everything.cost)
    always: Decimal | None = None
    if strong_price is not None:
        always = tally.strong_cost
        for b, tokens in tally.repriced.items():
            always += price_usage(
                flat_price(strong_price, starts[b - 1] + 1 if b else 0),
                input_tokens=tokens.input,
                cached_input_tokens=tokens.cached,
                cache_write_tokens=tokens.cache_write,
                output_tokens=tokens.output,
            )
    saved = always - actual if always is not None else None
    return Savings(
        strong_model=strong_model,
        actual_usd=actual,
        always_strong_usd=usd(always) if always is not None else None,
        saved_usd=usd(saved) if saved is not None else None,
        saved_share=round(float(saved / always), 4) if saved is not None and always else None,
        compared_calls=tally.everything.calls - tally.everything.unknown,
        repriced_calls=sum(t.calls for t in tally.repriced.values()),
        strong_calls=tally.strong_calls,
    )


async def report(
    db: Database,
    period: str = "today",
    *,
    strong_model: str,
    overrides: PriceOverrides | None = None,
    now: datetime | None = None,
    team: str | None = None,
) -> CostReport:
    """Everything `/costs [period]` shows, of workspace `team` (None: of every workspace).
    `strong_model` is a `provider:model` reference."""
    start, end = period_window(period, now)
    window = in_window(start, end, team)
    strong_provider, strong_name = parse_model_ref(strong_model)
    strong_price = model_price(strong_provider, strong_name, overrides)
    starts = tier_starts(strong_price) if strong_price is not None else []

    # Two scans of the period's calls; on two connections at once, they take as long as one.
    model_rows, conv_rows = await asyncio.gather(
        fetch(db, by_model_statement(window, starts)),
        fetch(db, conversations_statement(window, start, end, team)),
    )
    tally = _Tally.of(model_rows, len(starts) + 1)
    return _assemble(
        period, start, end, tally, conv_rows, _savings(tally, strong_model, strong_price, starts)
    )


def _assemble(
    period: str,
    start: datetime,
    end: datetime,
    tally: _Tally,
    conv_rows: Sequence[Any],
    savings: Savings,
) -> CostReport:
    everything, first = tally.everything, conv_rows[0]
    total = usd(everything.cost)
    conversations = int(first.conversations or 0)
    with_strong = int(first.with_strong or 0)
    with_human = int(first.with_human or 0)
    elapsed = max(end - start, _MIN_ELAPSED)
    daily_rate = total * Decimal(86400) / Decimal(elapsed.total_seconds())
    days_in_month = calendar.monthrange(end.year, end.month)[1]
    return CostReport(
        period=period.strip().lower(),
        start=start,
        end=end,
        total_usd=total,
        calls=everything.calls,
        unknown_cost_calls=everything.unknown,
        input_tokens=everything.input,
        cached_input_tokens=everything.cached,
        cache_write_tokens=everything.cache_write,
        output_tokens=everything.output,
        by_model=tally.model_spend(),
        by_tier=by_tier((t, a.calls, a.unknown, a.cost) for t, a in tally.by_tier.items()),
        conversations=conversations,
        cost_per_conversation_mean_usd=usd(total / conversations) if conversations else usd(0),
        cost_per_conversation_p95_usd=usd(first.p95),
        conversations_with_strong=with_strong,
        conversations_with_human=with_human,
        strong_escalation_rate=with_strong / conversations if conversations else 0.0,
        human_escalation_rate=with_human / conversations if conversations else 0.0,
        savings=savings,
        daily_rate_usd=usd(daily_rate),
        projected_month_usd=usd(daily_rate * days_in_month),
        top_threads=[thread_spend(r, r.user_id) for r in conv_rows if r.cid is not None],
    )
