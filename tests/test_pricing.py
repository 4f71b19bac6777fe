"""`call_cost`: the cost of one model call from normalised usage, checked against figures worked
out by hand from the published prices (USD per million tokens, as genai-prices has them):

    claude-haiku-4-5  input 1.00   cache read 0.10   cache write 1.25   output 5.00
    gpt-4o-mini       input 0.15   cached     0.075                     output 0.60

`input_tokens` counts every input token, cached reads and cache writes included; the uncached
part is priced at the input rate, the rest at their own rates.

A Batch API call (`batch=True`) at genai-prices' batch prices where it has them:

    claude-haiku-4-5  input 0.50   cache read 0.05   cache write 0.625  output 2.50
    gpt-4o-mini       input 0.075  cached     0.075                     output 0.30

and at half the list price where it has none (claude-3-haiku: input 0.25, output 1.25 listed).
"""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from bot.store import pricing
from bot.store.pricing import call_cost


def test_haiku_plain_input_and_output() -> None:
    # 1,000,000 input x $1/M = $1.00; 200,000 output x $5/M = $1.00; total $2.00.
    cost = call_cost(
        "anthropic",
        "claude-haiku-4-5",
        input_tokens=1_000_000,
        cached_input_tokens=0,
        cache_write_tokens=0,
        output_tokens=200_000,
    )
    assert cost == Decimal("2.00")


def test_haiku_prices_cache_reads_and_writes_at_their_own_rates() -> None:
    # input 2420 of which 2000 read from cache and 300 written to it, so 120 uncached:
    #   120 x $1/M     = $0.000120
    #   2000 x $0.10/M = $0.000200
    #   300 x $1.25/M  = $0.000375
    #   45 x $5/M      = $0.000225
    #   total            $0.000920
    cost = call_cost(
        "anthropic",
        "claude-haiku-4-5",
        input_tokens=2420,
        cached_input_tokens=2000,
        cache_write_tokens=300,
        output_tokens=45,
    )
    assert cost == Decimal("0.000920")


def test_a_cache_hit_costs_a_tenth_of_uncached_input_on_haiku() -> None:
    # 10,000 input, all read from cache: 10,000 x $0.10/M = $0.001 (uncached would be $0.01).
    cached = call_cost(
        "anthropic",
        "claude-haiku-4-5",
        input_tokens=10_000,
        cached_input_tokens=10_000,
        cache_write_tokens=0,
        output_tokens=0,
    )
    uncached = call_cost(
        "anthropic",
        "claude-haiku-4-5",
        input_tokens=10_000,
        cached_input_tokens=0,
        cache_write_tokens=0,
        output_tokens=0,
    )
    assert cached == Decimal("0.001")
    assert uncached == Decimal("0.01")


def test_gpt_4o_mini_prices_cached_prompt_tokens_at_half() -> None:
    # prompt 2500 of which 2048 cached, so 452 uncached:
    #   452 x $0.15/M   = $0.0000678
    #   2048 x $0.075/M = $0.0001536
    #   37 x $0.60/M    = $0.0000222
    #   total             $0.0002436
    cost = call_cost(
        "openai",
        "gpt-4o-mini",
        input_tokens=2500,
        cached_input_tokens=2048,
        cache_write_tokens=0,
        output_tokens=37,
    )
    assert cost == Decimal("0.0002436")


def test_gpt_4o_mini_million_tokens_each() -> None:
    # 1M input x $0.15 + 1M output x $0.60 = $0.75.
    cost = call_cost(
        "openai",
        "gpt-4o-mini",
        input_tokens=1_000_000,
        cached_input_tokens=0,
        cache_write_tokens=0,
        output_tokens=1_000_000,
    )
    assert cost == Decimal("0.75")


def test_no_tokens_cost_nothing() -> None:
    cost = call_cost(
        "openai",
        "gpt-4o-mini",
        input_tokens=0,
        cached_input_tokens=0,
        cache_write_tokens=0,
        output_tokens=0,
    )
    assert cost == 0


