"""The model providers, in one table: how to build each one's SDK client, its adapter, and
what credentials it needs. Adding a provider: an adapter module beside this one (implementing
`ChatModel`), a `Provider` member, and its row in `PROVIDERS`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from bot.agent.models.base import ChatModel, Provider
from bot.errors import ConfigError

if TYPE_CHECKING:
    from bot.config import Settings


class SdkClient(Protocol):
    async def close(self) -> None: ...


@dataclass(frozen=True)
class ProviderEntry:
    """One provider: its SDK client (one per process, shared by its models), the adapter that
    speaks to it, and what is missing when it cannot be used (None when nothing is)."""

    client: Callable[[Settings], SdkClient]
    adapter: Callable[[str, Any], ChatModel]
    missing_credentials: Callable[[Settings], str | None]


def parse_model_ref(ref: str) -> tuple[Provider, str]:
    """Split `provider:model` into its parts, refusing unknown providers."""
    provider, sep, model = ref.partition(":")
    if not sep or not model or provider not in PROVIDERS:
        raise ConfigError(
            f"Model reference {ref!r} is not `provider:model` with provider one of "
            f"{', '.join(PROVIDERS)} (for example `anthropic:claude-haiku-4-5`)."
        )
    return Provider(provider), model


# Each SDK is imported on first use: they hold 25-40 MB a process, and most setups use one
# provider.


def _anthropic_client(s: Settings) -> SdkClient:
    import anthropic

    return anthropic.AsyncAnthropic(
        api_key=s.anthropic_api_key.get_secret_value() or None,
        base_url=s.anthropic_base_url or None,
        timeout=s.model_timeout_seconds,
        max_retries=s.model_max_retries,
        # The SDK's aiohttp transport: about half the CPU per call of its default (httpx),
        # most under concurrency (BENCHMARKS.md, bench/model_client.py).
        http_client=anthropic.DefaultAioHttpClient(timeout=s.model_timeout_seconds),
    )


def _anthropic_model(name: str, client: Any) -> ChatModel:
    from bot.agent.models.anthropic_messages import AnthropicModel

    return AnthropicModel(name, client)


def _anthropic_missing(s: Settings) -> str | None:
    if s.anthropic_api_key:
        return None
    return (
        "ANTHROPIC_API_KEY is not set but a model uses `anthropic:`. Create a key in the "
        "Anthropic console (https://console.anthropic.com/settings/keys), or point "
        "SUPPORTBOT_PRIMARY_MODEL / SUPPORTBOT_STRONG_MODEL at `openai:` models."
    )


def _openai_client(s: Settings) -> SdkClient:
    import openai

    return openai.AsyncOpenAI(
        # A self-hosted compatible server may need no key; the SDK insists on one.
        api_key=s.openai_api_key.get_secret_value() or "not-needed",
        base_url=s.openai_base_url or None,
        timeout=s.model_timeout_seconds,
        max_retries=s.model_max_retries,
        # Not the SDK's aiohttp transport: its copy reports a refused connection as a timeout
        # (Anthropic's copy has that fixed), and the error kind is recorded.
    )


def _openai_model(name: str, client: Any) -> ChatModel:
    from bot.agent.models.openai_chat import OpenAIModel

    return OpenAIModel(name, client)


def _openai_missing(s: Settings) -> str | None:
    # OPENAI_BASE_URL alone is enough: a self-hosted OpenAI-compatible server (vLLM, Ollama).
    if s.openai_api_key or s.openai_base_url:
        return None
    return (
        "OPENAI_API_KEY is not set but a model uses `openai:`. Create a key at "
        "https://platform.openai.com/api-keys, or set OPENAI_BASE_URL to a self-hosted "
        "OpenAI-compatible server."
    )


PROVIDERS: dict[Provider, ProviderEntry] = {
    Provider.ANTHROPIC: ProviderEntry(_anthropic_client, _anthropic_model, _anthropic_missing),
    Provider.OPENAI: ProviderEntry(_openai_client, _openai_model, _openai_missing),
}
