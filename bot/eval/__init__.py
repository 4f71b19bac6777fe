"""`supportbot eval`: support cases run through the real answering pipeline, graded.

    cases.py     the case format; loading YAML and JSONL suites
    shop.py      the eval shop (orders, help center) and the throwaway database it is loaded in
    capture.py   the posts (a Sender) and the tool calls (a model wrap) of each case
    records.py   what the pipeline stored for a turn: its route, reasons, calls
    runner.py    running the cases (and where `--batch` plugs in)
    grading.py   the checks of one turn, pure
    results.py   the run's JSON shape (versioned)
    report.py    totals, the terminal table, compare
    chart.py     cost against correctness, a PNG
    progress.py  the progress bar

Light on purpose: the command line reads the bundled suites' names from here."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

EVAL_DATA = Path(__file__).resolve().parent.parent / "data" / "eval"
BUNDLED_SUITES = EVAL_DATA / "suites"
SUFFIXES = (".yaml", ".yml", ".jsonl")
DEFAULT_CONCURRENCY = 4  # cases run at once
DEFAULT_BATCH_STATE = "supportbot-eval-batch.db"  # --batch: kept until the run ends


def bundled_suites() -> dict[str, Path]:
    """The suites shipped with supportbot, by name (the file's stem)."""
    if not BUNDLED_SUITES.is_dir():
        return {}
    return {
        p.stem: p
        for p in sorted(BUNDLED_SUITES.iterdir())
        if p.is_file() and p.suffix.lower() in SUFFIXES
    }


class TierMode(StrEnum):
    """`--tier`: which models answer (see the README, section 'Evaluate the bot')."""

    ROUTED = "routed"  # as configured: the primary tier, the strong one when the policy says
    PRIMARY = "primary"  # every call by the primary model, the strong tier's too
    STRONG = "strong"  # every call by the strong model, the primary tier's too
