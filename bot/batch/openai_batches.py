"""OpenAI's Batch API, through the SDK: the requests uploaded as a JSONL file
(`client.files.create`, purpose `batch`), a batch over it (`client.batches.create`), its
status (`client.batches.retrieve`), and its output and error files (`client.files.content`).
The request bodies and the reading of each output line are the Chat Completions adapter's own."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final

import openai
from openai.types import Batch
from openai.types.chat import ChatCompletion

from bot.agent.models.base import ModelResponse, Provider
from bot.agent.models.openai_chat import ERRORS, completion_params, parse_completion
from bot.agent.models.sdk import provider_error, status_error
from bot.batch.transport import BatchRequest, BatchStatus, ResultLine
from bot.errors import ProviderError, ProviderFailure

ENDPOINT: Final = "/v1/chat/completions"
# After these a batch changes no more; `failed` is a batch refused as a whole (its input).
_ENDED = {"completed", "failed", "expired", "cancelled"}


def _status(batch: Batch) -> BatchStatus:
    counts = batch.request_counts
    done = counts.completed + counts.failed if counts else 0
    return BatchStatus(batch.id, batch.status, batch.status in _ENDED, done)


def _refused(batch: Batch) -> ProviderError:
    """A batch refused as a whole (its input file did not validate), with OpenAI's codes."""
    codes = sorted({e.code or "?" for e in (batch.errors.data or [])} if batch.errors else ())
    return ProviderError(
        ProviderFailure.BAD_REQUEST, f"OpenAI refused the batch ({', '.join(codes) or '?'})"
    )


@dataclass(frozen=True)
class OpenAIBatches:
    """OpenAI's Batch API: a JSONL file of requests uploaded, a batch over it, its output file
    read back."""

    client: openai.AsyncOpenAI
    provider = Provider.OPENAI
    body = staticmethod(completion_params)

    async def send(self, model: str, requests: list[BatchRequest]) -> BatchStatus:
        lines = "".join(
            json.dumps(
                {"custom_id": r.custom_id, "method": "POST", "url": ENDPOINT, "body": r.body}
            )
            + "\n"
            for r in requests
        )
        try:
            upload = await self.client.files.create(
                file=("batch.jsonl", lines.encode(), "application/jsonl"), purpose="batch"
            )
            batch = await self.client.batches.create(
                input_file_id=upload.id, endpoint=ENDPOINT, completion_window="24h"
            )
        except openai.OpenAIError as exc:
            raise provider_error(exc, ERRORS) from exc
        return _status(batch)

    async def status(self, batch_id: str) -> BatchStatus:
        try:
            return _status(await self.client.batches.retrieve(batch_id))
        except openai.OpenAIError as exc:
            raise provider_error(exc, ERRORS) from exc

    async def results(self, batch_id: str) -> dict[str, ResultLine]:
        try:
            batch = await self.client.batches.retrieve(batch_id)
            if batch.status == "failed":
                raise _refused(batch)
            files = [f for f in (batch.output_file_id, batch.error_file_id) if f]
            texts = [(await self.client.files.content(f)).text for f in files]
        except openai.OpenAIError as exc:
            raise provider_error(exc, ERRORS) from exc
        lines = [json.loads(t) for text in texts for t in text.splitlines() if t.strip()]
        return {line["custom_id"]: line for line in lines}

    def response(self, line: ResultLine) -> ModelResponse:
        output = line.get("response")
        if output and output.get("status_code") == 200:
            # Built as the SDK builds what it reads (no validation), the live answer too.
            return parse_completion(ChatCompletion.construct(**output["body"]))
        if output:
            raise status_error(ERRORS.label, int(output.get("status_code") or 0))
        code = (line.get("error") or {}).get("code") or "unknown"
        kind = ProviderFailure.TIMEOUT if code == "batch_expired" else ProviderFailure.UNKNOWN
        raise ProviderError(kind, f"OpenAI did not process the request ({code})")
