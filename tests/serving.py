"""Real `supportbot serve` processes, for the tests that need one and for `bench/load.py`.

Each is `python -m bot.cli serve` on a free loopback port, started in a process group of its
own (so that `kill` also ends the processes of `--processes N`), with the environment the
caller builds, and returned once `GET /healthz` answers 200.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

import bot
from tests.fakes.slack import TEAM_ID

# The subprocess runs the very code under test, wherever it is checked out.
CODE_ROOT = str(Path(bot.__file__).resolve().parent.parent)
# Generous for a loaded 2-core machine; a healthy start takes a few seconds.
STARTUP_TIMEOUT = 60.0


def process_env(database_url: str, home: Path) -> dict[str, str]:
    """A `supportbot` process's environment from scratch: nothing inherited from the developer's
    shell but PATH, this checkout's code, the test's database."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONPATH": CODE_ROOT,
        "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": database_url,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ServeProcess:
    """One `supportbot serve` (with `--processes N`, the parent of N)."""

    proc: asyncio.subprocess.Process
    base: str
    log: Path

    @property
    def events_url(self) -> str:
        return f"{self.base}/slack/events"

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.returncode is None

    async def stop(self, timeout: float = STARTUP_TIMEOUT) -> int:
        """SIGTERM, as a process manager stops it; its exit status."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), timeout)

    async def kill(self) -> None:
        """SIGKILL to it and to any process it started: no shutdown code runs, answers in
        flight are simply cut off."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        await self.proc.wait()


async def start_serve(
    env: dict[str, str],
    cwd: Path,
    log: Path,
    http: aiohttp.ClientSession,
    *args: str,
    timeout: float = STARTUP_TIMEOUT,
    program: tuple[str, ...] = ("-m", "bot.cli"),
) -> ServeProcess:
    """Start `supportbot serve [args]` and wait until it is healthy; RuntimeError (with its
    output) if it exits or stays unhealthy for `timeout` seconds. `program`: what Python runs
    (bench/load.py counts statements through a script that calls `bot.cli.main`)."""
    port = free_port()
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            *program,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    served = ServeProcess(proc, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + timeout
    while True:
        if not served.alive():
            raise RuntimeError(f"supportbot serve exited ({proc.returncode}):\n{served.output}")
        try:
            async with http.get(f"{served.base}/healthz") as resp:
                if resp.status == 200:
                    return served
        except aiohttp.ClientError:
            pass
        if time.monotonic() > deadline:
            await served.kill()
            raise RuntimeError(
                f"supportbot serve was not healthy in {timeout:.0f}s:\n{served.output}"
            )
        await asyncio.sleep(0.05)


def event_body(event: dict[str, Any], event_id: str | None = None) -> str:
    """An Events API `event_callback` envelope around `event`, as Slack sends it."""
    return json.dumps(
        {
            "token": "legacy",
            "team_id": TEAM_ID,
            "api_app_id": "A0001",
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10]}",
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": TEAM_ID, "user_id": "UBOT", "is_bot": True}],
        }
    )
