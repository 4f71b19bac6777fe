"""What a provider's Batch API transport does, the same for each provider: build a request's
body (the live adapter's own code), send a batch, say how far it is, fetch its result lines,
and read one line as the live adapter reads an answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from bot.agent.models.base import ChatModel, ChatRequest, ModelResponse, Provider
from bot.agent.models.sdk import SdkModel

# One result line of a batch, as the provider wrote it (a response, or an error).
ResultLine = dict[str, Any]


@dataclass(frozen=True)
class BatchRequest:
    """One request in a batch: its custom id (unique in the batch) and its body."""

    custom_id: str
    body: dict[str, Any]


@dataclass(frozen=True)
class BatchStatus:
    """A batch as its provider reports it."""

    batch_id: str
    provider_status: str  # the provider's own word: in_progress, ended; validating, completed…
    ended: bool  # no request of it will change any more: its results can be fetched
    done: int  # requests processed so far (Anthropic counts them only at the end)


class BatchTransport(Protocol):
    """One provider's Batch API, through its SDK. Each method raises `ProviderError` when the
    provider fails, as the live adapter does."""

    provider: Provider

    def body(self, model: str, request: ChatRequest) -> dict[str, Any]:
        """The request's body: the one the live adapter sends."""
        ...

    async def send(self, model: str, requests: list[BatchRequest]) -> BatchStatus: ...

    async def status(self, batch_id: str) -> BatchStatus: ...

    async def results(self, batch_id: str) -> dict[str, ResultLine]:
        """The ended batch's result lines by custom id (one missing: it was not processed)."""
        ...

    def response(self, line: ResultLine) -> ModelResponse:
        """The line read by the live adapter's code; raises the adapter's `ProviderError` for
        a line that is an error."""
        ...


def transport_for(model: ChatModel) -> BatchTransport:
    """The Batch API transport of an adapter's provider, sending through its SDK client."""
    if not isinstance(model, SdkModel):
        raise TypeError(f"{model.provider}:{model.name} is not a provider's adapter")
    if model.provider == Provider.ANTHROPIC:
        from bot.batch.anthropic_batches import AnthropicBatches

        return AnthropicBatches(model.client)
    if model.provider == Provider.OPENAI:
        from bot.batch.openai_batches import OpenAIBatches

        return OpenAIBatches(model.client)
    raise TypeError(f"no Batch API transport for {model.provider}")
