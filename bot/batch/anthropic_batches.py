"""Anthropic's Message Batches API, through the SDK (`client.messages.batches`): the request
bodies and the reading of each result are the Messages adapter's own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import anthropic
from anthropic.types.messages import MessageBatch, MessageBatchIndividualResponse

from bot.agent.models.anthropic_messages import ERRORS, message_params, parse_message
from bot.agent.models.base import ModelResponse, Provider
from bot.agent.models.sdk import provider_error, status_error
from bot.batch.transport import BatchRequest, BatchStatus, ResultLine
from bot.errors import ProviderError, ProviderFailure

# An errored request's error type, as the HTTP status the same error has on a live call.
_STATUS_OF_ERROR = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}


def _status(batch: MessageBatch) -> BatchStatus:
    counts = batch.request_counts
    done = counts.succeeded + counts.errored + counts.canceled + counts.expired
    return BatchStatus(batch.id, batch.processing_status, batch.processing_status == "ended", done)


@dataclass(frozen=True)
class AnthropicBatches:
    """Anthropic's Message Batches API: the requests sent inline, results streamed back."""

    client: anthropic.AsyncAnthropic
    provider = Provider.ANTHROPIC
    body = staticmethod(message_params)

    async def send(self, model: str, requests: list[BatchRequest]) -> BatchStatus:
        entries: Any = [{"custom_id": r.custom_id, "params": r.body} for r in requests]
        try:
            return _status(await self.client.messages.batches.create(requests=entries))
        except anthropic.AnthropicError as exc:
            raise provider_error(exc, ERRORS) from exc

    async def status(self, batch_id: str) -> BatchStatus:
        try:
            return _status(await self.client.messages.batches.retrieve(batch_id))
        except anthropic.AnthropicError as exc:
            raise provider_error(exc, ERRORS) from exc

    async def results(self, batch_id: str) -> dict[str, ResultLine]:
        lines: dict[str, ResultLine] = {}
        try:
            async for entry in await self.client.messages.batches.results(batch_id):
                lines[entry.custom_id] = entry.model_dump(mode="json", exclude_none=True)
        except anthropic.AnthropicError as exc:
            raise provider_error(exc, ERRORS) from exc
        return lines

    def response(self, line: ResultLine) -> ModelResponse:
        # Built as the SDK builds what it reads (no validation), the live answer too.
        result = MessageBatchIndividualResponse.construct(**line).result
        if result.type == "succeeded":
            return parse_message(result.message)
        if result.type == "errored":
            error_type = result.error.error.type
            raise status_error(ERRORS.label, _STATUS_OF_ERROR.get(error_type, 500))
        kind = ProviderFailure.TIMEOUT if result.type == "expired" else ProviderFailure.UNKNOWN
        raise ProviderError(kind, f"Anthropic did not process the request ({result.type})")
