"""Model adapters behind one protocol; `ModelFactory` builds them and each tier's chain."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.agent.models.base import ChatModel
from bot.agent.models.chain import Cooldown, ModelChain
from bot.config import Settings, parse_model_ref

if TYPE_CHECKING:
    import anthropic
    import openai


class ModelFactory:
    """Builds adapters, sharing one SDK client per provider and one cool-down board."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._anthropic: anthropic.AsyncAnthropic | None = None
        self._openai: openai.AsyncOpenAI | None = None
        self._cooldown = Cooldown(settings.model_cooldown_seconds)
        # Import the configured providers' SDKs now, not during the first answer.
        self.chain("primary")
        self.chain("strong")

    def chain(self, tier: str) -> ModelChain:
        """The tier's model, then its fallbacks from configuration."""
        s = self._settings
        refs = (
            [s.strong_model, *s.strong_fallback_models]
            if tier == "strong"
            else [s.primary_model, *s.fallback_models]
        )
        return ModelChain([self.build(ref) for ref in dict.fromkeys(refs)], self._cooldown)

    def build(self, ref: str) -> ChatModel:
        # Each SDK is imported on first use: they hold 25-40 MB a process, and most setups
        # use one provider.
        provider, name = parse_model_ref(ref)
        s = self._settings
        if provider == "anthropic":
            import anthropic

            from bot.agent.models.anthropic_messages import AnthropicModel

            if self._anthropic is None:
                self._anthropic = anthropic.AsyncAnthropic(
                    api_key=s.anthropic_api_key.get_secret_value() or None,
                    base_url=s.anthropic_base_url or None,
                    timeout=s.model_timeout_seconds,
                    max_retries=s.model_max_retries,
                    # The SDK's aiohttp transport: about half the CPU per call of its default
                    # (httpx), most under concurrency (BENCHMARKS.md, bench/model_client.py).
                    http_client=anthropic.DefaultAioHttpClient(timeout=s.model_timeout_seconds),
                )
            return AnthropicModel(name, self._anthropic)
        import openai

        from bot.agent.models.openai_chat import OpenAIModel

        if self._openai is None:
            self._openai = openai.AsyncOpenAI(
                # A self-hosted compatible server may need no key; the SDK insists on one.
                api_key=s.openai_api_key.get_secret_value() or "not-needed",
                base_url=s.openai_base_url or None,
                timeout=s.model_timeout_seconds,
                max_retries=s.model_max_retries,
                # Not the SDK's aiohttp transport: its copy reports a refused connection as a
                # timeout (Anthropic's copy has that fixed), and the error kind is recorded.
            )
        return OpenAIModel(name, self._openai)

    async def close(self) -> None:
        if self._anthropic is not None:
            await self._anthropic.close()
        if self._openai is not None:
            await self._openai.close()
