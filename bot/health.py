"""Liveness and readiness of a serve process: `GET /healthz` and `GET /readyz`.

Liveness says only that the process serves HTTP: a restart cures nothing else, and a database
outage must not make every replica restart at once. Readiness says whether this process should
be sent work: the database answers, its schema has this code's migrations, and the process is
not draining (after SIGTERM it keeps serving for SUPPORTBOT_DRAIN_SECONDS while it is not
ready, so a load balancer stops sending before it stops listening).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass
from enum import StrEnum

from bot.store.db import Database, known_revisions

log = logging.getLogger(__name__)
# Answer within a probe's timeout (5 s in deploy/kubernetes/), even when every pooled
# connection is busy or the database hangs.
_DATABASE_TIMEOUT_SECONDS = 3.0


class Readiness(StrEnum):
    READY = "ready"
    DRAINING = "draining"
    DATABASE_UNREACHABLE = "database_unreachable"
    # Known to this code but older than its newest: `supportbot db upgrade` has not run.
    SCHEMA_BEHIND = "schema_behind"


@functools.cache
def _revisions() -> tuple[str, frozenset[str]]:
    head, known = known_revisions()
    return head, frozenset(known)


@dataclass
class Health:
    """One per serve process; `draining` is set by its SIGTERM handler."""

    db: Database
    draining: bool = False

    async def readiness(self) -> Readiness:
        if self.draining:
            return Readiness.DRAINING
        try:
            async with asyncio.timeout(_DATABASE_TIMEOUT_SECONDS):
                revision = await self.db.schema_revision()
        except Exception as exc:  # any failure to reach the database means: send no work
            log.warning("readiness: the database did not answer (%s)", type(exc).__name__)
            return Readiness.DATABASE_UNREACHABLE
        head, known = _revisions()
        # A revision this code does not know comes from a newer release that migrated the
        # schema during a rolling update: taking every old replica out of rotation at once
        # would stop all answers until the new ones are ready, so this one serves until it is
        # replaced (the README's Deploying says when to stop the old release first instead).
        if revision is None or (revision != head and revision in known):
            return Readiness.SCHEMA_BEHIND
        return Readiness.READY
