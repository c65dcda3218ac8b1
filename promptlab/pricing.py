"""Dollar prices per million tokens, and the cost of a completion's usage.

The table covers current OpenAI and Anthropic chat models. Each entry records where the
price came from and when it was recorded. **These prices were written down from the
vendors' published pricing pages as known to the authors on the recorded date; they are
not fetched live. Verify them against the vendor page before trusting a bill, and
override or extend them with** :func:`register_price`.

Rules:

- An unknown model costs ``None`` ("unknown"), never 0, so an unpriced model cannot
  look free in a report.
- Local models (the ``"local"`` vendor, and OpenAI-compatible servers on loopback) cost 0.
- Dated snapshots resolve to their base entry: ``gpt-4o-2024-08-06`` is priced as
  ``gpt-4o``, ``claude-sonnet-4-5-20250929`` as ``claude-sonnet-4-5``; any other suffix
  (``gpt-4o-audio-preview``) is *not* matched, because it may be priced differently.
- Batch prices (OpenAI Batch, Anthropic Message Batches) are a separate column:
  ``batch_input_per_million`` / ``batch_output_per_million``. The table's OpenAI and
  Anthropic entries are half the direct price, as both vendors publish their batch
  discount; a price without the batch column has an unknown (``None``) batch cost, never
  the direct one. Cached input in a batch is charged at the batch input price (the vendor
  may charge less; the figure is an upper bound).
- Cached input tokens are charged at the cached price where the vendor has one
  (OpenAI cached input, Anthropic cache reads), else at the input price. Anthropic
  cache *writes* (1.25x input) are charged at the plain input price: promptlab does not
  set cache breakpoints, so there are none unless you add them.

Example:
    >>> register_price("openai", "my-finetune", ModelPrice(3.0, 12.0, source="contract"))
    >>> cost_usd("openai", "my-finetune", Usage(input_tokens=1_000_000, output_tokens=0))
    3.0
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from promptlab.completion import Usage
from promptlab.errors import ConfigurationError

OPENAI_PRICING_URL = "https://openai.com/api/pricing/"
ANTHROPIC_PRICING_URL = "https://www.anthropic.com/pricing#api"

# A dated snapshot or alias suffix that does not change the price.
_SNAPSHOT_SUFFIX = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8}|latest)$")


@dataclass(frozen=True)
class ModelPrice:
    """Dollars per million tokens for one model.

    Attributes:
        input_per_million: Uncached prompt tokens.
        output_per_million: Generated tokens (reasoning tokens included, as billed).
        cached_input_per_million: Prompt tokens read from the vendor's prompt cache;
            None when the vendor has no separate price (the input price applies).
        source: Where the price came from (a URL, a contract...).
        recorded: When the price was written down.
        batch_input_per_million, batch_output_per_million: The vendor's batch-API prices;
            None when unknown (then a batch's cost is unknown too).
    """

    input_per_million: float
    output_per_million: float
    cached_input_per_million: float | None = None
    source: str = ""
    recorded: date | None = None
    batch_input_per_million: float | None = None
    batch_output_per_million: float | None = None

    def __post_init__(self) -> None:
        for name in (
            "input_per_million",
            "output_per_million",
            "cached_input_per_million",
            "batch_input_per_million",
            "batch_output_per_million",
        ):
            value = getattr(self, name)
            if value is not None and not value >= 0:
                raise ConfigurationError(
                    f"ModelPrice {name}={value!r} is not allowed: use dollars per million "
                    "tokens, >= 0."
                )

    def cost(self, usage: Usage) -> float:
        """Dollars for ``usage`` at this price."""
        cached = min(usage.cached_input_tokens, usage.input_tokens)
        cached_rate = (
            self.cached_input_per_million
            if self.cached_input_per_million is not None
            else self.input_per_million
        )
        dollars = (
            (usage.input_tokens - cached) * self.input_per_million
            + cached * cached_rate
            + usage.output_tokens * self.output_per_million
        )
        return dollars / 1_000_000

    def batch_cost(self, usage: Usage) -> float | None:
        """Dollars for ``usage`` at the batch prices; None when they are unknown."""
        if self.batch_input_per_million is None or self.batch_output_per_million is None:
            return None
        dollars = (
            usage.input_tokens * self.batch_input_per_million
            + usage.output_tokens * self.batch_output_per_million
        )
        return dollars / 1_000_000


#: Free: local models.
FREE = ModelPrice(0.0, 0.0, 0.0, "runs locally", None, 0.0, 0.0)


def _openai(inp: float, cached: float | None, out: float, recorded: date) -> ModelPrice:
    # The Batch API is half the direct price (OpenAI's pricing page, "Batch" column).
    return ModelPrice(inp, out, cached, OPENAI_PRICING_URL, recorded, inp / 2, out / 2)


def _anthropic(inp: float, out: float, recorded: date) -> ModelPrice:
    # Anthropic prices cache reads at a tenth of the input price, and Message Batches
    # at half the input and output price.
    return ModelPrice(
        inp, out, round(inp / 10, 6), ANTHROPIC_PRICING_URL, recorded, inp / 2, out / 2
    )


_2025_08 = date(2025, 8, 7)
_2025_11 = date(2025, 11, 24)

#: vendor -> model -> price. Extend or override with :func:`register_price`.
PRICES: dict[str, dict[str, ModelPrice]] = {
    "openai": {
        "gpt-5": _openai(1.25, 0.125, 10.00, _2025_08),
        "gpt-5-mini": _openai(0.25, 0.025, 2.00, _2025_08),
        "gpt-5-nano": _openai(0.05, 0.005, 0.40, _2025_08),
        "gpt-5-chat-latest": _openai(1.25, 0.125, 10.00, _2025_08),
        "gpt-4.1": _openai(2.00, 0.50, 8.00, _2025_08),
        "gpt-4.1-mini": _openai(0.40, 0.10, 1.60, _2025_08),
        "gpt-4.1-nano": _openai(0.10, 0.025, 0.40, _2025_08),
        "gpt-4o": _openai(2.50, 1.25, 10.00, _2025_08),
        "gpt-4o-mini": _openai(0.15, 0.075, 0.60, _2025_08),
        "o1": _openai(15.00, 7.50, 60.00, _2025_08),
        "o3": _openai(2.00, 0.50, 8.00, _2025_08),
        "o3-mini": _openai(1.10, 0.55, 4.40, _2025_08),
        "o4-mini": _openai(1.10, 0.275, 4.40, _2025_08),
        "gpt-4-turbo": _openai(10.00, None, 30.00, _2025_08),
        "gpt-3.5-turbo": _openai(0.50, None, 1.50, _2025_08),
    },
    "anthropic": {
        "claude-opus-4-5": _anthropic(5.00, 25.00, _2025_11),
        "claude-opus-4-1": _anthropic(15.00, 75.00, _2025_08),
        "claude-opus-4": _anthropic(15.00, 75.00, _2025_08),
        "claude-sonnet-4-5": _anthropic(3.00, 15.00, _2025_11),
        "claude-sonnet-4": _anthropic(3.00, 15.00, _2025_08),
        "claude-haiku-4-5": _anthropic(1.00, 5.00, _2025_11),
        "claude-3-7-sonnet": _anthropic(3.00, 15.00, _2025_08),
        "claude-3-5-haiku": _anthropic(0.80, 4.00, _2025_08),
        "claude-3-haiku": _anthropic(0.25, 1.25, _2025_08),
    },
    "local": {},
}


def register_price(vendor: str, model: str, price: ModelPrice | None) -> None:
    """Add or replace the price of ``model`` for ``vendor`` (None removes it).

    Args:
        vendor: ``"openai"``, ``"anthropic"``, or any name a provider prices under.
        model: The model name exactly as sent to the API (or its undated base name).
        price: The new price; None removes the entry, making the model's cost unknown.
    """
    if price is None:
        PRICES.get(vendor, {}).pop(model, None)
        return
    if not isinstance(price, ModelPrice):
        raise ConfigurationError(
            f"register_price({vendor!r}, {model!r}, {price!r}): price must be a ModelPrice, "
            "e.g. ModelPrice(input_per_million=2.5, output_per_million=10.0)."
        )
    PRICES.setdefault(vendor, {})[model] = price


def price_for(vendor: str, model: str) -> ModelPrice | None:
    """The price of ``model``, resolving dated snapshots to their base; None if unknown."""
    if vendor == "local":
        return FREE
    table = PRICES.get(vendor, {})
    if model in table:
        return table[model]
    base = _SNAPSHOT_SUFFIX.sub("", model)
    return table.get(base)


def cost_usd(vendor: str, model: str, usage: Usage) -> float | None:
    """Dollars spent for ``usage`` on ``model``; None when the price is unknown."""
    price = price_for(vendor, model)
    return None if price is None else price.cost(usage)


def batch_cost_usd(vendor: str, model: str, usage: Usage) -> float | None:
    """Dollars for ``usage`` on ``model`` through the vendor's batch API; None if unknown."""
    price = price_for(vendor, model)
    return None if price is None else price.batch_cost(usage)
