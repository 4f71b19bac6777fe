"""A turn's transcript, as the store keeps it (JSON) and as `supportbot export finetune` reads it
back: the answer loop's provider-neutral `ChatMessage`s and the tool specs it offered.

Image bytes are not kept (pictures can hold anything about a customer and cannot be scrubbed):
a message that had some says how many (`images`), and the export leaves such a turn out."""

from __future__ import annotations

from typing import Any

from bot.agent.models.base import ChatMessage, ToolCall, ToolSpec
from bot.agent.tools import TOOL_SPECS
from bot.delivery import Transcript
from bot.store.models import Tier


def record(
    tier: Tier, system: str, conversation: list[ChatMessage], steps: list[ChatMessage]
) -> Transcript:
    """A tier's turn as the primary tier would be taught it: the primary tier's system prompt,
    the conversation it saw (history and the customer's message), then the steps of `tier`
    (its tool calls, their results, its final answer)."""
    return Transcript(
        tier,
        system,
        [_spec_json(spec) for spec in TOOL_SPECS],
        [_message_json(m) for m in (*conversation, *steps)],
    )


def _spec_json(spec: ToolSpec) -> dict[str, Any]:
    return {"name": spec.name, "description": spec.description, "parameters": spec.parameters}


def _message_json(message: ChatMessage) -> dict[str, Any]:
    data: dict[str, Any] = {"role": message.role, "text": message.text}
    if message.tool_calls:
        data["tool_calls"] = [
            {"id": c.id, "name": c.name, "arguments": c.arguments} for c in message.tool_calls
        ]
    if message.tool_call_id:
        data["tool_call_id"] = message.tool_call_id
    if message.is_error:
        data["is_error"] = True
    if message.images:
        data["images"] = len(message.images)
    return data


def messages_of(data: list[dict[str, Any]]) -> list[ChatMessage]:
    """The stored messages as `ChatMessage`s again (without images)."""
    return [
        ChatMessage(
            role=m["role"],
            text=m.get("text", ""),
            tool_calls=[
                ToolCall(c["id"], c["name"], dict(c.get("arguments") or {}))
                for c in m.get("tool_calls", [])
            ],
            tool_call_id=m.get("tool_call_id", ""),
            is_error=bool(m.get("is_error")),
        )
        for m in data
    ]


def tools_of(data: list[dict[str, Any]]) -> list[ToolSpec]:
    return [ToolSpec(t["name"], t.get("description", ""), dict(t["parameters"])) for t in data]


def images_in(data: list[dict[str, Any]]) -> int:
    """How many images the stored messages had."""
    return sum(int(m.get("images", 0)) for m in data)