def test_the_cost_is_a_decimal_not_a_float() -> None:
    cost = call_cost(
        "anthropic",
        "claude-haiku-4-5",
        input_tokens=3,
        cached_input_tokens=0,
        cache_write_tokens=0,
        output_tokens=7,
    )
    # 3 x $1/M + 7 x $5/M = $0.000038, exactly.
    assert isinstance(cost, Decimal)
    assert cost == Decimal("0.000038")


@pytest.fixture
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no model warned about yet."""
    monkeypatch.setattr(pricing, "_warned", set())


@pytest.mark.usefixtures("fresh_warnings")
@pytest.mark.parametrize(
    ("provider", "model"),
    [("openai", "llama3.1"), ("anthropic", "claude-from-the-future"), ("nobody", "some-model")],
)
def test_an_unknown_model_costs_none_and_is_logged_once(
    caplog: pytest.LogCaptureFixture, provider: str, model: str
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.store.pricing")
    costs = [
        call_cost(
            provider,
            model,
            input_tokens=1000,
            cached_input_tokens=100,
            cache_write_tokens=0,
            output_tokens=50,
        )
        for _ in range(3)
    ]
    assert costs == [None, None, None]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert f"{provider}:{model}" in warnings[0].getMessage()


@pytest.mark.usefixtures("fresh_warnings")
def test_each_unknown_model_is_warned_about_on_its_own(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.store.pricing")
    for model in ("llama3.1", "qwen2.5", "llama3.1"):
        call_cost(
            "openai",
            model,
            input_tokens=1,
            cached_input_tokens=0,
            cache_write_tokens=0,
            output_tokens=1,
        )
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(messages) == 2
    assert "openai:llama3.1" in messages[0] and "openai:qwen2.5" in messages[1]


# --- Batch API calls ----------------------------------------------------------------------


def test_a_batch_call_on_haiku_costs_genai_prices_batch_price_half_the_live_one() -> None:
    # The usage of the test above (2420 input: 2000 cache reads, 300 writes, 120 uncached; 45
    # output) at the batch rates:
    #   120 x $0.50/M   = $0.000060
    #   2000 x $0.05/M  = $0.000100
    #   300 x $0.625/M  = $0.0001875
    #   45 x $2.50/M    = $0.0001125
    #   total             $0.000460 (live: $0.000920)
    usage = {
        "input_tokens": 2420,
        "cached_input_tokens": 2000,
        "cache_write_tokens": 300,
        "output_tokens": 45,
    }
    batch = call_cost("anthropic", "claude-haiku-4-5", **usage, batch=True)
    assert batch == Decimal("0.000460")
    assert call_cost("anthropic", "claude-haiku-4-5", **usage) == 2 * batch


def test_a_batch_call_on_gpt_4o_mini_keeps_the_cached_rate_genai_prices_gives() -> None:
    # genai-prices halves input and output for a batch but not cached input:
    #   452 x $0.075/M  = $0.0000339
    #   2048 x $0.075/M = $0.0001536
    #   37 x $0.30/M    = $0.0000111
    #   total             $0.0001986 (half the rates everywhere would be $0.0001218)
    cost = call_cost(
        "openai",
        "gpt-4o-mini",
        input_tokens=2500,
        cached_input_tokens=2048,
        cache_write_tokens=0,
        output_tokens=37,
        batch=True,
    )
    assert cost == Decimal("0.0001986")


def test_a_model_without_a_batch_price_in_genai_prices_pays_half_its_list_price() -> None:
    # claude-3-haiku has no batch variant in genai-prices: 1M x $0.25/M + 1M x $1.25/M = $1.50
    # live, $0.75 in a batch.
    usage = {
        "input_tokens": 1_000_000,
        "cached_input_tokens": 0,
        "cache_write_tokens": 0,
        "output_tokens": 1_000_000,
    }
    assert call_cost("anthropic", "claude-3-haiku", **usage) == Decimal("1.50")
    assert call_cost("anthropic", "claude-3-haiku", **usage, batch=True) == Decimal("0.75")


def test_a_batch_call_pays_half_an_overridden_rate_and_the_batch_price_of_the_rest() -> None:
    overrides = {"anthropic:claude-haiku-4-5": {"input_mtok": Decimal("0.80")}}
    # 1M input x $0.40/M (half the negotiated $0.80) + 1M output x $2.50/M (batch) = $2.90.
    cost = call_cost(
        "anthropic",
        "claude-haiku-4-5",
        input_tokens=1_000_000,
        cached_input_tokens=0,
        cache_write_tokens=0,
        output_tokens=1_000_000,
        overrides=overrides,
        batch=True,
    )
    assert cost == Decimal("2.90")


def test_a_model_priced_by_its_override_alone_pays_half_of_it_in_a_batch() -> None:
    overrides = {"openai:llama3.1": {"input_mtok": Decimal("3.75"), "output_mtok": Decimal("15")}}
    # Unknown to genai-prices: 1M x $3.75/M + 100k x $15/M = $5.25 live, $2.625 in a batch.
    usage = {
        "input_tokens": 1_000_000,
        "cached_input_tokens": 0,
        "cache_write_tokens": 0,
        "output_tokens": 100_000,
    }
    assert call_cost("openai", "llama3.1", **usage, overrides=overrides) == Decimal("5.25")
    cost = call_cost("openai", "llama3.1", **usage, overrides=overrides, batch=True)
    assert cost == Decimal("2.625")


# --- fine-tuned models (supportbot export finetune, README "Fine-tuning the primary model") ---

FINE_TUNED = "ft:gpt-4o-mini-2024-07-18:acme-support::9xYzAbCd"


def test_a_fine_tuned_gpt_4o_mini_is_priced_at_its_fine_tuned_rates() -> None:
    # genai-prices' ft:gpt-4o-mini: input $0.30/M, output $1.20/M (twice the base model's):
    #   1,000,000 x $0.30/M = $0.30;  500,000 x $1.20/M = $0.60;  total $0.90
    # (the base gpt-4o-mini would be $0.15 + $0.30 = $0.45).
    cost = call_cost(
        "openai",
        FINE_TUNED,
        input_tokens=1_000_000,
        cached_input_tokens=0,
        cache_write_tokens=0,
        output_tokens=500_000,
    )
    assert cost == Decimal("0.90")


def test_an_override_of_the_fine_tune_family_prices_every_fine_tune_of_that_base() -> None:
    """One override for `openai:ft:BASE` covers each new fine-tune's id: here the cached
    input rate genai-prices lacks, and a base it does not know at all."""
    family = {
        "openai:ft:gpt-4o-mini-2024-07-18": {"cache_read_mtok": Decimal("0.15")},
        "openai:ft:gpt-4.1-mini-2025-04-14": {
            "input_mtok": Decimal("0.80"),
            "output_mtok": Decimal("3.20"),
        },
    }
    # 1,000,000 input of which 400,000 cached: 600,000 x $0.30/M + 400,000 x $0.15/M = $0.24.
    cached = call_cost(
        "openai",
        FINE_TUNED,
        input_tokens=1_000_000,
        cached_input_tokens=400_000,
        cache_write_tokens=0,
        output_tokens=0,
        overrides=family,
    )
    assert cached == Decimal("0.24")
    # 1,000,000 x $0.80/M + 100,000 x $3.20/M = $1.12; unknown without the override.
    newer = "ft:gpt-4.1-mini-2025-04-14:acme-support:v2:Q1w2E3r4"
    usage = {"input_tokens": 1_000_000, "cached_input_tokens": 0, "cache_write_tokens": 0}
    assert call_cost("openai", newer, output_tokens=100_000, overrides=family, **usage) == (
        Decimal("1.12")
    )
    assert call_cost("openai", newer, output_tokens=100_000, **usage) is None
    # The model's own override comes before its family's.
    own = {f"openai:{FINE_TUNED}": {"input_mtok": Decimal("0.25")}} | family
    price = pricing.model_price("openai", FINE_TUNED, own)
    assert price is not None and price.input_mtok == Decimal("0.25")


def test_the_family_of_a_fine_tuned_id_is_its_base_model() -> None:
    assert pricing.fine_tune_family(f"openai:{FINE_TUNED}") == "openai:ft:gpt-4o-mini-2024-07-18"
    assert pricing.fine_tune_family("openai:gpt-4o-mini") == "openai:gpt-4o-mini"
