"""Batch prices: a separate column of the pricing table; unknown stays None."""

from __future__ import annotations

import pytest

from promptlab.completion import Usage
from promptlab.errors import ConfigurationError
from promptlab.pricing import ModelPrice, batch_cost_usd, cost_usd, price_for

USAGE = Usage(input_tokens=1_000_000, output_tokens=1_000_000)


@pytest.mark.parametrize(
    "vendor,model", [("openai", "gpt-4o-mini"), ("anthropic", "claude-haiku-4-5")]
)
def test_the_table_prices_batches_at_half_the_direct_price(vendor: str, model: str) -> None:
    direct = cost_usd(vendor, model, USAGE)
    assert direct is not None
    assert batch_cost_usd(vendor, model, USAGE) == pytest.approx(direct / 2)


def test_cached_input_in_a_batch_is_charged_at_the_batch_input_price() -> None:
    price = ModelPrice(2.0, 8.0, 0.5, batch_input_per_million=1.0, batch_output_per_million=4.0)
    usage = Usage(input_tokens=1_000_000, output_tokens=0, cached_input_tokens=1_000_000)
    assert price.batch_cost(usage) == pytest.approx(1.0)


def test_unknown_batch_prices_give_an_unknown_cost() -> None:
    assert ModelPrice(2.0, 8.0).batch_cost(USAGE) is None
    assert batch_cost_usd("openai", "no-such-model", USAGE) is None
    assert price_for("local", "anything").batch_cost(USAGE) == 0.0  # type: ignore[union-attr]


def test_a_negative_batch_price_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="batch_input_per_million=-1"):
        ModelPrice(1.0, 1.0, batch_input_per_million=-1)
