"""Load benchmark of `supportbot serve` (one process, or replicas), against fake Slack and model.

Run from the repository root (the venv with supportbot installed):

    python bench/load.py                         # SQLite, 200 conversations, model 2 s
    python bench/load.py --db postgres           # a fresh PostgreSQL database (dropped after)
    python bench/load.py --question order        # "where is my order 1042?": 4 model calls
    python bench/load.py --db postgres --replicas 2  # two serve processes, one database
    python bench/load.py --processes 2           # `serve --processes 2`: two on one port
    python bench/load.py --profile /tmp/load.txt # py-spy the serve process during the load

BENCHMARKS.md has the figures and what they mean.

The fakes (tests/fakes: Slack Web API, Anthropic Messages API) run in this process as aiohttp
servers; the bot runs as a real subprocess (`python -m bot.cli serve`). Phases:

1. load: N signed DM events from N different customers, fired at once, while each model call
   takes --latency seconds. Reports the acknowledgement latency (HTTP response time of
   POST /slack/events, p50/p99/max), the time until every conversation got its answer (the
   fake Slack's chat.postMessage calls) against the ideal (latency x model calls per
   conversation), and the serve process's peak memory (VmHWM) and CPU time.
2. overhead: the model answers instantly (0 s); --turns conversations one after the other
   (concurrency 1). Time from the POST to the answer's chat.postMessage is the pipeline
   overhead per turn (what the bot adds to the model's own time).

Nothing here reaches the network: every server is on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import os
import resource
import signal
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.models import FakeAnthropic  # noqa: E402
from tests.fakes.slack import FakeSlack  # noqa: E402
from tests.serving import ServeProcess, event_body  # noqa: E402
from tests.serving import start_serve as start_serve_process  # noqa: E402

SECRET = "bench-signing-secret"
# What each customer asks. With the fake model: "plain" is answered in one model call. "order"
# takes four: these customers do not own order 1042, so the primary tier's lookup and answer
# go on to the strong tier, which does the same. "help": search_help_center, then the answer.
QUESTIONS = {
    "plain": "Hello! Can you help me with a question?",
    "order": "where is my order 1042?",
    "help": "How long does shipping to Canada take?",
}


class TimedSlack(FakeSlack):
    """The fake Slack, noting when each thread got its answer."""

    def __init__(self) -> None:
        super().__init__()
        self.answered_at: dict[str, float] = {}

    def answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "chat.postMessage" and args.get("thread_ts"):
            self.answered_at.setdefault(str(args["thread_ts"]), time.monotonic())
        return super().answer(method, args)


class TimedList(list[Any]):
    """The fake model's request log, noting when each request arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: list[float] = []

    def append(self, item: Any) -> None:
        self.arrived.append(time.monotonic())
        super().append(item)


class Serve(ServeProcess):
    """A serve process (tests/serving.py) and what it costs, read from /proc."""

    def pids(self) -> list[int]:
        """The processes that serve: this one, or the children of `serve --processes N`."""
        pid = self.proc.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return [int(c) for c in children] or [pid]

    def status(self, key: str) -> int:
        """A figure from /proc/<pid>/status in kB (VmHWM: peak resident memory); the largest
        of the serving processes."""
        values = []
        for pid in self.pids():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(key + ":"):
                    values.append(int(line.split()[1]))
        if not values:
            raise KeyError(key)
        return max(values)

    def cpu_seconds(self) -> tuple[float, float]:
        """CPU time (user + system) of the event loops' threads and of all the other threads
        (aiosqlite runs each SQLite connection in a thread of its own)."""
        ticks = os.sysconf("SC_CLK_TCK")
        main = others = 0.0
        for pid in self.pids():
            for task in Path(f"/proc/{pid}/task").iterdir():
                try:
                    stat = (task / "stat").read_text()
                except FileNotFoundError:
                    continue  # a thread that just ended
                fields = stat.rsplit(")", 1)[1].split()
                seconds = (int(fields[11]) + int(fields[12])) / ticks
                if task.name == str(pid):
                    main += seconds
                else:
                    others += seconds
        return main, others

    def loop_schedstat(self) -> tuple[float, float]:
        """(seconds on a CPU, seconds runnable but waiting for a CPU) of the event-loop threads:
        the second is what other processes on the machine cost them."""
        on_cpu = waiting = 0.0
        for pid in self.pids():
            fields = Path(f"/proc/{pid}/task/{pid}/schedstat").read_text().split()
            on_cpu += int(fields[0]) / 1e9
            waiting += int(fields[1]) / 1e9
        return on_cpu, waiting


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU jiffies of the whole machine, from /proc/stat."""
    values = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def own_cpu_seconds() -> float:
    """CPU time of this process: the load generator and the fake Slack and model servers."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def sign(body: bytes, timestamp: str) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(SECRET.encode(), base, hashlib.sha256).hexdigest()


def dm_body(user: str, channel: str, ts: str, text: str) -> bytes:
    event = {"type": "message", "channel": channel, "channel_type": "im", "user": user}
    return event_body(event | {"text": text, "ts": ts}).encode()


