"""Time the `/costs` queries on many recorded model calls in PostgreSQL.

Run from the repository root:

    python bench/costs_bench.py --calls 10000
    python bench/costs_bench.py --calls 1000000

It creates a fresh database on the server (`--dsn`, default the local test server), migrates it,
bulk-loads synthetic conversations, messages, model calls and escalations with COPY, ANALYZEs, then
runs the `30d` report, a thread detail, a customer's spend and the chart's daily series several
times each and prints the median and worst time of each. The database is dropped at the end
unless `--keep`. `--without-cost-indexes` drops the index of migration 0006 first, to compare.

The data: calls spread evenly over the last 60 days (so `30d` covers about half), one to six
customer messages a thread, one to three primary calls a message, 12% of messages escalated to
two strong calls, 3% of threads handed to a person, 1% of calls of unknown price.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import costs  # noqa: E402
from bot.store.db import Database  # noqa: E402

STRONG = "anthropic:claude-sonnet-4-5"
# Cost per token in units of 1e-10 USD: (input, cache read, cache write, output).
RATES = {
    "claude-haiku-4-5": (10_000, 1_000, 12_500, 50_000),
    "claude-sonnet-4-5": (30_000, 3_000, 37_500, 150_000),
}
COST_INDEXES = ("ix_model_call_strong", "ix_model_call_user")


def synthesize(calls: int, seed: int = 7) -> dict[str, list[tuple[Any, ...]]]:
    rnd = random.Random(seed)
    now = datetime.now(UTC)
    conversations: list[tuple[Any, ...]] = []
    messages: list[tuple[Any, ...]] = []
    model_calls: list[tuple[Any, ...]] = []
    escalations: list[tuple[Any, ...]] = []
    ts = 1_700_000_000_000_000
    users = [f"U{n:08d}" for n in range(max(10, calls // 50))]

    def call(
        conv_id: int, msg_id: int, user: str, tier: str, model: str, at: datetime, reasons: str
    ) -> None:
        total = rnd.randint(2_000, 9_000)
        cached = rnd.choice((0, total // 2, total - 800)) if total > 1_000 else 0
        write = 0 if cached else rnd.choice((0, 0, 1_500))
        output = rnd.randint(30, 400)
        provider = "anthropic"
        cost: Decimal | None
        if tier == "primary" and rnd.random() < 0.01:
            provider, model, cost = "openai", "llama3.1", None
        else:
            r_in, r_read, r_write, r_out = RATES[model]
            units = (total - cached - write) * r_in + cached * r_read + write * r_write
            cost = Decimal(units + output * r_out).scaleb(-10)
        model_calls.append(
            (
                len(model_calls) + 1,
                conv_id,
                msg_id,
                user,
                provider,
                model,
                tier,
                total,
                cached,
                write,
                output,
                cost,
                rnd.randint(300, 4_000),
                "ok",
                "tool_use",
                None,
                reasons,
                "{}",
                at,
            )
        )

    while len(model_calls) < calls:
        conv_id = len(conversations) + 1
        user = rnd.choice(users)
        start = now - timedelta(seconds=rnd.uniform(0, 60 * 86_400))
        ts += rnd.randint(1, 5_000)
        thread_ts = f"{ts // 1_000_000}.{ts % 1_000_000:06d}"
        channel = "D" + user[1:]
        strong_thread = False
        at = start
        for _ in range(rnd.randint(1, 6)):
            ts += rnd.randint(1, 5_000)
            msg_id = len(messages) + 1
            at += timedelta(seconds=rnd.randint(5, 600))
            messages.append(
                (
                    msg_id,
                    conv_id,
                    "user",
                    user,
                    "where is my order?",
                    channel,
                    f"{ts // 1_000_000}.{ts % 1_000_000:06d}",
                    "answered",
                    at,
                )
            )
            for _ in range(rnd.choice((1, 2, 2, 3))):
                call(conv_id, msg_id, user, "primary", "claude-haiku-4-5", at, "")
            if rnd.random() < 0.12:
                strong_thread = True
                for _ in range(2):
                    call(conv_id, msg_id, user, "strong", "claude-sonnet-4-5", at, "low_confidence")
        if rnd.random() < 0.03:
            escalations.append(
                (
                    len(escalations) + 1,
                    conv_id,
                    len(messages),
                    "open",
                    '["low_confidence", "strong_not_enough"]',
                    "[]",
                    "",
                    "",
                    "",
                    at,
                )
            )
        conversations.append(
            (
                conv_id,
                "T0001",
                channel,
                thread_ts,
                user,
                "active",
                "strong" if strong_thread else "primary",
                Decimal(0),
                start,
                at,
            )
        )
    return {
        "conversation": conversations,
        "message": messages,
        "model_call": model_calls,
        "escalation": escalations,
    }


COLUMNS = {
    "conversation": (
        "id team_id channel_id thread_ts user_id status tier total_cost_usd created_at updated_at"
    ),
    "message": "id conversation_id role user_id text channel_id slack_ts status created_at",
    "model_call": (
        "id conversation_id message_id user_id provider model tier input_tokens "
        "cached_input_tokens cache_write_tokens output_tokens cost_usd latency_ms outcome "
        "stop_reason confidence reasons usage_raw created_at"
    ),
    "escalation": (
        "id conversation_id message_id status reasons findings summary draft leads_channel "
        "created_at"
    ),
}


async def load(dsn: str, data: dict[str, list[tuple[Any, ...]]]) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for table in ("conversation", "message", "model_call", "escalation"):
            await conn.copy_records_to_table(
                table, records=data[table], columns=COLUMNS[table].split()
            )
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        # The running totals the pipeline keeps in the same transaction as each call.
        await conn.execute(
            "UPDATE conversation c SET total_cost_usd = s.total FROM (SELECT conversation_id, "
            "SUM(COALESCE(cost_usd, 0)) AS total FROM model_call GROUP BY conversation_id) s "
            "WHERE s.conversation_id = c.id"
        )
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


async def timed(label: str, repeat: int, work: Callable[[], Awaitable[Any]]) -> Any:
    times = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = await work()
        times.append((time.perf_counter() - started) * 1000)
    print(
        f"  {label:<28} median {statistics.median(times):8.1f} ms   "
        f"worst {max(times):8.1f} ms   ({repeat} runs)"
    )
    return result


async def run(args: argparse.Namespace) -> None:
    base = make_url(args.dsn)
    name = f"costs_bench_{uuid.uuid4().hex[:8]}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    url = base.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    db = Database(url)
    try:
        await db.upgrade()
        if args.without_cost_indexes:
            raw = await asyncpg.connect(url)
            for index in COST_INDEXES:
                await raw.execute(f"DROP INDEX IF EXISTS {index}")
            await raw.close()
        started = time.perf_counter()
        data = synthesize(args.calls)
        generated = time.perf_counter()
        await load(url, data)
        loaded = time.perf_counter()
        print(
            f"{len(data['model_call']):,} calls, {len(data['message']):,} messages, "
            f"{len(data['conversation']):,} threads, {len(data['escalation']):,} escalations: "
            f"generated in {generated - started:.1f} s, loaded (COPY, ANALYZE) in "
            f"{loaded - generated:.1f} s"
        )
        conv = data["conversation"][len(data["conversation"]) // 2]
        user = conv[4]
        report = await timed(
            "report 30d",
            args.repeat,
            lambda: costs.report(db, "30d", strong_model=STRONG),
        )
        await timed(
            "report today", args.repeat, lambda: costs.report(db, "today", strong_model=STRONG)
        )
        detail = await timed(
            "thread detail", args.repeat, lambda: costs.thread_detail(db, conv[2], conv[3])
        )
        await timed(
            "customer spend 30d", args.repeat, lambda: costs.customer_spend(db, user, "30d")
        )
        await timed("daily spend 30d (chart)", args.repeat, lambda: costs.daily_spend(db, "30d"))
        print(
            f"  30d: {report.calls:,} calls, {report.conversations:,} conversations, spend "
            f"{costs.format_usd(report.total_usd)}, saved "
            f"{costs.format_usd(report.savings.saved_usd)}; thread detail: "
            f"{len(detail.calls) if detail else 0} calls"
        )
    finally:
        await db.close()
        if not args.keep:
            conn = await asyncpg.connect(admin)
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.close()
        else:
            print(f"kept database {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--without-cost-indexes", action="store_true", help="drop migration 0006's index first"
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
