"""Cost of one model call from the provider's usage fields, through genai-prices."""

from __future__ import annotations

import logging
from decimal import Decimal

from genai_prices import Usage, calc_price

log = logging.getLogger(__name__)
_warned: set[tuple[str, str]] = set()


def call_cost(
    provider: str,
    model: str,
    *,
    input_tokens: int,
    cached_input_tokens: int,
    cache_write_tokens: int,
    output_tokens: int,
) -> Decimal | None:
    """USD cost, or None when genai-prices does not know the model (logged once, never raised).

    `input_tokens` counts every input token, cached reads and cache writes included; genai-prices
    prices the cached ones at their own rates.
    """
    usage = Usage(
        input_tokens=input_tokens,
        cache_read_tokens=cached_input_tokens,
        cache_write_tokens=cache_write_tokens,
        output_tokens=output_tokens,
    )
    try:
        price = calc_price(usage, model_ref=model, provider_id=provider)
    except LookupError:
        if (provider, model) not in _warned:
            _warned.add((provider, model))
            log.warning(
                "no price known for %s:%s; its cost is recorded as unknown", provider, model
            )
        return None
    return Decimal(str(price.total_price))