@dataclass
class Bench:
    serves: list[Serve]
    slack: TimedSlack
    model: FakeAnthropic
    http: aiohttp.ClientSession
    question: str
    _n: int = 0

    def new_conversation(self) -> tuple[str, str, str]:
        """(user, channel, ts) of a new customer's first DM."""
        self._n += 1
        user, channel = f"UBENCH{self._n:05d}", f"DBENCH{self._n:05d}"
        self.slack.add_user(user, f"customer{self._n}@example.com", f"Customer {self._n}")
        # A ts a day old: never one the fake Slack gives its own posts (this second's).
        return user, channel, f"{int(time.time()) - 86_400}.{self._n:06d}"

    async def post(self, body: bytes, replica: int = 0) -> tuple[int, float]:
        serve = self.serves[replica % len(self.serves)]
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": sign(body, stamp),
        }
        started = time.monotonic()
        async with self.http.post(f"{serve.base}/slack/events", data=body, headers=headers) as resp:
            await resp.read()
            return resp.status, time.monotonic() - started

    def cpu_seconds(self) -> tuple[float, float]:
        figures = [s.cpu_seconds() for s in self.serves]
        return sum(f[0] for f in figures), sum(f[1] for f in figures)

    def loop_schedstat(self) -> tuple[float, float]:
        figures = [s.loop_schedstat() for s in self.serves]
        return sum(f[0] for f in figures), sum(f[1] for f in figures)

    async def wait_answered(self, threads: list[str], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(t in self.slack.answered_at for t in threads):
                return True
            if any(s.proc.returncode is not None for s in self.serves):
                return False
            await asyncio.sleep(0.01)
        return False


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.2f} s"


async def load_phase(b: Bench, conversations: int, latency: float) -> dict[str, Any]:
    b.model.delay = latency
    calls_before = len(b.model.requests)
    hwm_before = max(s.status("VmHWM") for s in b.serves)
    cpu_before = b.cpu_seconds()
    own_before = own_cpu_seconds()
    sched_before = b.loop_schedstat()
    busy_before = machine_busy()
    load_before = os.getloadavg()[0]
    convs = [b.new_conversation() for _ in range(conversations)]
    bodies = [dm_body(u, c, ts, b.question) for u, c, ts in convs]
    started = time.monotonic()
    results = await asyncio.gather(*(b.post(body, k) for k, body in enumerate(bodies)))
    acked = time.monotonic()
    threads = [ts for _u, _c, ts in convs]
    complete = await b.wait_answered(threads, timeout=max(120.0, 20 * latency))
    answered = [b.slack.answered_at[t] - started for t in threads if t in b.slack.answered_at]
    calls = len(b.model.requests) - calls_before
    assert isinstance(b.model.requests, TimedList)
    arrivals = [t - started for t in b.model.requests.arrived[calls_before:]]
    opening = sorted(arrivals)[:conversations]  # roughly: each conversation's first call
    calls_per_conv = calls / conversations
    ideal = latency * calls_per_conv
    all_done = max(answered) if answered else float("nan")
    acks = [seconds for _status, seconds in results]
    return {
        "conversations": conversations,
        "statuses": sorted({status for status, _ in results}),
        "ack_p50": pct(acks, 50),
        "ack_p99": pct(acks, 99),
        "ack_max": max(acks),
        "all_acked": acked - started,
        "answered": len(answered),
        "complete": complete,
        "model_first": min(arrivals) if arrivals else float("nan"),
        "model_opening_last": max(opening) if opening else float("nan"),
        "model_last": max(arrivals) if arrivals else float("nan"),
        "first_answer": min(answered) if answered else float("nan"),
        "answer_p50": pct(answered, 50) if answered else float("nan"),
        "all_answered": all_done,
        "model_calls_per_conversation": calls_per_conv,
        "ideal": ideal,
        "ratio": all_done / ideal if ideal else float("nan"),
        "peak_rss_mb": max(s.status("VmHWM") for s in b.serves) / 1024,
        "peak_rss_before_mb": hwm_before / 1024,
        "cpu_loop": b.cpu_seconds()[0] - cpu_before[0],
        "cpu_threads": b.cpu_seconds()[1] - cpu_before[1],
        "phase_seconds": time.monotonic() - started,
        "cpu_bench": own_cpu_seconds() - own_before,
        "loop_on_cpu": b.loop_schedstat()[0] - sched_before[0],
        "loop_waiting_for_cpu": b.loop_schedstat()[1] - sched_before[1],
        "machine_busy": (machine_busy()[0] - busy_before[0])
        / max(1, machine_busy()[1] - busy_before[1]),
        "loadavg": (load_before, os.getloadavg()[0]),
    }


async def warm_up(b: Bench, conversations: int) -> None:
    b.model.delay = 0.0
    convs = [b.new_conversation() for _ in range(conversations)]
    bodies = [dm_body(u, c, ts, b.question) for u, c, ts in convs]
    await asyncio.gather(*(b.post(body, k) for k, body in enumerate(bodies)))
    if not await b.wait_answered([ts for _u, _c, ts in convs], timeout=120):
        raise SystemExit(f"the warm-up was not answered; see {b.serves[0].log}")


