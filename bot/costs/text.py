"""The cost figures as plain text for the terminal (`supportbot costs`)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.costs.money import format_usd
from bot.costs.results import (
    CostReport,
    CustomerSpend,
    ModelSpend,
    ThreadDetail,
    ThreadSpend,
    TierSpend,
)
from bot.text_table import render_table

_CALL_COLUMNS = (
    "when (UTC)",
    "tier",
    "model",
    "input",
    "cached",
    "written",
    "output",
    "cost",
    "outcome",
    "why",
)


def _calls(n: int, unpriced: int = 0) -> str:
    text = f"{n} call" + ("" if n == 1 else "s")
    return text + (f" ({unpriced} unpriced)" if unpriced else "")


def _indented_table(rows: Sequence[Sequence[str]]) -> list[str]:
    """An indented table, or `(none)` when there are no rows."""
    return render_table(rows, indent="  ") if rows else ["  (none)"]


def _by_model(models: list[ModelSpend]) -> list[str]:
    return _indented_table(
        [
            (
                f"{m.provider}:{m.model}",
                format_usd(m.cost_usd),
                _calls(m.calls, m.unknown_cost_calls),
            )
            for m in models
        ]
    )


def _by_tier(tiers: list[TierSpend]) -> list[str]:
    return _indented_table(
        [(t.tier, format_usd(t.cost_usd), _calls(t.calls, t.unknown_cost_calls)) for t in tiers]
    )


def _threads(threads: list[ThreadSpend]) -> list[str]:
    if not threads:
        return ["  (none)"]
    return render_table(
        [("cost", "calls", "customer", "thread")]
        + [(format_usd(t.cost_usd), str(t.calls), t.user_id, t.link) for t in threads],
        indent="  ",
    )


def _report_text(r: CostReport) -> list[str]:
    s = r.savings
    saved = (
        "unknown (no price for the strong model)"
        if s.saved_usd is None or s.always_strong_usd is None
        else f"{format_usd(s.saved_usd)}"
        + (f" ({s.saved_share * 100:.1f}%)" if s.saved_share is not None else "")
        + f" · always-strong {format_usd(s.always_strong_usd)}"
        + f" vs actual {format_usd(s.actual_usd)}"
    )
    unknown = f" ({r.unknown_cost_calls} unpriced, not counted)" if r.unknown_cost_calls else ""
    figures = [
        ("spend", format_usd(r.total_usd)),
        ("model calls", f"{r.calls}{unknown}"),
        ("conversations", str(r.conversations)),
        (
            "per conversation",
            f"mean {format_usd(r.cost_per_conversation_mean_usd)}"
            f" · p95 {format_usd(r.cost_per_conversation_p95_usd)}",
        ),
        (
            "to the strong tier",
            f"{r.strong_escalation_rate * 100:.1f}% ({r.conversations_with_strong})",
        ),
        ("to a person", f"{r.human_escalation_rate * 100:.1f}% ({r.conversations_with_human})"),
        (f"saved vs {s.strong_model}", saved),
        (
            "projected month",
            f"{format_usd(r.projected_month_usd)} at {format_usd(r.daily_rate_usd)}/day",
        ),
    ]
    return [
        f"Costs · {r.period} · {r.start:%Y-%m-%d %H:%M} → {r.end:%Y-%m-%d %H:%M} UTC",
        "",
        *render_table(figures),
        *["", "by model", *_by_model(r.by_model)],
        *["", "by tier", *_by_tier(r.by_tier)],
        *["", "most expensive threads", *_threads(r.top_threads)],
    ]


def _thread_text(d: ThreadDetail) -> list[str]:
    lines = [
        f"Thread {d.link}",
        f"customer {d.user_id} · status {d.status} · tier {d.tier} · "
        f"spend {format_usd(d.total_usd)} · {len(d.calls)} calls",
        "",
    ]
    calls = [
        (
            f"{c.created_at:%Y-%m-%d %H:%M:%S}",
            c.tier,
            c.model,
            str(c.input_tokens),
            str(c.cached_input_tokens),
            str(c.cache_write_tokens),
            str(c.output_tokens),
            format_usd(c.cost_usd),
            c.outcome,
            c.reasons,
        )
        for c in d.calls
    ]
    lines += render_table([_CALL_COLUMNS, *calls]) if calls else ["no model calls"]
    for e in d.escalations:
        lines.append(
            f"handed to a person {e.created_at:%Y-%m-%d %H:%M} UTC · {e.status} · "
            f"why: {', '.join(e.reasons) or 'n/a'}"
        )
    return lines


def _customer_text(c: CustomerSpend) -> list[str]:
    return [
        f"Customer {c.user_id} · {c.period} · {c.start:%Y-%m-%d %H:%M} → "
        f"{c.end:%Y-%m-%d %H:%M} UTC",
        f"spend {format_usd(c.total_usd)} · {c.conversations} conversations · {c.calls} calls",
        "",
        "by tier",
        *_by_tier(c.by_tier),
        *["", "most expensive threads", *_threads(c.top_threads)],
    ]


def format_text(result: CostReport | ThreadDetail | CustomerSpend) -> str:
    """A readable plain-text rendering of any of the three results."""
    if isinstance(result, CostReport):
        return "\n".join(_report_text(result))
    if isinstance(result, ThreadDetail):
        return "\n".join(_thread_text(result))
    return "\n".join(_customer_text(result))
