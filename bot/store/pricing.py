"""Cost of one model call from the provider's usage fields, through genai-prices.

Negotiated prices (`SUPPORTBOT_PRICE_OVERRIDES`) replace genai-prices' list prices key by key:
an override `{"anthropic:claude-sonnet-4-5": {"input_mtok": "2.40"}}` changes the input rate
only; output, cache-read and cache-write rates stay the list prices. A model genai-prices does not
know can be priced by an override alone (it then needs at least `input_mtok` and `output_mtok`).

A fine-tuned OpenAI model, `ft:BASE:ORG:SUFFIX:ID`, is priced as genai-prices prices it (it
knows `ft:gpt-4o-mini-2024-07-18:…` and a few others); an override of its own id or of its
family `openai:ft:BASE` (every fine-tune of BASE, the next one's new id too) applies on top.

A call answered through a Batch API (`batch`) is priced at the batch price: genai-prices' own
where it knows one for the model, else half the list price (both providers' Batch APIs halve
every rate); an overridden rate is the negotiated list rate, so a batch call pays half of it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache

from genai_prices import Usage, calc_price
from genai_prices.types import ModelPrice, PriceCalculation, Tier, TieredPrices

log = logging.getLogger(__name__)
_warned: set[tuple[str, str]] = set()

# The keys an override may set, in USD per million tokens.
OVERRIDE_KEYS = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok")
# Without these an unknown model cannot be priced from an override alone.
_REQUIRED_FOR_UNKNOWN = ("input_mtok", "output_mtok")

PriceOverrides = Mapping[str, Mapping[str, Decimal]]

# genai-prices' price context of a Batch API call (its `PriceVariant.when`).
_BATCH = {"processing": "batch"}
# What a Batch API call pays of a rate where genai-prices knows no batch price.
_BATCH_SHARE = Decimal("0.5")


def _warn_once(provider: str, model: str, message: str) -> None:
    if (provider, model) not in _warned:
        _warned.add((provider, model))
        log.warning(message)


def _knows_batch_price(calc: PriceCalculation) -> bool:
    """Whether genai-prices priced this call with a batch price of its own (a batch variant
    of the model, in force now, at the provider that lists it)."""
    now = datetime.now(UTC)
    return any(calc.model is m for m in calc.provider.models) and any(
        variant.when == _BATCH and (variant.constraint is None or variant.constraint.active(now))
        for variant in calc.model.price_variants or ()
    )


def _share(value: Decimal | TieredPrices | None) -> Decimal | TieredPrices | None:
    """`_BATCH_SHARE` of a rate (of each tier's, for a tiered one)."""
    if isinstance(value, TieredPrices):
        tiers = [Tier(t.start, t.price * _BATCH_SHARE) for t in value.tiers]
        return TieredPrices(value.base * _BATCH_SHARE, tiers)
    return None if value is None else value * _BATCH_SHARE


def _rates(price: ModelPrice) -> dict[str, Decimal | TieredPrices | None]:
    return {k: v for k, v in vars(price).items() if not k.startswith("_")}


@lru_cache(maxsize=256)
def _list_price(provider: str, model: str, batch: bool = False) -> ModelPrice | None:
    """genai-prices' current price of a model (its batch price with `batch`), or None when it
    does not know it."""
    try:
        calc = calc_price(
            Usage(), model_ref=model, provider_id=provider, price_context=_BATCH if batch else None
        )
    except LookupError:
        return None
    if not batch or _knows_batch_price(calc):
        return calc.model_price
    # Token rates only: a Batch API halves no per-request fee (web searches).
    rates = _rates(calc.model_price)
    return ModelPrice(**{k: _share(v) if k.endswith("_mtok") else v for k, v in rates.items()})


def fine_tune_family(ref: str) -> str:
    """`openai:ft:gpt-4o-mini-2024-07-18` for `openai:ft:gpt-4o-mini-2024-07-18:org::abc`; the
    reference itself for a model that is no OpenAI fine-tune."""
    provider, _, model = ref.partition(":")
    if not model.startswith("ft:"):
        return ref
    base = model.removeprefix("ft:").split(":", 1)[0]
    return f"{provider}:ft:{base}"


def model_price(
    provider: str, model: str, overrides: PriceOverrides | None = None, *, batch: bool = False
) -> ModelPrice | None:
    """The price of `provider:model` with any override applied (its batch price with
    `batch`, see the module's docstring); None when it is unknown.

    An unknown model (no list price and no usable override) is logged once, never raised.
    """
    ref = f"{provider}:{model}"
    overrides = overrides or {}
    override = dict(overrides.get(ref) or overrides.get(fine_tune_family(ref)) or {})
    unknown_keys = sorted(set(override) - set(OVERRIDE_KEYS))
    if unknown_keys:
        _warn_once(
            provider,
            f"{model}#keys",
            f"price override for {ref} has unknown keys {', '.join(unknown_keys)} (ignored); "
            f"valid keys: {', '.join(OVERRIDE_KEYS)}",
        )
    override = {k: Decimal(str(v)) for k, v in override.items() if k in OVERRIDE_KEYS}
    if batch:
        override = {k: v * _BATCH_SHARE for k, v in override.items()}
    listed = _list_price(provider, model, batch)
    if listed is None:
        if override and all(k in override for k in _REQUIRED_FOR_UNKNOWN):
            return ModelPrice(**override)
        detail = (
            f"; its price override needs at least {' and '.join(_REQUIRED_FOR_UNKNOWN)}"
            if override
            else ""
        )
        if not override and fine_tune_family(ref) != ref:
            detail = f" (an override of {fine_tune_family(ref)} prices every fine-tune of it)"
        _warn_once(
            provider,
            model,
            f"no price known for {ref}; its cost is recorded as unknown{detail}",
        )
        return None
    if not override:
        return listed
    prices = _rates(listed)
    prices.update(override)
    return ModelPrice(**prices)


def price_usage(
    price: ModelPrice,
    *,
    input_tokens: int,
    cached_input_tokens: int,
    cache_write_tokens: int,
    output_tokens: int,
) -> Decimal:
    """USD for some usage at `price`; `input_tokens` includes cache reads and writes."""
    usage = Usage(
        input_tokens=input_tokens,
        cache_read_tokens=cached_input_tokens,
        cache_write_tokens=cache_write_tokens,
        output_tokens=output_tokens,
    )
    return Decimal(str(price.calc_price(usage)["total_price"]))


def tier_starts(price: ModelPrice) -> list[int]:
    """Input-token thresholds above which a tiered price applies another rate (ascending)."""
    starts = {
        tier.start
        for value in vars(price).values()
        if isinstance(value, TieredPrices)
        for tier in value.tiers
    }
    return sorted(starts)


def flat_price(price: ModelPrice, input_tokens_of_one_call: int) -> ModelPrice:
    """`price` with every tiered rate resolved for calls of that many input tokens.

    Tiers are cliffs decided per call, so summed usage of many calls in the same bucket is priced
    with the flat rates of that bucket (see `bot.costs.report`).
    """
    resolved: dict[str, Decimal | None] = {}
    for key, value in vars(price).items():
        if key.startswith("_"):
            continue
        if isinstance(value, TieredPrices):
            rate = value.base
            for tier in reversed(value.tiers):
                if input_tokens_of_one_call > tier.start:
                    rate = tier.price
                    break
            resolved[key] = rate
        else:
            resolved[key] = value
    return ModelPrice(**resolved)


def call_cost(
    provider: str,
    model: str,
    *,
    input_tokens: int,
    cached_input_tokens: int,
    cache_write_tokens: int,
    output_tokens: int,
    overrides: PriceOverrides | None = None,
    batch: bool = False,
) -> Decimal | None:
    """USD cost, or None when the price of the model is unknown (logged once, never raised).

    `input_tokens` counts every input token, cached reads and cache writes included; they are
    priced at their own rates. `overrides` is `settings.price_overrides`; `batch`: the call
    was answered through a Batch API.
    """
    price = model_price(provider, model, overrides, batch=batch)
    if price is None:
        return None
    return price_usage(
        price,
        input_tokens=input_tokens,
        cached_input_tokens=cached_input_tokens,
        cache_write_tokens=cache_write_tokens,
        output_tokens=output_tokens,
    )
