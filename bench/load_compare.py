"""`bench/load.py --against REV`: the trees it runs, and the side-by-side table of their figures.

Each tree is run by the same venv with PYTHONPATH at the tree, so both must be satisfied by the
venv's packages; REV's tree is a temporary detached `git worktree`, removed after the run.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import math
import statistics
import subprocess
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from load_phases import POOL_RESET, TRANSACTION_ENDS
from load_serve import ROOT
from packaging.requirements import Requirement


@dataclass(frozen=True)
class Tree:
    """Code to measure: a label for the table, the directory PYTHONPATH points at, and its
    commit with "+changes" when the tree differs from it."""

    label: str
    code: Path
    state: str


def git(*args: str) -> str:
    done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed:\n{done.stderr.strip()}")
    return done.stdout.strip()


def this_checkout() -> Tree:
    """This working tree, named by its commit ("+changes" when it differs from it)."""
    changed = git("status", "--porcelain", "--untracked-files=no")
    state = git("rev-parse", "--short", "HEAD") + ("+changes" if changed else "")
    return Tree(state, ROOT, state)


@contextlib.contextmanager
def revision_tree(rev: str) -> Iterator[Tree]:
    """REV checked out (detached) in a temporary worktree, removed afterwards."""
    commit = git("rev-parse", "--verify", "--short", f"{rev}^{{commit}}")
    with tempfile.TemporaryDirectory(prefix="supportbot-bench-rev-") as parent:
        path = Path(parent) / commit
        git("worktree", "add", "--detach", "--quiet", str(path), commit)
        try:
            yield Tree(commit if rev.startswith(commit) else f"{rev} = {commit}", path, commit)
        finally:
            git("worktree", "remove", "--force", str(path))


def check_dependencies(tree: Tree) -> None:
    """Fail, saying which, when the venv does not satisfy the tree's runtime dependencies (its
    pyproject's [project] dependencies; extras' own requirements are not followed)."""
    project = tomllib.loads((tree.code / "pyproject.toml").read_text())["project"]
    unmet = []
    for line in project.get("dependencies", []):
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        try:
            installed = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            unmet.append(f"{line} (not installed)")
            continue
        if not requirement.specifier.contains(installed, prereleases=True):
            unmet.append(f"{line} (installed: {installed})")
    if unmet:
        raise SystemExit(
            f"{tree.label} needs a different dependency set than this venv has; install it"
            " in a venv of its own and run the bench from there:\n  " + "\n  ".join(unmet)
        )


def spread(values: list[float], show: Callable[[float], str]) -> str:
    """The median over rounds, and the range when there are several (a missing figure: NaN)."""
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return "-"
    middle = show(statistics.median(values))
    if len(values) == 1 or min(values) == max(values):
        return middle
    return f"{middle} ({show(min(values))}..{show(max(values))})"


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


# The table's rows: a name, the figure from one round's results, how it is shown.
ROWS: list[tuple[str, Callable[[dict[str, Any]], float], Callable[[float], str]]] = [
    ("database round trips per one-call turn", lambda r: trips(r, False), lambda v: f"{v:.1f}"),
    ("  of which statements", lambda r: trips(r, True), lambda v: f"{v:.1f}"),
    (
        "event-loop CPU per conversation, ms",
        lambda r: r["load"]["cpu_loop"] / r["load"]["conversations"],
        milliseconds,
    ),
    ("ack p50, ms", lambda r: r["load"]["ack_p50"], milliseconds),
    ("ack p99, ms", lambda r: r["load"]["ack_p99"], milliseconds),
    ("all answered / ideal", lambda r: r["load"]["ratio"], lambda v: f"{v:.2f}x"),
    # Fewer than the conversations: the ratio above is over those answered (see the round lines).
    ("conversations answered", lambda r: r["load"]["answered"], "{:.0f}".format),
    (
        "event loop waiting for a CPU, s",
        lambda r: r["load"]["loop_waiting_for_cpu"],
        "{:.1f}".format,
    ),
    ("overhead per turn (instant model), ms", lambda r: r["overhead"]["mean"], milliseconds),
    (
        "serve CPU per turn (instant model), ms",
        lambda r: r["overhead"]["cpu_per_turn"],
        milliseconds,
    ),
    ("peak RSS, MB", lambda r: r["load"]["peak_rss_mb"], "{:.0f}".format),
    ("machine's load average before the load", lambda r: r["load"]["loadavg"][0], "{:.1f}".format),
]


def trips(result: dict[str, Any], statements_only: bool) -> float:
    """Round trips per one-call turn (or only the statements among them); NaN if not counted."""
    counted = result.get("statements")
    if not counted:
        return math.nan
    ends = sum(counted["per_turn"].get(kind, 0.0) for kind in TRANSACTION_ENDS)
    return float(counted["round_trips"] - (ends if statements_only else 0.0))


def side_by_side(results: dict[str, list[dict[str, Any]]]) -> list[str]:
    """One row per figure, one column per tree: median over rounds (range)."""
    labels = list(results)
    width = max(len(name) for name, _, _ in ROWS)
    cells = {
        name: [spread([figure(r) for r in results[label]], show) for label in labels]
        for name, figure, show in ROWS
    }
    column = max(24, *(len(c) for row in cells.values() for c in row), *(len(x) for x in labels))
    lines = [f"{'':{width}}  " + "  ".join(f"{label:>{column}}" for label in labels)]
    lines += [
        f"{name:{width}}  " + "  ".join(f"{c:>{column}}" for c in row)
        for name, row in cells.items()
    ]
    return lines


def breakdown(results: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Per tree, the median count per turn of each kind (SELECT, INSERT, ..., BEGIN, COMMIT)."""
    lines = []
    for label, rounds in results.items():
        counted = [r["statements"] for r in rounds if r.get("statements")]
        if not counted:
            continue
        kinds = sorted({kind for c in counted for kind in c["per_turn"]})
        parts = [
            f"{kind} {statistics.median(c['per_turn'].get(kind, 0.0) for c in counted):.1f}"
            for kind in kinds
            if kind != POOL_RESET
        ]
        reset = statistics.median(c["per_turn"].get(POOL_RESET, 0.0) for c in counted)
        idle = statistics.median(c["idle_per_second"] for c in counted)
        idle_share = statistics.median(c["idle_per_turn"] for c in counted)
        lines.append(f"  {label}: {', '.join(parts)}")
        lines.append(
            f"  {'':{len(label)}}  (+ {reset:.1f} pool resets; idle, the process sent"
            f" {idle:.2f} round trips/s: about {idle_share:.1f} of each turn's count)"
        )
    return lines
