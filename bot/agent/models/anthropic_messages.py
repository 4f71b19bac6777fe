"""Adapter for Anthropic's Messages API (tool use, prompt caching)."""

from __future__ import annotations

import base64
from typing import Any

import anthropic

from bot.agent.models.base import (
    ChatMessage,
    ChatRequest,
    ModelResponse,
    Provider,
    SdkErrors,
    SdkModel,
    TokenUsage,
    ToolCall,
    provider_error,
)

_ERRORS = SdkErrors(
    "Anthropic", anthropic.APITimeoutError, anthropic.APIConnectionError, anthropic.APIStatusError
)


def _to_anthropic(messages: list[ChatMessage]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for msg in messages:
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


class AnthropicModel(SdkModel[anthropic.AsyncAnthropic]):
    provider = Provider.ANTHROPIC

    async def complete(self, request: ChatRequest) -> ModelResponse:
        tool_defs: list[dict[str, Any]] = [
            {"name": t.name, "description": t.description, "input_schema": t.parameters}
            for t in request.tools
        ]
        if tool_defs:
            # Tools then system form the stable prefix; mark its end for prompt caching.
            tool_defs[-1]["cache_control"] = {"type": "ephemeral"}
        kwargs: dict[str, Any] = {
            "model": self.name,
            "max_tokens": request.max_tokens,
            "system": [
                {"type": "text", "text": request.system, "cache_control": {"type": "ephemeral"}}
            ],
            "messages": _to_anthropic(request.messages),
        }
        if tool_defs:
            kwargs["tools"] = tool_defs
            kwargs["tool_choice"] = {"type": "any" if request.require_tool else "auto"}
        try:
            resp = await self._client.messages.create(**kwargs)
        except anthropic.AnthropicError as exc:
            raise provider_error(exc, _ERRORS) from exc
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
