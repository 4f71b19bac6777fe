"""CPU per model call of the Anthropic SDK's two HTTP transports: httpx (its default) and
aiohttp (`DefaultAioHttpClient`, what supportbot uses), against the fake Anthropic server.

Run from the repository root (the venv with supportbot installed):

    python bench/model_client.py              # 600 calls per transport and concurrency
    python bench/model_client.py --calls 2000

The fake runs in a process of its own, so that only the client's CPU is counted (this
process's CPU time, divided by the calls). Transports alternate, twice each, to spread the
machine's noise. Nothing here reaches the network: the fake is on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import anthropic

ROOT = Path(__file__).resolve().parent.parent

SERVE_FAKE = f"""
import asyncio, sys
sys.path.insert(0, {str(ROOT)!r})
from tests.fakes.models import FakeAnthropic

async def main():
    fake = await FakeAnthropic().start()
    print(fake.base_url, flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""

# About what one support turn sends: a system prompt, a short thread, the bot's tools.
SYSTEM = [{"type": "text", "text": "You are the support assistant. " * 300}]
MESSAGES = [{"role": "user", "content": "Hello! Where is my order 1042? " * 4}]
TOOLS = [
    {
        "name": name,
        "description": f"The {name} tool.",
        "input_schema": {"type": "object", "properties": {"text": {"type": "string"}}},
    }
    for name in ("lookup_order", "search_help_center", "final_answer")
]


async def cpu_per_call(base_url: str, transport: str, concurrency: int, calls: int) -> float:
    http = {"http_client": anthropic.DefaultAioHttpClient()} if transport == "aiohttp" else {}
    client = anthropic.AsyncAnthropic(api_key="bench", base_url=base_url, max_retries=0, **http)

    async def one() -> None:
        await client.messages.create(
            model="claude-haiku-4-5",
            max_tokens=1024,
            system=SYSTEM,  # type: ignore[arg-type]
            messages=MESSAGES,  # type: ignore[arg-type]
            tools=TOOLS,  # type: ignore[arg-type]
        )

    try:
        await asyncio.gather(*(one() for _ in range(concurrency)))  # connections, imports
        rounds = max(1, calls // concurrency)
        started = time.process_time()
        for _ in range(rounds):
            await asyncio.gather(*(one() for _ in range(concurrency)))
        return (time.process_time() - started) / (rounds * concurrency)
    finally:
        await client.close()


async def main(args: argparse.Namespace) -> None:
    fake = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SERVE_FAKE, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert fake.stdout is not None
        base_url = (await fake.stdout.readline()).decode().strip()
        print(f"Anthropic SDK {anthropic.__version__}: CPU per call of this process")
        for concurrency in args.concurrency:
            figures: dict[str, list[float]] = {"httpx": [], "aiohttp": []}
            for _ in range(2):
                for transport in figures:
                    seconds = await cpu_per_call(base_url, transport, concurrency, args.calls)
                    figures[transport].append(seconds)
            line = ", ".join(
                f"{t} {' / '.join(f'{s * 1000:.2f}' for s in v)} ms" for t, v in figures.items()
            )
            print(f"  {concurrency:3} at once: {line}")
    finally:
        fake.kill()
        await fake.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=600)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 50, 200])
    asyncio.run(main(parser.parse_args()))
