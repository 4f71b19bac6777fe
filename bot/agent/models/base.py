"""The one interface every model provider is adapted to."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, Literal, Protocol, TypeVar

from bot.errors import ProviderError, ProviderFailure


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


@dataclass(frozen=True)
class ChatRequest:
    """One call's input: the system prompt (ours only), the transcript, the tools offered,
    whether the model must call one, and the cap on its output."""

    system: str
    messages: list[ChatMessage]
    tools: list[ToolSpec]
    require_tool: bool
    max_tokens: int


@dataclass(frozen=True)
class SdkErrors:
    """A provider SDK's exception classes, as `provider_error` reads them; `status` is the one
    with an HTTP `status_code`."""

    label: str  # the provider as an operator reads it: "Anthropic", "OpenAI"
    timeout: type[Exception]
    connection: type[Exception]
    status: type[Exception]


_BY_STATUS = {
    429: ProviderFailure.RATE_LIMITED,
    529: ProviderFailure.OVERLOADED,
    401: ProviderFailure.AUTH,
    403: ProviderFailure.AUTH,
}


def error_kind(status: int) -> ProviderFailure:
    """The kind of an HTTP failure of a provider, as recorded on the model call."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ProviderFailure.SERVER_ERROR if status >= 500 else ProviderFailure.BAD_REQUEST


def provider_error(exc: Exception, sdk: SdkErrors) -> ProviderError:
    """Name the kind of an SDK's failure, so callers can decide on fallback and record it."""
    # Timeout first: the SDKs' timeout error is a kind of their connection error.
    if isinstance(exc, sdk.timeout):
        return ProviderError(ProviderFailure.TIMEOUT, f"{sdk.label} request timed out")
    if isinstance(exc, sdk.connection):
        return ProviderError(ProviderFailure.CONNECTION, f"Could not reach {sdk.label}")
    if isinstance(exc, sdk.status):
        status: int = getattr(exc, "status_code", 0)
        return ProviderError(error_kind(status), f"{sdk.label} answered HTTP {status}")
    return ProviderError(ProviderFailure.UNKNOWN, f"{sdk.label} call failed: {type(exc).__name__}")


ClientT = TypeVar("ClientT")


class SdkModel(Generic[ClientT]):
    """What every adapter holds: the model's name at its provider, and the provider's SDK
    client (one per process, shared by that provider's models)."""

    def __init__(self, name: str, client: ClientT) -> None:
        self.name = name
        self._client = client


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
