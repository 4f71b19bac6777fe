"""Probe for order numbers as an outsider would: ask about someone else's order and about a
missing one, through the real bot with the fake providers, and compare what each costs.

    python bench/order_probe_bench.py [--probes 5] [--model-delay 0.2]

Each probe is a new DM thread from alice@example.com: order 2001 belongs to bob@example.com,
order 9999 does not exist. `--model-delay` is added to every fake model call, standing in for a
provider's latency, so wall time shows how many calls a probe makes. Reported per kind: model
calls and tiers per probe, cost per probe (the fakes' token counts at list prices), and the
median seconds from the signed event to the reply being posted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the fakes live in tests/
sys.path.insert(0, str(Path(__file__).resolve().parent))

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from conversation_bench import SECRET, signed
from sqlmodel import col, select

from bot.app import create_app, create_web_app, slack_client
from bot.config import Settings
from bot.services import build_services, prepare_database
from bot.store.models import ModelCall
from tests.fakes.models import FakeAnthropic, FakeOpenAI
from tests.fakes.slack import FakeSlack

KINDS = {"someone_elses": "2001", "missing": "9999"}


async def run(probes: int, delay: float, workdir: Path) -> list[dict[str, object]]:
    slack = await FakeSlack().start()
    slack.add_user("UALICE", "alice@example.com", "Alice")
    anthropic, openai = await FakeAnthropic().start(), await FakeOpenAI().start()
    anthropic.delay = delay
    settings = Settings(
        _env_file=None,
        slack_bot_token="xoxb-bench",
        slack_signing_secret=SECRET,
        slack_api_url=slack.api_url,
        anthropic_api_key="k",
        anthropic_base_url=anthropic.base_url,
        openai_api_key="k",
        openai_base_url=openai.base_url,
        database_url=f"sqlite:///{workdir}/probes.db",
        rate_limit_per_minute=0,
    )
    client = slack_client(settings)
    services = build_services(settings, client)
    await prepare_database(services.settings, services.db)
    await services.start()
    server = TestServer(create_web_app(create_app(settings, services, client), services))
    await server.start_server()
    results = []
    async with ClientSession() as http:
        # A first question warms the prompt cache and the connections; it is not reported.
        plan = [("warm-up", "1042")] + [(k, v) for _ in range(probes) for k, v in KINDS.items()]
        for n, (kind, number) in enumerate(plan):
            event = {
                "type": "message",
                "channel": "D1",
                "channel_type": "im",
                "user": "UALICE",
                "text": f"where is order {number}?",
                "ts": f"1700000000.{n + 1:06d}",
            }
            body = json.dumps(
                {"type": "event_callback", "team_id": "T1", "event_id": f"Ev{n}", "event": event}
            )
            started = time.perf_counter()
            async with http.post(server.make_url("/slack/events"), data=body, headers=signed(body)):
                pass
            await services.worker.drain()
            results.append((kind, event["ts"], time.perf_counter() - started))
    async with services.db.session() as s:
        calls = list((await s.exec(select(ModelCall).order_by(col(ModelCall.id)))).all())
    await server.close()
    await services.close()
    if client.session is not None:
        await client.session.close()
    for fake in (slack, anthropic, openai):
        await fake.close()
    return summarise(results, calls, probes)


def summarise(
    results: list[tuple[str, str, float]], calls: list[ModelCall], probes: int
) -> list[dict[str, object]]:
    by_message: dict[int | None, list[ModelCall]] = {}
    for c in calls:
        by_message.setdefault(c.message_id, []).append(c)
    ordered = list(by_message.values())  # one entry per probe, in the order they were sent
    rows = []
    for kind in KINDS:
        mine = [ordered[i] for i, r in enumerate(results) if r[0] == kind]
        cost = sum((c.cost_usd or Decimal(0) for m in mine for c in m), Decimal(0))
        rows.append(
            {
                "probe": kind,
                "probes": probes,
                "model_calls_per_probe": sorted({len(m) for m in mine}),
                "tiers": sorted({"+".join(c.tier for c in m) for m in mine}),
                "cost_usd_per_probe": f"{cost / probes:.6f}",
                "median_seconds": round(
                    statistics.median(r[2] for r in results if r[0] == kind), 3
                ),
            }
        )
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--probes", type=int, default=5)
    parser.add_argument("--model-delay", type=float, default=0.2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for row in await run(args.probes, args.model_delay, Path(tmp)):
            print(json.dumps(row))


if __name__ == "__main__":
    asyncio.run(main())
