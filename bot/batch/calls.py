"""The plain values of a batch run: a call's custom id and body hash (what makes it the same
call in a later run), the backoff between polls, and a batch's progress as reported."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bot.batch.models import BatchState

# What both Batch APIs take in a custom id (Anthropic: ^[a-zA-Z0-9_-]{1,64}$).
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_-]")
_SCOPE_CHARS = 40


def custom_id(scope: str, index: int) -> str:
    """`<scope>-<hash of scope>-<index>`: the scope (a case's "<suite>/<case id>") with what a
    custom id may not hold as `_` and cut to 40 characters, then 8 hex digits of its sha256 (so
    distinct scopes stay distinct), then the call's index in the scope; stable across runs."""
    readable = _NOT_ALLOWED.sub("_", scope)[:_SCOPE_CHARS]
    digest = hashlib.sha256(scope.encode()).hexdigest()[:8]
    return f"{readable}-{digest}-{index}"


def request_hash(provider: str, body: dict[str, Any]) -> str:
    """sha256 of the provider and the request's body: a changed request is another call."""
    canonical = json.dumps([provider, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Backoff:
    """Seconds between polls of a batch: `first`, then each `factor` times longer, at most
    `most` (batches take minutes to hours; tests poll in milliseconds)."""

    first: float = 15.0
    factor: float = 1.5
    most: float = 300.0

    def delays(self) -> Iterator[float]:
        for n in itertools.count():
            yield min(self.first * self.factor**n, self.most)


@dataclass(frozen=True)
class BatchProgress:
    """A batch sent, polled or ended: its round, model, the provider's id and word for its
    status, and how many of its requests are done."""

    round: int
    provider: str
    model: str
    batch_id: str
    state: BatchState
    provider_status: str
    done: int
    total: int
