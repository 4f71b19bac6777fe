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
from bot.eval import DEFAULT_CONCURRENCY, TierMode

if TYPE_CHECKING:  # the engine is imported when a run starts, not for every command
    from bot.eval.cases import Suite
    from bot.eval.results import Configuration, EvalRun

COMPARE = "compare"
EXIT_LEAKED = 3  # the run finished and an answer leaked: the one figure that must be 0
EXIT_USAGE = 2


def _version() -> str:
    try:
        return version("supportbot")
    except PackageNotFoundError:
        return "unknown"


def _configuration(
    ran: Settings,
    mode: TierMode,
    suites: list[Suite],
    shop_sha256: str,
    concurrency: int,
    times: tuple[datetime, datetime],
) -> Configuration:
    from bot.eval.results import Configuration, SuiteInfo

    return Configuration(
        tier_mode=mode,
        primary_model=ran.primary_model,
        strong_model=ran.strong_model,
        fallback_models=ran.fallback_models,
        strong_fallback_models=ran.strong_fallback_models,
        confidence_threshold=ran.confidence_threshold,
        high_value_order=ran.high_value_order,
        suites=[
            SuiteInfo(name=s.name, path=s.path, sha256=s.sha256, cases=len(s.cases)) for s in suites
        ],
        shop_sha256=shop_sha256,
        concurrency=concurrency,
        batch=False,
        supportbot_version=_version(),
        started_at=times[0],
        finished_at=times[1],
    )


async def _run(
    settings: Settings, suites: list[Suite], mode: TierMode, concurrency: int
) -> EvalRun:
    from bot.eval.progress import Progress
    from bot.eval.report import build_run
    from bot.eval.runner import run_eval
    from bot.eval.shop import load_shop

    shop = load_shop()
    progress = Progress(sum(len(s.cases) for s in suites))
    started = datetime.now(UTC)
    # --batch: the integrator plugs `bot.batch.rounds.BatchRounds` in here, as
    # `batch=BatchPlug(lambda db: BatchRounds(db, ...), CALL_SCOPE)` (`bot.eval.runner`), and
    # sets `Configuration.batch`; `_refuse_batch` below goes.
    ran, results = await run_eval(
        settings, suites, mode, concurrency=concurrency, shop=shop, progress=progress
    )
    times = (started, datetime.now(UTC))
    config = _configuration(ran, mode, suites, shop.sha256, concurrency, times)
    return build_run(config, results)


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
    concurrency = args.concurrency or DEFAULT_CONCURRENCY
    run = asyncio.run(_run(settings, suites, mode, concurrency))
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


def _refuse_batch() -> int:
    print(
        "supportbot: --batch is not wired yet in this version: `supportbot eval` runs live "
        "calls only (leave out --batch)",
        file=sys.stderr,
    )
    return EXIT_USAGE


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        if args.suites[:1] == [COMPARE]:
            return _compare(args)
        if args.batch:
            return _refuse_batch()
        return _evaluate(args, settings)
    except UsageError as exc:  # a suite or run file (`SuiteError`)
        print(f"supportbot: {exc}", file=sys.stderr)
        return 1
