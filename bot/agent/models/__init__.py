"""Model adapters behind one protocol; `build_model` turns a `provider:model` ref into one."""

from __future__ import annotations

import anthropic
import openai

from bot.agent.models.anthropic_messages import AnthropicModel
from bot.agent.models.base import ChatModel
from bot.agent.models.openai_chat import OpenAIModel
from bot.config import Settings, parse_model_ref


class ModelFactory:
    """Builds adapters, sharing one SDK client per provider."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._anthropic: anthropic.AsyncAnthropic | None = None
        self._openai: openai.AsyncOpenAI | None = None

    def build(self, ref: str) -> ChatModel:
        provider, name = parse_model_ref(ref)
        s = self._settings
        if provider == "anthropic":
            if self._anthropic is None:
                self._anthropic = anthropic.AsyncAnthropic(
                    api_key=s.anthropic_api_key or None,
                    base_url=s.anthropic_base_url or None,
                    timeout=s.model_timeout_seconds,
                )
            return AnthropicModel(name, self._anthropic)
        if self._openai is None:
            self._openai = openai.AsyncOpenAI(
                # A self-hosted compatible server may need no key; the SDK insists on one.
                api_key=s.openai_api_key or "not-needed",
                base_url=s.openai_base_url or None,
                timeout=s.model_timeout_seconds,
            )
        return OpenAIModel(name, self._openai)

    async def close(self) -> None:
        if self._anthropic is not None:
            await self._anthropic.close()
        if self._openai is not None:
            await self._openai.close()
