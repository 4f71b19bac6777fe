"""Model adapters behind one protocol; `ModelFactory` builds them (from the provider table,
`providers.PROVIDERS`) and each tier's chain."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.agent.models.base import ChatModel, Provider
from bot.agent.models.chain import Cooldown, ModelChain
from bot.agent.models.providers import PROVIDERS, SdkClient, parse_model_ref
from bot.store.models import Tier

if TYPE_CHECKING:
    # Only for annotations: bot.config reads the provider table from this package.
    from bot.config import Settings

# Wraps each adapter the factory builds (its model reference, e.g. `anthropic:claude-…`, and
# the adapter): `supportbot eval` records the tool calls through it, `--batch` sends the calls
# through the Batch APIs.
WrapModel = Callable[[str, ChatModel], ChatModel]


class ModelFactory:
    """Builds adapters, sharing one SDK client per provider and one cool-down board."""

    def __init__(self, settings: Settings, wrap: WrapModel | None = None) -> None:
        self._settings = settings
        self._wrap = wrap
        self._clients: dict[Provider, SdkClient] = {}
        self._cooldown = Cooldown(settings.model_cooldown_seconds)
        # Import the configured providers' SDKs now, not during the first answer.
        self.chain(Tier.PRIMARY)
        self.chain(Tier.STRONG)

    def chain(self, tier: Tier) -> ModelChain:
        """The tier's model, then its fallbacks from configuration."""
        s = self._settings
        refs = (
            [s.strong_model, *s.strong_fallback_models]
            if tier == Tier.STRONG
            else [s.primary_model, *s.fallback_models]
        )
        return ModelChain([self.build(ref) for ref in dict.fromkeys(refs)], self._cooldown)

    def build(self, ref: str) -> ChatModel:
        provider, name = parse_model_ref(ref)
        entry = PROVIDERS[provider]
        if provider not in self._clients:
            self._clients[provider] = entry.client(self._settings)
        model = entry.adapter(name, self._clients[provider])
        return self._wrap(ref, model) if self._wrap else model

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
