"""A tier's models in order of preference, with fallback on failure and a cool-down."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.agent.models.base import ChatMessage, ChatModel, ModelResponse, ToolSpec
from bot.errors import ProviderError


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
class Attempt:
    """One API call of a chain: which model, how long, and the response or the error kind."""

    model: ChatModel
    latency_ms: int
    response: ModelResponse | None
    error_kind: str = ""


OnAttempt = Callable[[Attempt], Awaitable[None]]


class ModelChain:
    """Tries each model in turn (skipping cooling ones unless all are) until one answers."""

    def __init__(self, models: list[ChatModel], cooldown: Cooldown) -> None:
        if not models:
            raise ValueError("a model chain needs at least one model")
        self.models = models
        self._cooldown = cooldown

    @property
    def first(self) -> ChatModel:
        return self.models[0]

    async def complete(
        self,
        on_attempt: OnAttempt,
        *,
        system: str,
        messages: list[ChatMessage],
        tools: list[ToolSpec],
        require_tool: bool,
        max_tokens: int,
    ) -> tuple[ChatModel, ModelResponse]:
        """The first good response; every attempt, failed or not, goes to `on_attempt`.
        Raises the last `ProviderError` when every model failed."""
        ready = [m for m in self.models if not self._cooldown.cooling(m)] or self.models
        error: ProviderError | None = None
        for model in ready:
            started = time.perf_counter()
            try:
                resp = await model.complete(
                    system=system,
                    messages=messages,
                    tools=tools,
                    require_tool=require_tool,
                    max_tokens=max_tokens,
                )
            except ProviderError as exc:
                latency = int((time.perf_counter() - started) * 1000)
                self._cooldown.failed(model)
                await on_attempt(Attempt(model, latency, None, exc.kind))
                error = exc
                continue
            self._cooldown.recovered(model)
            await on_attempt(Attempt(model, int((time.perf_counter() - started) * 1000), resp))
            return model, resp
        assert error is not None
        raise error
