"""Play 10-turn and 30-turn conversations against the fake providers through the real bot and
report input tokens per turn, the cached share of input tokens, and cost per conversation
against always using the strong model.

    python bench/conversation_bench.py [--turns 10 30] [--provider anthropic|openai]

Token counts come from the fake servers (about 4 characters a token, with a provider-style
prompt cache over the stable prefix), so the figures show the shape (flat or growing input,
cached share) rather than any provider's exact tokenizer.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the fakes live in tests/

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from sqlmodel import col, select

from bot.app import create_app, create_web_app, slack_client
from bot.config import Settings
from bot.services import build_services, prepare_database
from bot.store.models import ModelCall
from bot.store.pricing import call_cost
from tests.fakes.models import FakeAnthropic, FakeOpenAI
from tests.fakes.slack import FakeSlack

SECRET = "bench-secret"
QUESTIONS = [
    "where is my order 1042?",
    "and order 1043?",
    "how do returns work?",
    "list my orders",
    "what about shipping times?",
]


def signed(body: str) -> dict[str, str]:
    ts = str(int(time.time()))
    sig = hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={sig}",
        "Content-Type": "application/json",
    }


async def play(turns: int, provider: str, workdir: Path) -> dict[str, object]:
    slack = await FakeSlack().start()
    slack.add_user("UALICE", "alice@example.com", "Alice")
    anthropic = await FakeAnthropic().start()
    openai = await FakeOpenAI().start()
    primary = "anthropic:claude-haiku-4-5" if provider == "anthropic" else "openai:gpt-4o-mini"
    strong = "anthropic:claude-sonnet-4-5" if provider == "anthropic" else "openai:gpt-4o"
    settings = Settings(
        _env_file=None,
        slack_bot_token="xoxb-bench",
        slack_signing_secret=SECRET,
        slack_api_url=slack.api_url,
        anthropic_api_key="k",
        anthropic_base_url=anthropic.base_url,
        openai_api_key="k",
        openai_base_url=openai.base_url,
        database_url=f"sqlite:///{workdir}/bench-{turns}-{provider}.db",
        primary_model=primary,
        strong_model=strong,
        rate_limit_per_minute=0,
    )
    client = slack_client(settings)
    services = build_services(settings, client)
    await prepare_database(services.settings, services.db)
    await services.start()
    server = TestServer(create_web_app(create_app(settings, services, client), services))
    await server.start_server()
    root = "1700000000.000001"
    per_turn: list[int] = []
    async with ClientSession() as http:
        for turn in range(turns):
            ts = root if turn == 0 else f"1700000000.{turn + 1:06d}"
            event = {
                "type": "message",
                "channel": "D1",
                "channel_type": "im",
                "user": "UALICE",
                "text": QUESTIONS[turn % len(QUESTIONS)],
                "ts": ts,
            }
            if turn:
                event["thread_ts"] = root
            body = json.dumps(
                {"type": "event_callback", "team_id": "T1", "event_id": f"Ev{turn}", "event": event}
            )
            async with http.post(
                server.make_url("/slack/events"), data=body, headers=signed(body)
            ) as resp:
                assert resp.status == 200
            await services.worker.drain()
    async with services.db.session() as s:
        calls = list((await s.exec(select(ModelCall).order_by(col(ModelCall.id)))).all())
    by_message: dict[int | None, int] = {}
    for c in calls:
        by_message[c.message_id] = by_message.get(c.message_id, 0) + c.input_tokens
    per_turn = list(by_message.values())
    total_in = sum(c.input_tokens for c in calls)
    cached = sum(c.cached_input_tokens for c in calls)
    cost = sum((c.cost_usd or Decimal(0) for c in calls), Decimal(0))
    strong_provider, strong_model = strong.split(":")
    always_strong = sum(
        (
            call_cost(
                strong_provider,
                strong_model,
                input_tokens=c.input_tokens,
                cached_input_tokens=c.cached_input_tokens,
                cache_write_tokens=c.cache_write_tokens,
                output_tokens=c.output_tokens,
            )
            or Decimal(0)
            for c in calls
        ),
        Decimal(0),
    )
    await server.close()
    await services.close()
    if client.session is not None:
        await client.session.close()
    for fake in (slack, anthropic, openai):
        await fake.close()
    return {
        "turns": turns,
        "provider": provider,
        "model_calls": len(calls),
        "input_tokens_per_turn_first_5": per_turn[:5],
        "input_tokens_per_turn_last_5": per_turn[-5:],
        "cached_share_of_input": round(cached / total_in, 3) if total_in else 0,
        "cost_usd": f"{cost:.6f}",
        "always_strong_usd": f"{always_strong:.6f}",
        "routing_saves": f"{(1 - cost / always_strong):.0%}" if always_strong else "n/a",
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, nargs="+", default=[10, 30])
    parser.add_argument(
        "--provider", choices=["anthropic", "openai"], nargs="+", default=["anthropic", "openai"]
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for provider in args.provider:
            for turns in args.turns:
                print(json.dumps(await play(turns, provider, Path(tmp))))


if __name__ == "__main__":
    asyncio.run(main())
