"""Load benchmark of `supportbot serve` (one process, or replicas), against fake Slack and model.

Run from the repository root (the venv with supportbot installed):

    python bench/load.py                         # SQLite, 200 conversations, model 2 s
    python bench/load.py --db postgres           # a fresh PostgreSQL database (dropped after)
    python bench/load.py --question order        # "where is my order 1042?": 4 model calls
    python bench/load.py --db postgres --replicas 2  # two serve processes, one database
    python bench/load.py --processes 2           # `serve --processes 2`: two on one port
    python bench/load.py --profile /tmp/load.txt # py-spy the serve process during the load
    python bench/load.py --against HEAD~1        # this checkout and HEAD~1, side by side

BENCHMARKS.md has the figures and what they mean.

The fakes (tests/fakes: Slack Web API, Anthropic Messages API) run in this process as aiohttp
servers; the bot runs as a real subprocess (`python -m bot.cli serve`). Each round, on a fresh
database:

1. load: N signed DM events from N different customers, fired at once, while each model call
   takes --latency seconds. Reports the acknowledgement latency (HTTP response time of
   POST /slack/events, p50/p99/max), the time until every conversation got its answer (the
   fake Slack's chat.postMessage calls) against the ideal (latency x model calls per
   conversation), and the serve process's peak memory (VmHWM) and CPU time.
2. overhead: the model answers instantly (0 s); --turns conversations one after the other
   (concurrency 1). Time from the POST to the answer's chat.postMessage is the pipeline
   overhead per turn (what the bot adds to the model's own time).
3. statements: a second, plain serve process run through bench/_count_statements.py, which
   counts every statement, BEGIN, COMMIT and ROLLBACK the bot asks of the database driver
   (SQLAlchemy events; the product is unchanged); --count-turns one-call turns ("plain", instant
   model) one after the other: round trips per turn, by kind.

With --against REV, each round runs this checkout and then REV (a temporary git worktree; its
serve processes get PYTHONPATH at that tree, the same venv), alternately for --rounds rounds,
and one table shows both: medians over the rounds, with their range.

Nothing here reaches the network: every server is on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import tempfile
from pathlib import Path
from typing import Any

import aiohttp
from load_compare import (
    Tree,
    breakdown,
    check_dependencies,
    revision_tree,
    side_by_side,
    this_checkout,
)
from load_phases import load_phase, overhead_phase, statements_phase, warm_up
from load_serve import (
    QUESTIONS,
    Bench,
    Fakes,
    Serve,
    create_pg_database,
    drop_pg_database,
    ms,
    start_counting_serve,
    start_profiler,
    start_serve,
)


async def run_round(
    args: argparse.Namespace, tree: Tree, http: aiohttp.ClientSession
) -> dict[str, Any]:
    """The three phases for one tree, on a fresh database and fresh fakes."""
    workdir = Path(tempfile.mkdtemp(prefix="supportbot-bench-"))
    pg_name = None
    if args.db == "postgres":
        database_url, pg_name = await create_pg_database(args.pg_url)
    else:
        database_url = f"sqlite:///{workdir}/bench.db"
    fakes = await Fakes.start()
    try:
        env = fakes.env(tree.code, database_url, workdir)
        b = Bench([], fakes.slack, fakes.model, http, QUESTIONS[args.question])
        result = await timed_phases(args, b, env, workdir)
        result["statements"] = None
        if args.count_turns:
            result["statements"] = await counted_phase(args, b, env, workdir)
    finally:
        await fakes.close()
        if pg_name is not None:
            await drop_pg_database(args.pg_url, pg_name)
    return result


async def timed_phases(
    args: argparse.Namespace, b: Bench, env: dict[str, str], workdir: Path
) -> dict[str, Any]:
    """The load and overhead phases, in the serve processes the options ask for."""
    try:
        for k in range(args.replicas):
            b.serves.append(await start_serve(env, workdir, b.http, f"serve-{k}", args.processes))
        # Warm-up: imports, connections, prompt templates, the first migration check; a few
        # at once, so that every process of `--processes N` gets some.
        await warm_up(b, 8 * args.processes * args.replicas)
        spy = await start_profiler(args.profile, b.serves[0]) if args.profile else None
        load = await load_phase(b, args.conversations, args.latency)
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            await spy.wait()
        overhead = await overhead_phase(b, args.turns)
    finally:
        await stop(b.serves)
    return {"load": load, "overhead": overhead, "log": str(b.serves[0].log)}


async def counted_phase(
    args: argparse.Namespace, b: Bench, env: dict[str, str], workdir: Path
) -> dict[str, Any]:
    """The statement count, in one plain serve process of its own on the same database."""
    counting = await start_counting_serve(env, workdir, b.http, "serve-counted")
    b.serves = [counting]
    try:
        await warm_up(b, 4)
        return await statements_phase(b, counting, args.count_turns)
    finally:
        await stop(b.serves)


async def stop(serves: list[Serve]) -> None:
    for serve in serves:
        try:
            await serve.stop(30)
        except TimeoutError:
            await serve.kill()


async def main(args: argparse.Namespace) -> None:
    check_options(args)
    # 200 simultaneous connections: no client-side pool limit.
    http = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=120)
    )
    results: dict[str, list[dict[str, Any]]] = {}
    with contextlib.ExitStack() as trees_kept:
        trees = [this_checkout()]
        if args.against:
            trees.append(trees_kept.enter_context(revision_tree(args.against)))
        if len({tree.state for tree in trees}) < len(trees):
            raise SystemExit(f"{args.against} is this checkout's own commit: nothing to compare")
        for tree in trees:
            check_dependencies(tree)
        try:
            for k in range(args.rounds):
                for tree in trees:
                    result = await run_round(args, tree, http)
                    results.setdefault(tree.label, []).append(result)
                    summary(args, tree, k, result)
        finally:
            await http.close()
    if args.against:
        print(setting(args, "side by side: median over rounds (range)"))
        print("\n".join(side_by_side(results)))
    print("database round trips per one-call turn, by kind (median):")
    print("\n".join(breakdown(results)))


def check_options(args: argparse.Namespace) -> None:
    if args.replicas > 1 and args.db != "postgres":
        raise SystemExit("several replicas share a PostgreSQL database: add --db postgres")
    if args.profile and (args.against or args.rounds > 1):
        raise SystemExit("--profile records one serve process: not with --against or --rounds")
    if args.rounds is None:
        args.rounds = 2 if args.against else 1


def setting(args: argparse.Namespace, what: str) -> str:
    return (
        f"supportbot serve x{args.replicas} (--processes {args.processes}) on {args.db},"
        f" question {args.question!r}, {os.cpu_count()} CPUs: {what}"
    )


def summary(args: argparse.Namespace, tree: Tree, k: int, result: dict[str, Any]) -> None:
    """The full report of a lone run; with --against, one line per round and tree."""
    load, statements = result["load"], result["statements"]
    if not args.against:
        report(args, result)
        return
    trips = f"{statements['round_trips']:.1f}" if statements else "-"
    print(
        f"round {k + 1}, {tree.label}: {trips} round trips per turn;"
        f" {load['cpu_loop'] / load['conversations'] * 1000:.0f} ms event-loop CPU per"
        f" conversation; ack p50 {ms(load['ack_p50'])}, p99 {ms(load['ack_p99'])};"
        f" all answered {load['ratio']:.2f}x the ideal; overhead"
        f" {ms(result['overhead']['mean'])} per turn; peak RSS {load['peak_rss_mb']:.0f} MB;"
        f" load average {load['loadavg'][0]:.1f} before the load phase"
        + ("" if load["complete"] else f"; NOT ALL ANSWERED, see {result['log']}"),
        flush=True,
    )


def report(args: argparse.Namespace, result: dict[str, Any]) -> None:
    load, over = result["load"], result["overhead"]
    print(setting(args, "one run"))
    report_load(args, load)
    report_overhead(args, over)
    if result["statements"]:
        counted = result["statements"]
        print(
            f"statements: {counted['turns']} one-call turns one after another, counted"
            f" ({counted['model_calls_per_turn']:.1f} model calls per turn)"
        )
        print(f"  database round trips per turn {counted['round_trips']:.1f}")
    if not load["complete"]:
        print(f"  NOT ALL ANSWERED; see {result['log']}")


def report_load(args: argparse.Namespace, load: dict[str, Any]) -> None:
    n, lat = load["conversations"], args.latency
    print(f"load: {n} DM events at once, model latency {lat:.1f} s per call")
    print(f"  HTTP statuses                {load['statuses']}")
    print(
        f"  acknowledgement latency      p50 {ms(load['ack_p50'])}, p99 {ms(load['ack_p99'])},"
        f" max {ms(load['ack_max'])} (all {n} acknowledged after {ms(load['all_acked'])})"
    )
    print(
        f"  model calls per conversation {load['model_calls_per_conversation']:.2f};"
        f" first call arrived after {ms(load['model_first'])}, the {n}th after"
        f" {ms(load['model_opening_last'])}, the last after {ms(load['model_last'])}"
    )
    print(
        f"  answered                     {load['answered']}/{n}; first after"
        f" {ms(load['first_answer'])}, half after {ms(load['answer_p50'])},"
        f" all after {ms(load['all_answered'])}"
    )
    print(
        f"  ideal (latency x calls)      {ms(load['ideal'])}; all answered in"
        f" {load['ratio']:.2f} x the ideal (aim: <= 1.2)"
    )
    print(
        f"  serve process                peak RSS (VmHWM) {load['peak_rss_mb']:.0f} MB"
        " (the largest process)"
        f" (idle after warm-up {load['peak_rss_before_mb']:.0f} MB)"
    )
    print(
        f"  serve CPU (all replicas)     event-loop thread {load['cpu_loop']:.1f} s, other"
        f" threads {load['cpu_threads']:.1f} s, in {load['phase_seconds']:.1f} s of the phase"
        f" ({load['cpu_loop'] / n * 1000:.0f} ms of event-loop CPU per conversation)"
    )
    print(
        f"  this process (client, fakes) CPU {load['cpu_bench']:.1f} s"
        " (it shares the machine's CPUs with the serve process)"
    )
    report_machine(args, load)


def report_machine(args: argparse.Namespace, load: dict[str, Any]) -> None:
    idle = (
        args.replicas * args.processes * load["phase_seconds"]
        - load["loop_on_cpu"]
        - load["loop_waiting_for_cpu"]
    )
    print(
        f"  event-loop thread(s), summed on a CPU {load['loop_on_cpu']:.1f} s, runnable but"
        f" waiting for a CPU {load['loop_waiting_for_cpu']:.1f} s, idle (awaiting I/O)"
        f" {idle:.1f} s"
    )
    print(
        f"  machine                      {load['machine_busy'] * 100:.0f} % of all CPUs busy"
        f" during the phase; load average {load['loadavg'][0]:.1f} before,"
        f" {load['loadavg'][1]:.1f} after"
    )


def report_overhead(args: argparse.Namespace, over: dict[str, Any]) -> None:
    lat = args.latency
    print(f"overhead: {over['turns']} turns one after another, model answers instantly")
    print(
        f"  per turn (POST -> reply posted) mean {ms(over['mean'])}, p50 {ms(over['p50'])},"
        f" p95 {ms(over['p95'])}; {over['model_calls_per_turn']:.1f} model calls per turn"
    )
    print(f"  serve CPU per turn (all threads) {ms(over['cpu_per_turn'])}")
    print(
        f"  acknowledgement at concurrency 1: p50 {ms(over['ack_p50'])}, max {ms(over['ack_p99'])}"
    )
    print(
        f"  = {over['mean'] / lat * 100:.1f} % of one {lat:g} s model call"
        f" ({over['mean'] / (lat * max(over['model_calls_per_turn'], 1)) * 100:.1f} % of the"
        " turn's model time)"
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="a PostgreSQL server where the user may create databases",
    )
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument(
        "--replicas", type=int, default=1, help="serve processes (events round-robin; postgres)"
    )
    parser.add_argument(
        "--processes", type=int, default=1, help="`serve --processes N`: N processes, one port"
    )
    parser.add_argument("--latency", type=float, default=2.0, help="seconds per model call")
    parser.add_argument("--turns", type=int, default=30, help="turns in the overhead phase")
    parser.add_argument(
        "--count-turns", type=int, default=20, help="turns whose statements are counted (0: none)"
    )
    parser.add_argument("--question", choices=sorted(QUESTIONS), default="plain")
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="record the serve process with py-spy during the load phase (collapsed stacks)",
    )
    parser.add_argument(
        "--against", metavar="REV", help="also run git revision REV, alternately, side by side"
    )
    parser.add_argument(
        "--rounds", type=int, help="rounds (each tree once per round; default 2 with --against)"
    )
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
