"""The dry run: what an experiment would send and cost, without calling any provider.

Every cell's strategy runs as in a real run, but against a :class:`DryRunProvider`: it
checks each request as the real provider would (an unsupported parameter fails here
too), counts it, and answers at once with a placeholder. The placeholders never agree
("Answer: 1", "Answer: 2"...), so an adaptive arm draws its largest ``n``: the count is an
upper bound. Retrieval strategies still query their retriever (an embedding retriever
may call its embedding API).

Counted per arm x provider:

* **calls**: requests as the provider would send them (native ``n`` is one call; ``n``
  separate requests otherwise), as if nothing were cached;
* **input tokens**, from the rendered prompts, with the provider's tokenizer where one is
  available: a llama.cpp model's own (chat template included); for OpenAI models
  ``tiktoken`` when installed and its encoding can be loaded (3 tokens per message plus 3
  per reply, as OpenAI counts chat messages); otherwise an estimate of one token per
  four characters of every message's role and content (the rate limiter's rule);
* **output tokens, at most**: ``max_tokens`` (or the provider's default) times the
  samples; unbounded (None) when neither is set;
* **cost range**: from input only (low) to input plus the output bound (high), at direct
  and at batch prices; None when the price, or the output bound, is unknown.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from promptlab.completion import Choice, Completion, CompletionRequest, Usage
from promptlab.messages import Message
from promptlab.pricing import FREE, ModelPrice, price_for
from promptlab.providers.base import Provider
from promptlab.providers.fake import FakeProvider
from promptlab.providers.llama_cpp import DEFAULT_MAX_TOKENS, LlamaCppProvider
from promptlab.providers.tokens import (
    CHARS_PER_TOKEN,
    chat_tokens,
    load_encoding,
    tiktoken_module,
)

if TYPE_CHECKING:
    from promptlab.experiments.execution._cell import Cell
    from promptlab.experiments.experiment import Experiment

TokenCounter = Callable[[Sequence[Message]], int]


@dataclass
class EstimateRow:
    """The dry run of one arm on one provider.

    Attributes:
        arm, provider: Which.
        cells: Cells counted.
        calls: Provider calls, as if nothing were cached.
        samples: Completions those calls return (``n`` per call with native ``n``).
        input_tokens: Prompt tokens of those calls.
        max_output_tokens: Most output tokens, or None when unbounded (no ``max_tokens``).
        tokenizer: How input tokens were counted.
        direct_usd, batch_usd: ``(low, high)`` dollars at direct and batch prices; a bound
            is None when it cannot be known.
    """

    arm: str
    provider: str
    cells: int = 0
    calls: int = 0
    samples: int = 0
    input_tokens: int = 0
    max_output_tokens: int | None = 0
    tokenizer: str = ""
    direct_usd: tuple[float | None, float | None] = (0.0, 0.0)
    batch_usd: tuple[float | None, float | None] = (0.0, 0.0)


@dataclass
class CostEstimate:
    """What a run would send and cost (see :meth:`Experiment.estimate`).

    Attributes:
        rows: One per arm x provider.
    """

    rows: list[EstimateRow] = field(default_factory=list)

    @property
    def calls(self) -> int:
        """Provider calls in all."""
        return sum(r.calls for r in self.rows)

    def total(self, prices: str = "direct") -> tuple[float | None, float | None]:
        """``(low, high)`` dollars over every row at ``"direct"`` or ``"batch"`` prices."""
        pairs = [r.direct_usd if prices == "direct" else r.batch_usd for r in self.rows]
        return _sum([p[0] for p in pairs]), _sum([p[1] for p in pairs])

    def to_frame(self) -> Any:
        """The rows as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "arm": r.arm,
                    "provider": r.provider,
                    "cells": r.cells,
                    "calls": r.calls,
                    "input_tokens": r.input_tokens,
                    "max_output_tokens": r.max_output_tokens,
                    "direct_usd_low": r.direct_usd[0],
                    "direct_usd_high": r.direct_usd[1],
                    "batch_usd_low": r.batch_usd[0],
                    "batch_usd_high": r.batch_usd[1],
                    "tokenizer": r.tokenizer,
                }
                for r in self.rows
            ]
        )

    def __str__(self) -> str:
        lines = [
            f"{'arm':<16} {'provider':<14} {'cells':>7} {'calls':>8} {'input tok':>11} "
            f"{'output tok <=':>13}  {'direct $':<19} {'batch $':<19} tokenizer"
        ]
        for r in self.rows:
            out = "unbounded" if r.max_output_tokens is None else f"{r.max_output_tokens:,}"
            lines.append(
                f"{r.arm:<16} {r.provider:<14} {r.cells:>7,} {r.calls:>8,} "
                f"{r.input_tokens:>11,} {out:>13}  {_range(r.direct_usd):<19} "
                f"{_range(r.batch_usd):<19} {r.tokenizer}"
            )
        lines.append(
            f"Total: {self.calls:,} calls; {_range(self.total('direct'))} at direct prices, "
            f"{_range(self.total('batch'))} at batch prices. No provider was called."
        )
        return "\n".join(lines)


