"""`supportbot eval`: grade the bot on suites of support cases; `supportbot eval compare`:
runs side by side. The engine is `bot/eval/`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.errors import UsageError
from bot.eval import DEFAULT_BATCH_STATE, DEFAULT_CONCURRENCY, TierMode

if TYPE_CHECKING:  # the engine is imported when a run starts, not for every command
    from bot.eval.cases import Suite
    from bot.eval.progress import Progress
    from bot.eval.results import Configuration, EvalRun
    from bot.eval.runner import BatchPlug

COMPARE = "compare"
EXIT_LEAKED = 3  # the run finished and an answer leaked: the one figure that must be 0
EXIT_USAGE = 2


def _version() -> str:
    try:
        return version("supportbot")
    except PackageNotFoundError:
        return "unknown"


# The settings a run's JSON records, as `Configuration` names them.
_SETTINGS_OF_A_RUN = {
    "primary_model",
    "strong_model",
    "fallback_models",
    "strong_fallback_models",
    "confidence_threshold",
    "high_value_order",
}


def _configuration(
    ran: Settings,
    mode: TierMode,
    suites: list[Suite],
    shop_sha256: str,
    concurrency: int,
    times: tuple[datetime, datetime],
    batch: bool,
) -> Configuration:
    from bot.eval.results import Configuration, SuiteInfo

    return Configuration(
        tier_mode=mode,
        **ran.model_dump(include=_SETTINGS_OF_A_RUN),
        suites=[
            SuiteInfo(name=s.name, path=s.path, sha256=s.sha256, cases=len(s.cases)) for s in suites
        ],
        shop_sha256=shop_sha256,
        concurrency=concurrency,
        batch=batch,
        supportbot_version=_version(),
        started_at=times[0],
        finished_at=times[1],
    )


async def _run(
    settings: Settings,
    suites: list[Suite],
    mode: TierMode,
    concurrency: int,
    batch_state: Path | None,
) -> EvalRun:
    """The run; through the Batch APIs when `batch_state` says where their state is kept."""
    from bot.eval.progress import Progress
    from bot.eval.report import build_run
    from bot.eval.runner import run_eval
    from bot.eval.shop import load_shop

    shop = load_shop()
    progress = Progress(sum(len(s.cases) for s in suites))
    started = datetime.now(UTC)
    plug = _batch_plug(batch_state, progress, settings.batch_poll_seconds) if batch_state else None
    ran, results = await run_eval(
        settings, suites, mode, concurrency=concurrency, shop=shop, batch=plug, progress=progress
    )
    times = (started, datetime.now(UTC))
    config = _configuration(ran, mode, suites, shop.sha256, concurrency, times, plug is not None)
    return build_run(config, results)


def _batch_plug(state: Path, progress: Progress, poll_seconds: float) -> BatchPlug:
    from bot.batch.calls import Backoff
    from bot.batch.rounds import CALL_SCOPE, BatchRounds
    from bot.eval.runner import BatchPlug

    print(f"batch state kept in {state} until the run ends", file=sys.stderr)
    url = f"sqlite:///{state.resolve()}"
    backoff = Backoff(first=poll_seconds)
    return BatchPlug(lambda db: BatchRounds(db, progress.batch, backoff=backoff), CALL_SCOPE, url)


def _write_chart(path: Path, runs: list[tuple[str, EvalRun]]) -> None:
    from bot.eval.chart import render_chart

    path.write_bytes(render_chart(runs))
    print(f"chart written to {path}", file=sys.stderr)


def _evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from bot.eval.cases import load_suites

    mode = TierMode(args.tier or TierMode.ROUTED)
    suites = load_suites(args.suites)
    from bot.eval.runner import tier_models

    # The models of the mode need their keys; the eval shop is the embedded order store,
    # whatever ORDERS_BACKEND says.
    tier_models(settings, mode).model_copy(update={"orders_backend": "sql"}).check_chat()
    # Batch rounds are full only when every case runs at once (see bot/batch/rounds.py).
    concurrency = sum(len(s.cases) for s in suites) if args.batch else DEFAULT_CONCURRENCY
    state = (args.batch_state or Path(DEFAULT_BATCH_STATE)) if args.batch else None
    run = asyncio.run(_run(settings, suites, mode, args.concurrency or concurrency, state))
    if state is not None:  # the run ended: nothing to resume, the next run starts afresh
        state.unlink(missing_ok=True)
    if args.out:
        args.out.write_text(run.to_json() + "\n", encoding="utf-8")
    if args.chart:
        _write_chart(args.chart, [(args.out.stem if args.out else "this run", run)])
    from bot.eval.report import format_run

    print(run.to_json() if args.json else format_run(run))
    return EXIT_LEAKED if run.totals.leaks else 0


def _compare(args: argparse.Namespace) -> int:
    from bot.eval.report import format_compare, load_run

    given = [
        option
        for option, value in (
            ("--tier", args.tier),
            ("--json", args.json),
            ("--out", args.out),
            ("--concurrency", args.concurrency),
            ("--batch", args.batch),
            ("--batch-state", args.batch_state),
        )
        if value
    ]
    files = [Path(name) for name in args.suites[1:]]
    if given or len(files) < 2:
        problem = f"{', '.join(given)} does not apply to" if given else "give two or more runs to"
        print(
            f"supportbot: {problem} eval compare (usage: supportbot eval compare A.json B.json "
            "[...] [--chart FILE.png])",
            file=sys.stderr,
        )
        return EXIT_USAGE
    stems = [f.stem for f in files]
    names = stems if len(set(stems)) == len(stems) else [str(f) for f in files]
    runs = [(name, load_run(f)) for name, f in zip(names, files, strict=True)]
    if args.chart:
        _write_chart(args.chart, runs)
    print(format_compare(runs))
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        if args.suites[:1] == [COMPARE]:
            return _compare(args)
        return _evaluate(args, settings)
    except UsageError as exc:  # a suite or run file (`SuiteError`)
        print(f"supportbot: {exc}", file=sys.stderr)
        return 1
