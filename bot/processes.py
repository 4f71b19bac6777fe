"""`supportbot serve --processes N`: several serve processes on one port, to use a machine's cores.

One serve process runs one event loop, and one event loop keeps at most one core busy. The
processes share nothing but the database: they are the same stateless replicas as on several
machines (each message is claimed by one of them, see `bot/agent/worker.py`), and the kernel
spreads the incoming connections over them (SO_REUSEPORT on the shared port).

This parent migrates the database once, starts the processes, starts again one that dies, and
on SIGTERM or SIGINT stops them all, letting each finish the answers it has in flight. It
gives them a fresh directory for their metrics (PROMETHEUS_MULTIPROC_DIR, `bot/metrics.py`),
so that any of them answers a scrape with the sum of all, and removes it at the end.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from types import FrameType

from bot import metrics

log = logging.getLogger(__name__)

# A process that exits with an error within this many seconds of its start is failing to start
# (a wrong setting, a port taken, the database unreachable): stop everything rather than loop.
_STARTUP_SECONDS = 10.0
_RESTART_DELAY = 1.0
_STOP_TIMEOUT = 60.0


class _Child:
    def __init__(self, slot: int, command: list[str]) -> None:
        self.slot = slot
        self.started = time.monotonic()
        self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL)


@contextlib.contextmanager
def _metrics_directory() -> Iterator[None]:
    """A fresh PROMETHEUS_MULTIPROC_DIR for the children (inherited: they import
    prometheus_client after it is set), removed when they have stopped."""
    os.environ[metrics.MULTIPROC_DIR_ENV] = tempfile.mkdtemp(prefix="supportbot-metrics-")
    try:
        yield
    finally:
        shutil.rmtree(os.environ.pop(metrics.MULTIPROC_DIR_ENV), ignore_errors=True)


def supervise(count: int, host: str, port: int, drain_seconds: float = 0.0) -> int:
    """Run `count` serve processes until SIGTERM or SIGINT; the exit status for `main`.
    Each process drains for `drain_seconds` (not ready, still serving) before it stops."""
    with _metrics_directory():
        return _supervise(count, host, port, drain_seconds)


def _supervise(count: int, host: str, port: int, drain_seconds: float) -> int:
    command = [
        sys.executable,
        "-m",
        "bot.cli",
        "serve",
        "--host",
        host,
        "--port",
        str(port),
        "--reuse-port",
    ]
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    children = [_Child(slot, command) for slot in range(count)]
    log.info("started %d serve processes on %s:%d", count, host, port)
    status = 0
    while not stopping:
        time.sleep(0.2)
        for i, child in enumerate(children):
            code = child.proc.poll()
            if code is None or stopping:
                continue
            # killed by a signal (the OOM killer, an operator): start it again in any case
            if code > 0 and time.monotonic() - child.started < _STARTUP_SECONDS:
                log.error("serve process %d failed to start (exit %s); stopping", child.slot, code)
                stopping, status = True, code or 1
                break
            log.warning("serve process %d exited (%s); starting it again", child.slot, code)
            metrics.process_dead(child.proc.pid)
            time.sleep(_RESTART_DELAY)
            children[i] = _Child(child.slot, command)
    for child in children:
        if child.proc.poll() is None:
            child.proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + drain_seconds + _STOP_TIMEOUT
    for child in children:
        try:
            child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("serve process %d did not stop in time; killing it", child.slot)
            child.proc.kill()
            child.proc.wait()
    return status
