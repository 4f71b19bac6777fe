"""bench/load.py's machinery: the fakes it times, the serve processes it measures, the client.

The fakes (tests/fakes: Slack Web API, Anthropic Messages API) run in the benchmark's process as
aiohttp servers; the bot runs as a real subprocess (tests/serving.py), its cost read from /proc.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import resource
import signal
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
COUNTER = Path(__file__).resolve().parent / "_count_statements.py"
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


@dataclass
class CountingServe(Serve):
    """A serve process that counts its database statements (bench/_count_statements.py)."""

    counts_file: Path

    async def statements(self) -> Counter[str]:
        """The statements, transactions and pool resets counted so far (SIGUSR1 asks for them)."""
        before = self._dumps()
        self.proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 10
        while self._dumps() == before:
            if time.monotonic() > deadline or not self.alive():
                raise SystemExit(f"the statement counts were not written; see {self.log}")
            await asyncio.sleep(0.01)
        return Counter(json.loads(self.counts_file.read_text())["counts"])

    def _dumps(self) -> int:
        try:
            return int(json.loads(self.counts_file.read_text())["dumps"])
        except FileNotFoundError:
            return 0


@dataclass
class Fakes:
    """The fake Slack and model servers of one run, and the environment a serve process needs
    to use them: nothing from the developer's shell but PATH and SUPPORTBOT_* settings."""

    slack: TimedSlack
    model: FakeAnthropic

    @classmethod
    async def start(cls) -> Fakes:
        slack = TimedSlack()
        await slack.start()
        model = await FakeAnthropic().start()
        model.requests = TimedList()
        return cls(slack, model)

    async def close(self) -> None:
        await self.slack.close()
        await self.model.close()

    def env(self, code: Path, database_url: str, home: Path) -> dict[str, str]:
        """A serve process's environment, running the bot from the tree `code`."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(code),
            "DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": self.slack.api_url,
            "ANTHROPIC_API_KEY": "bench-key",
            "ANTHROPIC_BASE_URL": self.model.base_url,
        }
        # Settings to try (SUPPORTBOT_DB_POOL_SIZE=5 python bench/load.py ...) reach the bot.
        return env | {k: v for k, v in os.environ.items() if k.startswith("SUPPORTBOT_")}


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


async def start_counting_serve(
    env: dict[str, str], workdir: Path, http: aiohttp.ClientSession, name: str
) -> CountingServe:
    """One plain serve process (no `--processes`) run through bench/_count_statements.py."""
    counts = workdir / f"{name}-statements.json"
    env = env | {"BENCH_STATEMENT_COUNTS": str(counts)}
    log = workdir / f"{name}.log"
    try:
        served = await start_serve_process(env, workdir, log, http, program=(str(COUNTER),))
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from exc
    return CountingServe(served.proc, served.base, served.log, counts)


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
