"""Adapter for Anthropic's Messages API (tool use, prompt caching).

`message_params` builds a request's body and `parse_message` reads a Message: the adapter's
live calls and the Message Batches transport (`bot/batch/anthropic_batches.py`) both use them.
"""

from __future__ import annotations

import base64
from typing import Any

import anthropic
from anthropic.types import Message

from bot.agent.models.base import ChatRequest, ModelResponse, Provider, TokenUsage, ToolCall
from bot.agent.models.sdk import SdkErrors, SdkModel, provider_error

ERRORS = SdkErrors(
    "Anthropic", anthropic.APITimeoutError, anthropic.APIConnectionError, anthropic.APIStatusError
)


def _to_anthropic(request: ChatRequest) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for msg in request.messages:
        if msg.role == "tool":
            block: dict[str, Any] = {
                "type": "tool_result",
                "tool_use_id": msg.tool_call_id,
                "content": msg.text,
                "is_error": msg.is_error,
            }
            # Results of one assistant turn's tool calls travel together in one user turn.
            if out and out[-1]["role"] == "user" and isinstance(out[-1]["content"], list):
                out[-1]["content"].append(block)
            else:
                out.append({"role": "user", "content": [block]})
        elif msg.role == "assistant":
            content: list[dict[str, Any]] = []
            if msg.text:
                content.append({"type": "text", "text": msg.text})
            content.extend(
                {"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments}
                for c in msg.tool_calls
            )
            out.append({"role": "assistant", "content": content or msg.text or "(no text)"})
        else:
            content = [
                {
                    "type": "image",
                    "source": {
                        "type": "base64",
                        "media_type": image.media_type,
                        "data": base64.b64encode(image.data).decode("ascii"),
                    },
                }
                for image in msg.images
            ]
            content.append({"type": "text", "text": msg.text or "(image)"})
            out.append({"role": "user", "content": content})
    return out


def message_params(model: str, request: ChatRequest) -> dict[str, Any]:
    """The body of a Messages API request (`messages.create`, or one request of a batch)."""
    tool_defs: list[dict[str, Any]] = [
        {"name": t.name, "description": t.description, "input_schema": t.parameters}
        for t in request.tools
    ]
    if tool_defs:
        # Tools then system form the stable prefix; mark its end for prompt caching.
        tool_defs[-1]["cache_control"] = {"type": "ephemeral"}
    params: dict[str, Any] = {
        "model": model,
        "max_tokens": request.max_tokens,
        "system": [
            {"type": "text", "text": request.system, "cache_control": {"type": "ephemeral"}}
        ],
        "messages": _to_anthropic(request),
    }
    if tool_defs:
        params["tools"] = tool_defs
        params["tool_choice"] = {"type": "any" if request.require_tool else "auto"}
    return params


def parse_message(resp: Message) -> ModelResponse:
    """A Message (a call's answer, or a batch's succeeded result) as a `ModelResponse`."""
    texts: list[str] = []
    calls: list[ToolCall] = []
    for block in resp.content:
        if block.type == "text":
            texts.append(block.text)
        elif block.type == "tool_use":
            args = block.input if isinstance(block.input, dict) else {}
            calls.append(ToolCall(id=block.id, name=block.name, arguments=dict(args)))
    u = resp.usage
    cache_read = u.cache_read_input_tokens or 0
    cache_write = u.cache_creation_input_tokens or 0
    usage = TokenUsage(
        # Anthropic's input_tokens excludes cache reads and writes; ours includes them.
        input_tokens=u.input_tokens + cache_read + cache_write,
        cached_input_tokens=cache_read,
        cache_write_tokens=cache_write,
        output_tokens=u.output_tokens,
    )
    return ModelResponse(
        text="".join(texts),
        tool_calls=calls,
        usage=usage,
        usage_raw=u.model_dump(mode="json", exclude_none=True),
        stop_reason=resp.stop_reason or "",
    )


class AnthropicModel(SdkModel[anthropic.AsyncAnthropic]):
    provider = Provider.ANTHROPIC

    async def complete(self, request: ChatRequest) -> ModelResponse:
        try:
            resp = await self.client.messages.create(**message_params(self.name, request))
        except anthropic.AnthropicError as exc:
            raise provider_error(exc, ERRORS) from exc
        return parse_message(resp)