class DryRunProvider(Provider):
    """Stands in for ``provider`` in a dry run: checks and counts requests, calls nothing.

    Args:
        provider: The real provider (its capabilities, checks, defaults and prices).
        count_tokens: Counts a request's prompt tokens.
    """

    def __init__(self, provider: Provider, count_tokens: TokenCounter) -> None:
        super().__init__(on_unsupported=provider.on_unsupported)
        self.inner = provider
        self.name, self.model = provider.name, provider.model
        self.capabilities = provider.capabilities
        self.count_tokens = count_tokens
        self.calls = 0
        self.samples = 0
        self.input_tokens = 0
        self.max_output_tokens: int | None = 0
        self._replies = itertools.count(1)

    def check(self, request: CompletionRequest) -> CompletionRequest:
        return self.inner.check(request)

    def fingerprint(self) -> dict[str, Any]:
        return self.inner.fingerprint()

    async def _generate(self, request: CompletionRequest) -> Completion:
        n = request.params.n or 1
        self.calls += 1
        self.samples += n
        self.input_tokens += self.count_tokens(request.messages)
        limit = request.params.max_tokens or _default_max_tokens(self.inner)
        if limit is None or self.max_output_tokens is None:
            self.max_output_tokens = None
        else:
            self.max_output_tokens += limit * n
        choices = tuple(Choice(f"Answer: {next(self._replies)}", "stop", None, i) for i in range(n))
        return Completion(choices, Usage(), model=self.model, provider=self.name, cost_usd=0.0)


async def dry_run_cell(cell: Cell, experiment: Experiment, provider: DryRunProvider) -> None:
    """Run one cell's strategy against ``provider`` (a :class:`DryRunProvider`)."""
    seed = experiment.cell_seed(cell.task.id, cell.arm_name, cell.repeat)
    params = cell.arm.cell_params(seed, cell.provider)
    await cell.arm.strategy.arun(cell.task.inputs, provider, params=params)


async def estimate_experiment(experiment: Experiment) -> CostEstimate:
    """The dry run of every cell of ``experiment``, priced both directly and in batches."""
    from promptlab.experiments.execution._cell import iter_cells

    estimate = CostEstimate()
    for name, real in experiment.providers.items():
        count, tokenizer = token_counter(real)
        by_arm: dict[str, tuple[EstimateRow, DryRunProvider]] = {}
        for cell in iter_cells(experiment, name, set()):
            if cell.arm_name not in by_arm:
                row = EstimateRow(cell.arm_name, name, tokenizer=tokenizer)
                by_arm[cell.arm_name] = (row, DryRunProvider(real, count))
            row, dry = by_arm[cell.arm_name]
            await dry_run_cell(cell, experiment, dry)
            row.cells += 1
        for row, dry in by_arm.values():
            row.calls, row.samples, row.input_tokens = dry.calls, dry.samples, dry.input_tokens
            row.max_output_tokens = dry.max_output_tokens
            row.direct_usd = cost_range(real, row, batch=False)
            row.batch_usd = cost_range(real, row, batch=True)
            estimate.rows.append(row)
    return estimate


def provider_price(provider: Provider) -> ModelPrice | None:
    """The provider's per-token price: its own, else the table's; None when unknown."""
    own = getattr(provider, "price", None)
    if isinstance(own, ModelPrice):
        return own
    vendor = getattr(provider, "vendor", None)
    if isinstance(vendor, str) and vendor:
        return price_for(vendor, provider.model)
    if isinstance(provider, LlamaCppProvider):
        return FREE
    return None


def cost_range(
    provider: Provider, row: EstimateRow, *, batch: bool
) -> tuple[float | None, float | None]:
    """``(low, high)`` dollars for a row's calls on ``provider``."""
    if isinstance(provider, FakeProvider):  # priced per sample, not per token
        if provider.cost_per_call is None:
            return None, None
        dollars = provider.cost_per_call * row.samples
        return dollars, dollars
    price = provider_price(provider)
    if price is None:
        return None, None
    cost = price.batch_cost if batch else price.cost
    low = cost(Usage(input_tokens=row.input_tokens))
    if row.max_output_tokens is None:
        return low, None
    high = cost(Usage(input_tokens=row.input_tokens, output_tokens=row.max_output_tokens))
    return low, high


def token_counter(provider: Provider) -> tuple[TokenCounter, str]:
    """How to count ``provider``'s prompt tokens, and a name for the method."""
    if isinstance(provider, LlamaCppProvider):
        local = provider

        def llama_tokens(messages: Sequence[Message]) -> int:
            # The model's own tokenizer and chat template (loading the model, not running it).
            llama = local._load(logits_all=False)
            return len(local._chat_prompt_tokens(llama, messages))

        return llama_tokens, f"llama.cpp ({provider.model})"
    if getattr(provider, "vendor", None) == "openai":
        counted = _tiktoken_counter(provider.model)
        if counted is not None:
            return counted
    return _estimate_tokens, f"estimate: 1 token per {CHARS_PER_TOKEN} characters"


def _tiktoken_counter(model: str) -> tuple[TokenCounter, str] | None:
    tiktoken = tiktoken_module()
    encoding = None if tiktoken is None else load_encoding(tiktoken, model=model)
    if encoding is None or isinstance(encoding, Exception):
        return None  # not installed, or no network to fetch the file: the estimate

    def tokens(messages: Sequence[Message]) -> int:
        return chat_tokens(
            ((m.role, m.content) for m in messages),
            lambda text: len(encoding.encode(text, disallowed_special=())),
        )

    return tokens, f"tiktoken ({encoding.name})"


def _estimate_tokens(messages: Sequence[Message]) -> int:
    return math.ceil(sum(len(m.content) + len(m.role) for m in messages) / CHARS_PER_TOKEN)


def _default_max_tokens(provider: Provider) -> int | None:
    """``max_tokens`` the provider sends when a request sets none (Anthropic, llama.cpp)."""
    value = getattr(provider, "default_max_tokens", None)
    if isinstance(value, int):
        return value
    return DEFAULT_MAX_TOKENS if isinstance(provider, LlamaCppProvider) else None


def _sum(values: list[float | None]) -> float | None:
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


def _range(pair: tuple[float | None, float | None]) -> str:
    low, high = pair
    if low is None:
        return "unknown"
    return f"{low:.4f}-{'unbounded' if high is None else f'{high:.4f}'}"
