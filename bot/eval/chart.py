"""Cost against correctness, one point per configuration, as a PNG (`supportbot eval --chart`,
`eval compare --chart`); matplotlib is imported when drawn."""

from __future__ import annotations

from bot.eval.report import label
from bot.eval.results import EvalRun

_COLOURS = ["#2E86AB", "#E07A5F", "#81B29A", "#F2CC8F", "#3D405B", "#9C6644"]


def render_chart(runs: list[tuple[str, EvalRun]]) -> bytes:
    """Each run (its name, its figures) at its cost per case (x) and its share of cases
    passed (y), labelled with its name and models."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    highest = 0.0
    for number, (name, run) in enumerate(runs):
        t = run.totals
        cost = float(t.cost_per_case_usd or 0)
        correct = 100 * t.cases_passed / t.cases if t.cases else 0.0
        highest = max(highest, cost)
        colour = _COLOURS[number % len(_COLOURS)]
        ax.scatter(
            [cost],
            [correct],
            s=80,
            color=colour,
            zorder=3,
            label=f"{name}: {label(run.configuration)}",
        )
        ax.annotate(name, (cost, correct), textcoords="offset points", xytext=(7, 7), fontsize=9)
    ax.set_xlabel("cost per case (USD)")
    ax.set_ylabel("cases passed (%)")
    ax.set_ylim(0, 108)
    ax.set_xlim(0, highest * 1.25 or 1e-6)
    ax.grid(alpha=0.3)
    ax.set_title("supportbot eval: cost against correctness")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
