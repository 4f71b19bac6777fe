"""A tier's models in order of preference, with fallback on failure and a cool-down.

The chain is itself a `ChatModel`: its callers ask it as they would ask one model. Each API
call it makes, failed or not, is reported as a `CallRecord` (built here and nowhere else)
to the `record` function it was given with `reporting`.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.agent.models.base import ChatModel, ChatRequest, ModelResponse, TokenUsage
from bot.agent.models.calls import CallOutcome, CallRecord, RecordCall
from bot.errors import ProviderError
from bot.store.models import Tier

# What a response says its confidence is (a final answer's), or None; stored with its call.
ReadConfidence = Callable[[ModelResponse], float | None]


class Cooldown:
    """Remembers models that just failed, so the next requests skip them for a while."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._until: dict[tuple[str, str], float] = {}

    def cooling(self, model: ChatModel) -> bool:
        return self._until.get((model.provider, model.name), 0.0) > time.monotonic()

    def failed(self, model: ChatModel) -> None:
        self._until[(model.provider, model.name)] = time.monotonic() + self._seconds

    def recovered(self, model: ChatModel) -> None:
        self._until.pop((model.provider, model.name), None)


@dataclass(frozen=True)
class _Reporting:
    """Where a chain's calls go: the tier they are charged to, and the record function."""

    tier: Tier
    record: RecordCall
    confidence: ReadConfidence | None = None


class ModelChain:
    """Tries each model in turn (skipping cooling ones unless all are) until one answers."""

    # As a `ChatModel`: "chain", and a name listing its models (each call's record names the
    # model that made it).
    provider = "chain"

    def __init__(self, models: list[ChatModel], cooldown: Cooldown) -> None:
        if not models:
            raise ValueError("a model chain needs at least one model")
        self.models = models
        self.name = ",".join(f"{m.provider}:{m.name}" for m in models)
        self._cooldown = cooldown
        self._reporting: _Reporting | None = None

    def reporting(
        self, record: RecordCall, *, tier: Tier, confidence: ReadConfidence | None = None
    ) -> ModelChain:
        """This chain, passing every API call it makes to `record` as a call of `tier`;
        `confidence` reads the confidence stored with a response's call."""
        chain = copy.copy(self)
        chain._reporting = _Reporting(tier, record, confidence)
        return chain

    async def complete(self, request: ChatRequest) -> ModelResponse:
        """The first good response; every attempt, failed or not, is reported first.
        Raises the last `ProviderError` when every model failed."""
        ready = [m for m in self.models if not self._cooldown.cooling(m)] or self.models
        error: ProviderError | None = None
        for model in ready:
            started = time.perf_counter()
            try:
                resp = await model.complete(request)
            except ProviderError as exc:
                self._cooldown.failed(model)
                await self._report(model, started, None, exc.kind)
                error = exc
                continue
            self._cooldown.recovered(model)
            await self._report(model, started, resp, "ok")
            return resp
        assert error is not None
        raise error

    async def _report(
        self, model: ChatModel, started: float, resp: ModelResponse | None, outcome: CallOutcome
    ) -> None:
        if self._reporting is None:
            return
        latency_ms = int((time.perf_counter() - started) * 1000)
        read = self._reporting.confidence
        await self._reporting.record(
            CallRecord(
                model.provider,
                model.name,
                self._reporting.tier,
                resp.usage if resp else TokenUsage(),
                resp.usage_raw if resp else {},
                latency_ms,
                outcome,
                resp.stop_reason if resp else "",
                read(resp) if resp and read else None,
                resp.batch if resp else False,
            )
        )
