"""The one interface every model provider is adapted to."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, Protocol


class Provider(StrEnum):
    """The `provider` of a `provider:model` reference; `providers.PROVIDERS` has each one's
    client, adapter and credential check."""

    ANTHROPIC = "anthropic"
    OPENAI = "openai"


@dataclass(frozen=True)
class ToolSpec:
    """A tool as the model sees it: name, description and JSON schema of its arguments."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class ImageInput:
    """An image the customer attached, passed to the model as image input."""

    media_type: str  # image/png, image/jpeg, image/gif or image/webp
    data: bytes


@dataclass
class ChatMessage:
    """Provider-neutral transcript entry.

    `user` carries text; `assistant` may carry text and tool calls; `tool` carries the result of
    one tool call (`tool_call_id`), always data, never instructions.
    """

    role: Literal["user", "assistant", "tool"]
    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str = ""
    is_error: bool = False
    images: list[ImageInput] = field(default_factory=list)


@dataclass(frozen=True)
class TokenUsage:
    """Token counts normalised across providers: `input_tokens` includes cached ones."""

    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True)
class ModelResponse:
    text: str
    tool_calls: list[ToolCall]
    usage: TokenUsage
    usage_raw: dict[str, Any]
    stop_reason: str
    batch: bool = False  # answered through a Batch API (priced at its batch price)


@dataclass(frozen=True)
class ChatRequest:
    """One call's input: the system prompt (ours only), the transcript, the tools offered,
    whether the model must call one, and the cap on its output."""

    system: str
    messages: list[ChatMessage]
    tools: list[ToolSpec]
    require_tool: bool
    max_tokens: int


class ChatModel(Protocol):
    """A chat model that can call tools. One adapter per provider implements it."""

    name: str

    @property
    def provider(self) -> str:
        """The provider's name (a `Provider` for an adapter; "chain" for a `ModelChain`)."""
        ...

    async def complete(self, request: ChatRequest) -> ModelResponse:
        """One API call. Raises `ProviderError` with a kind when the provider fails."""
        ...
