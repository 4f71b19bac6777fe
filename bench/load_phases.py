"""bench/load.py's phases, each against serve processes already started and warmed up.

- load: many conversations at once while each model call takes a while;
- overhead: one turn at a time with an instant model;
- statements: one-call turns one at a time, counted by the serve process itself.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from typing import Any

from load_serve import (
    QUESTIONS,
    Bench,
    CountingServe,
    TimedList,
    dm_body,
    machine_busy,
    own_cpu_seconds,
    pct,
)

# Before the statement count: let the warm-up's work end; then count what an idle process sends.
SETTLE_SECONDS = 1.0
IDLE_SECONDS = 3.0


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


async def one_turn(b: Bench, text: str) -> tuple[float, float]:
    """A new customer's DM, answered: (seconds from the POST to the answer, the ack's seconds)."""
    user, channel, ts = b.new_conversation()
    started = time.monotonic()
    status, ack = await b.post(dm_body(user, channel, ts, text))
    if status != 200 or not await b.wait_answered([ts], timeout=60):
        raise SystemExit(f"a turn was not answered (HTTP {status}); see {b.serves[0].log}")
    return b.slack.answered_at[ts] - started, ack


async def overhead_phase(b: Bench, turns: int) -> dict[str, Any]:
    b.model.delay = 0.0
    calls_before = len(b.model.requests)
    cpu_before = sum(b.cpu_seconds())
    times, acks = [], []
    for _ in range(turns):
        answered, ack = await one_turn(b, b.question)
        times.append(answered)
        acks.append(ack)
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


# What a statement count holds besides statements (bench/_count_statements.py).
TRANSACTION_ENDS = ("BEGIN", "COMMIT", "ROLLBACK")
POOL_RESET = "reset"


def round_trips(counts: dict[str, float]) -> float:
    """Statements and BEGIN/COMMIT/ROLLBACK: what the bot asks of the database driver."""
    return sum(n for kind, n in counts.items() if kind != POOL_RESET)


async def statements_phase(b: Bench, serve: CountingServe, turns: int) -> dict[str, Any]:
    """Database statements per one-call turn ("plain", instant model), one turn at a time, all
    that the process sent meanwhile; and what it sends idle (its sweeps) for comparison."""
    b.model.delay = 0.0
    await asyncio.sleep(SETTLE_SECONDS)
    start = await serve.statements()
    await asyncio.sleep(IDLE_SECONDS)
    idle = await serve.statements()
    calls_before = len(b.model.requests)
    began = time.monotonic()
    for _ in range(turns):
        await one_turn(b, QUESTIONS["plain"])
    await asyncio.sleep(SETTLE_SECONDS)
    seconds = time.monotonic() - began
    counts = await serve.statements() - idle
    idle -= start
    per_turn = {kind: n / turns for kind, n in sorted(counts.items())}
    return {
        "turns": turns,
        "model_calls_per_turn": (len(b.model.requests) - calls_before) / turns,
        "per_turn": per_turn,
        "round_trips": round_trips(per_turn),
        "seconds": seconds,
        "idle_per_second": round_trips(dict(idle)) / IDLE_SECONDS,
        # What the idle rate would add to each turn's count over the turns' span.
        "idle_per_turn": round_trips(dict(idle)) / IDLE_SECONDS * seconds / turns,
        "idle": dict(idle),
    }
