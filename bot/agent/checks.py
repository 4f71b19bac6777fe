"""The guards' checks, run off the event loop.

A check reads up to ``escalation.guards.MAX_CHECKED_CHARS`` of customer or tool text with a
few hundred patterns: milliseconds of CPU, which on the event loop would delay every other
conversation's acknowledgement, ``/healthz`` and the renewal of the lease on the message
being answered.  So the checks run in a small pool of their own threads.

CPython's ``re`` holds the GIL for the whole of one match, so a thread alone does not make a
slow pattern fair: the loop gets the GIL back only between matches.  What guarantees
fairness is that every pattern is linear and the scanned text is bounded (see
``escalation.guards``); the thread keeps the sum of many short matches off the loop.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

_P = ParamSpec("_P")
_R = TypeVar("_R")

# Two threads: checks of concurrent conversations overlap, but they never take every core
# (a check is pure CPU; more threads would only queue on the GIL).
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="guard-check")


async def off_loop(check: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
    """``check(*args, **kwargs)`` in the checks' thread pool."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_POOL, functools.partial(check, *args, **kwargs))
