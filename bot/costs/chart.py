"""Daily spend stacked by tier, as a PNG (`/costs chart`); matplotlib is imported when drawn."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

from bot.costs.results import DailySpend

_TIER_COLOURS = {"primary": "#2E86AB", "strong": "#E07A5F", "fallback": "#81B29A"}


def render_chart(spend: list[DailySpend], start: datetime, end: datetime, title: str) -> bytes:
    """A PNG of daily spend stacked by tier, every day of the window on the x axis."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    days: list[date] = []
    day = start.date()
    while day <= end.date():
        days.append(day)
        day += timedelta(days=1)
    tiers = sorted({s.tier for s in spend}, key=lambda t: (t not in _TIER_COLOURS, t))
    amounts = {(s.day, s.tier): float(s.cost_usd) for s in spend}

    fig = Figure(figsize=(8, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    positions = list(range(len(days)))
    bottom = [0.0] * len(days)
    for tier in tiers:
        values = [amounts.get((d, tier), 0.0) for d in days]
        ax.bar(
            positions, values, bottom=bottom, label=tier, color=_TIER_COLOURS.get(tier), width=0.8
        )
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    step = max(1, len(days) // 10)
    ax.set_xticks(positions[::step], [d.strftime("%b %d") for d in days[::step]])
    ax.set_ylabel("USD")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    if tiers:
        ax.legend(title="tier")
    else:
        ax.text(0.5, 0.5, "no spend in this period", ha="center", transform=ax.transAxes)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
