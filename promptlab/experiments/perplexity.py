"""Perplexity of a response: how surprised the model was by its own sampled tokens.

``perplexity = exp(-mean(logprob))`` over every sampled token that came with a
log-probability, pooled across a cell's samples. Lower means the model was more
confident. It needs token logprobs, which a provider returns only when asked
(``GenerationParams(logprobs=True)``) and only if it can; without them the score is NaN
with a note saying so, never an error.
"""

from __future__ import annotations

import math
from typing import Any

from promptlab.experiments.scoring import Score
from promptlab.strategies.base import StrategyResult

__all__ = ["NO_LOGPROBS_NOTE", "Perplexity", "response_perplexity"]

NO_LOGPROBS_NOTE = "provider returned no logprobs (request logprobs=True)"


def response_perplexity(result: StrategyResult) -> float | None:
    """``exp(mean negative logprob)`` over the sampled tokens, or None without logprobs.

    Example:
        For two tokens with logprobs -1 and -3 the perplexity is ``exp(2) ≈ 7.39``.
    """
    logprobs = [
        token.logprob
        for completion in result.completions
        for choice in completion.choices
        if choice.logprobs
        for token in choice.logprobs
    ]
    if not logprobs:
        return None
    return math.exp(-sum(logprobs) / len(logprobs))


class Perplexity:
    """Scores each cell with the perplexity of its response (lower is more confident).

    A graded score (``binary = False``), so comparisons use the Wilcoxon signed-rank test.
    Remember when comparing arms that lower is *better* here.

    Args:
        name: Score name (default ``"perplexity"``).
    """

    binary = False

    def __init__(self, *, name: str = "perplexity") -> None:
        self.name = name

    async def score(self, task: Any, result: StrategyResult) -> Score:
        """The response's perplexity, or NaN with a note when there are no logprobs."""
        value = response_perplexity(result)
        if value is None:
            return Score(math.nan, NO_LOGPROBS_NOTE)
        return Score(value)

    def __repr__(self) -> str:
        return f"Perplexity(name={self.name!r})"