async def overhead_phase(b: Bench, turns: int) -> dict[str, Any]:
    b.model.delay = 0.0
    calls_before = len(b.model.requests)
    cpu_before = sum(b.cpu_seconds())
    times, acks = [], []
    for _ in range(turns):
        user, channel, ts = b.new_conversation()
        started = time.monotonic()
        status, ack = await b.post(dm_body(user, channel, ts, b.question))
        acks.append(ack)
        if status != 200 or not await b.wait_answered([ts], timeout=60):
            raise SystemExit(f"a turn was not answered (HTTP {status}); see {b.serves[0].log}")
        times.append(b.slack.answered_at[ts] - started)
    calls = (len(b.model.requests) - calls_before) / turns
    return {
        "turns": turns,
        "cpu_per_turn": (sum(b.cpu_seconds()) - cpu_before) / turns,
        "mean": statistics.mean(times),
        "p50": pct(times, 50),
        "p95": pct(times, 95),
        "model_calls_per_turn": calls,
        "ack_p50": pct(acks, 50),
        "ack_p99": pct(acks, 99),
    }


async def create_pg_database(admin_url: str) -> tuple[str, str]:
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(admin_url)
    name = f"sbbench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(False))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url.set(database=name).render_as_string(hide_password=False), name


async def drop_pg_database(admin_url: str, name: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(admin_url).set(drivername="postgresql").render_as_string(False)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def start_serve(
    env: dict[str, str],
    workdir: Path,
    http: aiohttp.ClientSession,
    name: str = "serve",
    processes: int = 1,
) -> Serve:
    args = ["--processes", str(processes)] if processes > 1 else []
    try:
        served = await start_serve_process(env, workdir, workdir / f"{name}.log", http, *args)
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from exc
    return Serve(served.proc, served.base, served.log)


async def start_profiler(out: str, serve: Serve) -> asyncio.subprocess.Process:
    """py-spy sampling the serve process during the load phase (collapsed stacks)."""
    spy = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "py-spy"),
        "record",
        "--pid",
        str(serve.proc.pid),
        "--rate",
        "250",
        "--format",
        "raw",
        "--output",
        out,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await asyncio.sleep(1.0)  # attached before the events go out
    return spy


async def main(args: argparse.Namespace) -> None:
    if args.replicas > 1 and args.db != "postgres":
        raise SystemExit("several replicas share a PostgreSQL database: add --db postgres")
    workdir = Path(tempfile.mkdtemp(prefix="supportbot-bench-"))
    pg_name = None
    if args.db == "postgres":
        database_url, pg_name = await create_pg_database(args.pg_url)
    else:
        database_url = f"sqlite:///{workdir}/bench.db"
    slack = await TimedSlack().start()
    model = await FakeAnthropic().begin()
    model.requests = TimedList()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "ANTHROPIC_API_KEY": "bench-key",
        "ANTHROPIC_BASE_URL": model.base_url,
    }
    # Settings to try (SUPPORTBOT_DB_POOL_SIZE=5 python bench/load.py ...) reach the bot.
    env |= {k: v for k, v in os.environ.items() if k.startswith("SUPPORTBOT_")}
    # 200 simultaneous connections: no client-side pool limit.
    http = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=120)
    )
    serves: list[Serve] = []
    try:
        for k in range(args.replicas):
            serves.append(await start_serve(env, workdir, http, f"serve-{k}", args.processes))
        b = Bench(serves, slack, model, http, QUESTIONS[args.question])
        # Warm-up: imports, connections, prompt templates, the first migration check; a few
        # at once, so that every process of `--processes N` gets some.
        await warm_up(b, 8 * args.processes * args.replicas)
        spy = await start_profiler(args.profile, serves[0]) if args.profile else None
        load = await load_phase(b, args.conversations, args.latency)
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            await spy.wait()
        over = await overhead_phase(b, args.turns)
    finally:
        for serve in serves:
            try:
                await serve.stop(30)
            except TimeoutError:
                await serve.kill()
        await http.close()
        await slack.close()
        await model.close()
        if pg_name is not None:
            await drop_pg_database(args.pg_url, pg_name)
    report(args, load, over, serves)


def report(
    args: argparse.Namespace, load: dict[str, Any], over: dict[str, Any], serves: list[Serve]
) -> None:
    n, lat = load["conversations"], args.latency
    print(
        f"supportbot serve x{len(serves)} (--processes {args.processes}) on {args.db},"
        f" question {args.question!r},"
        f" {os.cpu_count()} CPUs"
    )
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
    idle = (
        len(serves) * args.processes * load["phase_seconds"]
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
        f"  = {over['mean'] / lat * 100:.1f} % of one {lat:.0f} s model call"
        f" ({over['mean'] / (lat * max(over['model_calls_per_turn'], 1)) * 100:.1f} % of the"
        " turn's model time)"
    )
    if not load["complete"]:
        print(f"  NOT ALL ANSWERED; see {serves[0].log}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
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
    parser.add_argument("--question", choices=sorted(QUESTIONS), default="plain")
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="record the serve process with py-spy during the load phase (collapsed stacks)",
    )
    asyncio.run(main(parser.parse_args()))
