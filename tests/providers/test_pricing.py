"""The pricing table: costs, snapshots, unknown models, local models, overrides."""

from __future__ import annotations

from datetime import date

import pytest

from promptlab.completion import Usage
from promptlab.errors import ConfigurationError
from promptlab.pricing import PRICES, ModelPrice, cost_usd, price_for, register_price

MILLION = 1_000_000


def test_cost_splits_cached_and_uncached_input() -> None:
    price = ModelPrice(input_per_million=2.0, output_per_million=8.0, cached_input_per_million=0.5)
    usage = Usage(
        input_tokens=MILLION, output_tokens=MILLION // 2, cached_input_tokens=MILLION // 4
    )
    assert price.cost(usage) == pytest.approx(0.75 * 2.0 + 0.25 * 0.5 + 0.5 * 8.0)


def test_cached_tokens_cost_the_input_price_when_the_vendor_has_no_cached_price() -> None:
    price = ModelPrice(input_per_million=1.0, output_per_million=1.0)
    assert price.cost(Usage(MILLION, 0, MILLION)) == pytest.approx(1.0)


def test_known_models_are_priced_and_snapshots_resolve_to_their_base() -> None:
    usage = Usage(input_tokens=MILLION, output_tokens=MILLION)
    assert cost_usd("openai", "gpt-4o-mini", usage) == pytest.approx(0.15 + 0.60)
    assert cost_usd("openai", "gpt-4o-mini-2024-07-18", usage) == pytest.approx(0.75)
    assert (
        price_for("anthropic", "claude-sonnet-4-5-20250929")
        is PRICES["anthropic"]["claude-sonnet-4-5"]
    )
    assert (
        price_for("anthropic", "claude-3-5-haiku-latest") is PRICES["anthropic"]["claude-3-5-haiku"]
    )


def test_unknown_models_cost_none_never_zero() -> None:
    usage = Usage(100, 100)
    assert cost_usd("openai", "gpt-99-ultra", usage) is None
    assert cost_usd("openai", "gpt-4o-audio-preview", usage) is None  # not gpt-4o's price
    assert cost_usd("some-vendor", "model", usage) is None


def test_local_models_are_free() -> None:
    assert cost_usd("local", "anything.gguf", Usage(10**9, 10**9)) == 0.0


def test_every_entry_records_its_source_and_date() -> None:
    for vendor, table in PRICES.items():
        for model, price in table.items():
            assert price.source.startswith("https://"), (vendor, model)
            assert isinstance(price.recorded, date) and price.recorded.year >= 2025, model
            assert price.output_per_million >= price.input_per_million > 0, model


def test_register_price_overrides_extends_and_removes() -> None:
    original = price_for("openai", "gpt-4o")
    try:
        register_price("openai", "gpt-4o", ModelPrice(1.0, 1.0, source="contract"))
        assert cost_usd("openai", "gpt-4o", Usage(MILLION, 0)) == pytest.approx(1.0)
        register_price("my-gateway", "llama-70b", ModelPrice(0.5, 0.5))
        assert cost_usd("my-gateway", "llama-70b", Usage(MILLION, MILLION)) == pytest.approx(1.0)
        register_price("my-gateway", "llama-70b", None)
        assert cost_usd("my-gateway", "llama-70b", Usage(1, 1)) is None
    finally:
        register_price("openai", "gpt-4o", original)
        PRICES.pop("my-gateway", None)


def test_invalid_prices_are_refused_with_the_field_name() -> None:
    with pytest.raises(ConfigurationError, match="input_per_million=-1"):
        ModelPrice(-1, 1)
    with pytest.raises(ConfigurationError, match="must be a ModelPrice"):
        register_price("openai", "x", 2.5)  # type: ignore[arg-type]
