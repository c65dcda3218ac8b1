"""Perplexity of a response: how surprised the model was by its own sampled tokens.

Which perplexity is which: this scorer (``perplexity``) reads the logprobs of the reply
the model *sampled*, so it depends on temperature and says little when comparing models.
To compare models, use :class:`~promptlab.experiments.scoring.ReferencePerplexity`
(``reference_perplexity``) or :func:`promptlab.perplexity`: the likelihood of a *given*
reference text, teacher-forced.

``perplexity = exp(-mean(logprob))`` over every sampled token that came with a
log-probability, pooled across a cell's samples. Lower means the model was more
confident. It needs token logprobs, which a provider returns only when asked
(``GenerationParams(logprobs=True)``) and only if it can; without them the score is NaN
with a note saying so, never an error.

A perplexity that is not a finite number (a token with log-probability ``-inf``, i.e.
probability 0, or a mean so negative that ``exp`` overflows a float) is also NaN with a
note: an infinite score would break every mean and interval built on it.
"""

from __future__ import annotations

import math
from typing import Any

from promptlab.experiments.scoring._scorer import Score
from promptlab.strategies.base import StrategyResult

__all__ = ["NO_LOGPROBS_NOTE", "Perplexity", "response_perplexity"]

NO_LOGPROBS_NOTE = "provider returned no logprobs (request logprobs=True)"


def response_perplexity(result: StrategyResult) -> float | None:
    """``exp(mean negative logprob)`` over the sampled tokens, or None without logprobs.

    Never raises: a ``-inf`` logprob or an overflowing ``exp`` gives ``inf``, a NaN
    logprob gives NaN.

    Example:
        For two tokens with logprobs -1 and -3 the perplexity is ``exp(2) ≈ 7.39``.
    """
    logprobs = _logprobs(result)
    if not logprobs:
        return None
    mean = math.fsum(logprobs) / len(logprobs)
    if math.isnan(mean):
        return math.nan
    try:
        return math.exp(-mean)
    except OverflowError:
        return math.inf


def _logprobs(result: StrategyResult) -> list[float]:
    return [
        token.logprob
        for completion in result.completions
        for choice in completion.choices
        if choice.logprobs
        for token in choice.logprobs
    ]


class Perplexity:
    """Scores each cell with the perplexity of its response (lower is more confident).

    A graded score (``binary = False``), so comparisons use the Wilcoxon signed-rank test.
    Remember when comparing arms that lower is *better* here. A perplexity that is not a
    finite number scores NaN with a note (it then counts in the summary's ``unscored``).

    Args:
        name: Score name (default ``"perplexity"``).
    """

    binary = False

    def __init__(self, *, name: str = "perplexity") -> None:
        self.name = name

    async def score(self, task: Any, result: StrategyResult) -> Score:
        """The response's perplexity, or NaN with a note when it cannot be computed."""
        value = response_perplexity(result)
        if value is None:
            return Score(math.nan, NO_LOGPROBS_NOTE)
        if math.isfinite(value):
            return Score(value)
        logprobs = _logprobs(result)
        if any(math.isnan(lp) for lp in logprobs):
            return Score(math.nan, "a token logprob is NaN; perplexity is undefined")
        if any(lp == -math.inf for lp in logprobs):
            return Score(
                math.nan,
                "a sampled token had logprob -inf (probability 0); perplexity is infinite",
            )
        mean = math.fsum(logprobs) / len(logprobs)
        return Score(
            math.nan,
            f"perplexity exp({-mean:.4g}) is too large for a float (mean token logprob {mean:.4g})",
        )

    def __repr__(self) -> str:
        return f"Perplexity(name={self.name!r})"
