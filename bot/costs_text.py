"""The cost figures as plain text for the terminal (`supportbot costs`)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.store.cost_results import CostReport, CustomerSpend, ThreadDetail, ThreadSpend
from bot.store.costs import format_usd


def _calls(n: int, unpriced: int = 0) -> str:
    text = f"{n} call" + ("" if n == 1 else "s")
    return text + (f" ({unpriced} unpriced)" if unpriced else "")


def _table(rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        indent + "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
        for r in rows
    ]


def _threads_text(threads: list[ThreadSpend]) -> list[str]:
    if not threads:
        return ["  (none)"]
    return _table(
        [("cost", "calls", "customer", "thread")]
        + [(format_usd(t.cost_usd), str(t.calls), t.user_id, t.link) for t in threads]
    )


def format_text(result: CostReport | ThreadDetail | CustomerSpend) -> str:
    """A readable plain-text rendering of any of the three results."""
    lines: list[str] = []
    if isinstance(result, CostReport):
        r, s = result, result.savings
        lines += [f"Costs · {r.period} · {r.start:%Y-%m-%d %H:%M} → {r.end:%Y-%m-%d %H:%M} UTC", ""]
        saved = (
            "unknown (no price for the strong model)"
            if s.saved_usd is None or s.always_strong_usd is None
            else f"{format_usd(s.saved_usd)}"
            + (f" ({s.saved_share * 100:.1f}%)" if s.saved_share is not None else "")
            + f" · always-strong {format_usd(s.always_strong_usd)}"
            + f" vs actual {format_usd(s.actual_usd)}"
        )
        unknown = f" ({r.unknown_cost_calls} unpriced, not counted)" if r.unknown_cost_calls else ""
        lines += _table(
            [
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
                (
                    "to a person",
                    f"{r.human_escalation_rate * 100:.1f}% ({r.conversations_with_human})",
                ),
                (f"saved vs {s.strong_model}", saved),
                (
                    "projected month",
                    f"{format_usd(r.projected_month_usd)} at {format_usd(r.daily_rate_usd)}/day",
                ),
            ],
            indent="",
        )
        lines += ["", "by model"]
        lines += (
            _table(
                [
                    (
                        f"{m.provider}:{m.model}",
                        format_usd(m.cost_usd),
                        _calls(m.calls, m.unknown_cost_calls),
                    )
                    for m in r.by_model
                ]
            )
            if r.by_model
            else ["  (none)"]
        )
        lines += ["", "by tier"]
        lines += (
            _table(
                [
                    (t.tier, format_usd(t.cost_usd), _calls(t.calls, t.unknown_cost_calls))
                    for t in r.by_tier
                ]
            )
            if r.by_tier
            else ["  (none)"]
        )
        lines += ["", "most expensive threads", *_threads_text(r.top_threads)]
    elif isinstance(result, ThreadDetail):
        d = result
        lines += [
            f"Thread {d.link}",
            f"customer {d.user_id} · status {d.status} · tier {d.tier} · "
            f"spend {format_usd(d.total_usd)} · {len(d.calls)} calls",
            "",
        ]
        if d.calls:
            lines += _table(
                [
                    (
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
                ]
                + [
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
                ],
                indent="",
            )
        else:
            lines.append("no model calls")
        for e in d.escalations:
            lines.append(
                f"handed to a person {e.created_at:%Y-%m-%d %H:%M} UTC · {e.status} · "
                f"why: {', '.join(e.reasons) or 'n/a'}"
            )
    else:
        c = result
        lines += [
            f"Customer {c.user_id} · {c.period} · {c.start:%Y-%m-%d %H:%M} → "
            f"{c.end:%Y-%m-%d %H:%M} UTC",
            f"spend {format_usd(c.total_usd)} · {c.conversations} conversations · {c.calls} calls",
            "",
            "by tier",
        ]
        lines += (
            _table(
                [
                    (t.tier, format_usd(t.cost_usd), _calls(t.calls, t.unknown_cost_calls))
                    for t in c.by_tier
                ]
            )
            if c.by_tier
            else ["  (none)"]
        )
        lines += ["", "most expensive threads", *_threads_text(c.top_threads)]
    return "\n".join(lines)
