"""Adapter for OpenAI's Chat Completions API (function calling); any compatible server too.

`completion_params` builds a request's body and `parse_completion` reads a ChatCompletion: the
adapter's live calls and the Batch API transport (`bot/batch/openai_batches.py`) both use them.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import openai
from openai.types.chat import ChatCompletion

from bot.agent.models.base import (
    ChatMessage,
    ChatRequest,
    ModelResponse,
    Provider,
    TokenUsage,
    ToolCall,
    ToolSpec,
)
from bot.agent.models.sdk import SdkErrors, SdkModel, provider_error
from bot.errors import ProviderError, ProviderFailure

ERRORS = SdkErrors(
    "OpenAI", openai.APITimeoutError, openai.APIConnectionError, openai.APIStatusError
)


def openai_messages(system: str, messages: list[ChatMessage]) -> list[dict[str, Any]]:
    """The system prompt and transcript as Chat Completions messages (also the lines of a
    fine-tuning file, `bot/export/`)."""
    out: list[dict[str, Any]] = [{"role": "system", "content": system}]
    for msg in messages:
        if msg.role == "tool":
            out.append({"role": "tool", "tool_call_id": msg.tool_call_id, "content": msg.text})
        elif msg.role == "assistant":
            entry: dict[str, Any] = {"role": "assistant", "content": msg.text or None}
            if msg.tool_calls:
                entry["tool_calls"] = [
                    {
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
                    }
                    for c in msg.tool_calls
                ]
            out.append(entry)
        else:
            if not msg.images:
                out.append({"role": "user", "content": msg.text})
                continue
            parts: list[dict[str, Any]] = [{"type": "text", "text": msg.text or "(image)"}]
            parts.extend(
                {
                    "type": "image_url",
                    "image_url": {
                        "url": f"data:{image.media_type};base64,"
                        + base64.b64encode(image.data).decode("ascii")
                    },
                }
                for image in msg.images
            )
            out.append({"role": "user", "content": parts})
    return out


def openai_tools(specs: list[ToolSpec]) -> list[dict[str, Any]]:
    """Tool specs as Chat Completions function tools."""
    return [
        {
            "type": "function",
            "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
        }
        for t in specs
    ]


def _arguments(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except (ValueError, RecursionError):  # not JSON, or nested past the decoder's depth
        return {"_invalid_json": raw[:200]}
    return value if isinstance(value, dict) else {}


def completion_params(model: str, request: ChatRequest) -> dict[str, Any]:
    """The body of a Chat Completions request (`chat.completions.create`, or one line of a
    batch's input file)."""
    params: dict[str, Any] = {
        "model": model,
        "max_tokens": request.max_tokens,
        # System prompt and tools first and byte-identical across turns: OpenAI caches them.
        "messages": openai_messages(request.system, request.messages),
    }
    if request.tools:
        params["tools"] = openai_tools(request.tools)
        params["tool_choice"] = "required" if request.require_tool else "auto"
    return params


def parse_completion(resp: ChatCompletion) -> ModelResponse:
    """A ChatCompletion (a call's answer, or a batch's output line) as a `ModelResponse`."""
    if not resp.choices:
        raise ProviderError(ProviderFailure.BAD_RESPONSE, "OpenAI returned no choices")
    choice = resp.choices[0]
    calls = [
        ToolCall(id=c.id, name=c.function.name, arguments=_arguments(c.function.arguments))
        for c in (choice.message.tool_calls or [])
        if c.type == "function"
    ]
    u = resp.usage
    prompt = u.prompt_tokens if u else 0
    details = u.prompt_tokens_details if u else None
    cached = (details.cached_tokens or 0) if details else 0
    usage = TokenUsage(
        input_tokens=prompt,  # OpenAI's prompt_tokens already includes the cached ones
        cached_input_tokens=cached,
        output_tokens=u.completion_tokens if u else 0,
    )
    return ModelResponse(
        text=choice.message.content or "",
        tool_calls=calls,
        usage=usage,
        usage_raw=u.model_dump(mode="json", exclude_none=True) if u else {},
        stop_reason=choice.finish_reason or "",
    )


class OpenAIModel(SdkModel[openai.AsyncOpenAI]):
    provider = Provider.OPENAI

    async def complete(self, request: ChatRequest) -> ModelResponse:
        try:
            resp = await self.client.chat.completions.create(
                **completion_params(self.name, request)
            )
        except openai.OpenAIError as exc:
            raise provider_error(exc, ERRORS) from exc
        return parse_completion(resp)
