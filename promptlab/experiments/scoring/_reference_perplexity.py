"""Perplexity of a task's reference text under the cell's model, teacher-forced.

Not to be confused with :class:`~promptlab.experiments.scoring.Perplexity`, which scores
the model's *own sampled* reply (and so depends on temperature). This scorer asks how
likely the model finds a **given** text, the standard evaluation measure:

* ``context="prompt"`` (default): the task's reference answer given the cell's rendered
  prompt, i.e. the model's likelihood of answering exactly that (the chat template is
  applied, as for generation);
* ``context="none"``: the reference text as a whole document, from its first token, with
  optional rolling windows for texts longer than the context window.

Each cell's value is one metric (``word_perplexity`` by default; lower is better) and its
note holds the totals (NLL, tokens, words, bytes), so a corpus-level value is
``PerplexityResult.total(PerplexityResult.from_dict(note) for note in notes)``: total NLL
over total units, not a mean of per-cell values.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from promptlab.errors import ConfigurationError
from promptlab.experiments.scoring._scorer import Score
from promptlab.likelihood import METRICS, check_rolling
from promptlab.providers.base import Provider
from promptlab.strategies.base import StrategyResult

__all__ = ["ReferencePerplexity"]

NO_PROMPT_NOTE = (
    "the rendered prompt is not stored with the cell (a rescored cell): run the cells again "
    "(--fresh) to score the reference given the prompt"
)
NO_PROVIDER_NOTE = (
    "needs the cell's model, which is not called when stored cells are rescored: run the "
    "cells again (--fresh), or give the scorer a provider"
)


class ReferencePerplexity:
    """Scores each cell with the perplexity of the task's reference text (lower is better).

    The model scored is the cell's provider, unless ``provider`` is given. It must be able
    to score a given text (:meth:`~promptlab.Provider.prompt_logprobs`): the in-process
    :class:`~promptlab.LlamaCppProvider`, or an OpenAI-compatible server that echoes prompt
    logprobs (vLLM). On a chat-only API the cell's score is NaN with a note naming the
    problem. A graded score (``binary = False``).

    Args:
        metric: ``"word_perplexity"`` (default), ``"byte_perplexity"``,
            ``"bits_per_byte"`` or ``"token_perplexity"`` (this one depends on the
            tokenizer, so it does not compare models with different vocabularies).
        reference: Where the text is: ``"expected"`` (the task's expected answer, default)
            or the name of a task input field (e.g. ``"document"``).
        context: ``"prompt"`` (the reference given the rendered prompt) or ``"none"``
            (the reference alone, as a document).
        provider: A provider (or provider string) to score with instead of the cell's.
        rolling: Score texts longer than the context window in overlapping windows.
        context_size: Tokens per window (default: the model's context size).
        stride: Tokens scored per window after the first (default: half a window).
        name: Score name (default ``"reference_perplexity"``).

    Example:
        >>> ReferencePerplexity(metric="bits_per_byte", reference="document", context="none")
        ReferencePerplexity(name='reference_perplexity', metric='bits_per_byte')
    """

    binary = False

    def __init__(
        self,
        *,
        metric: str = "word_perplexity",
        reference: str = "expected",
        context: Literal["prompt", "none"] = "prompt",
        provider: Provider | str | None = None,
        rolling: bool = False,
        context_size: int | None = None,
        stride: int | None = None,
        name: str = "reference_perplexity",
    ) -> None:
        if metric not in METRICS:
            raise ConfigurationError(
                f"ReferencePerplexity metric={metric!r} is not known; use one of "
                f"{', '.join(METRICS)}."
            )
        if context not in ("prompt", "none"):
            raise ConfigurationError(
                f"ReferencePerplexity context={context!r} is not allowed: use 'prompt' (the "
                "reference given the rendered prompt) or 'none' (the reference alone)."
            )
        if not isinstance(reference, str) or not reference:
            raise ConfigurationError(
                f"ReferencePerplexity reference={reference!r} is not allowed: use 'expected' "
                "or the name of a task input field."
            )
        check_rolling(rolling, context_size, stride)
        self.metric = metric
        self.reference = reference
        self.context = context
        self.rolling = rolling
        self.context_size = context_size
        self.stride = stride
        self.name = name
        self._provider_spec = provider
        self._provider: Provider | None = provider if isinstance(provider, Provider) else None

    @property
    def provider(self) -> Provider | None:
        """The provider given to the scorer (built from its string on first use), or None."""
        if self._provider is None and self._provider_spec is not None:
            from promptlab.providers.registry import provider as build_provider

            self._provider = build_provider(self._provider_spec)
        return self._provider

    async def score(self, task: Any, result: StrategyResult) -> Score:
        """Score with the scorer's own provider; NaN with a note when it has none."""
        if self.provider is None:
            return Score(math.nan, NO_PROVIDER_NOTE)
        return await self.score_with_provider(task, result, self.provider)

    async def score_with_provider(
        self, task: Any, result: StrategyResult, provider: Provider
    ) -> Score:
        """Score with the scorer's provider if it has one, else with ``provider`` (the cell's)."""
        text = self._reference_text(task)
        if text is None:
            return Score(
                math.nan, f"the task has no reference text (a string) in {self.reference!r}"
            )
        if self.context == "prompt":
            if not result.messages:
                return Score(math.nan, NO_PROMPT_NOTE)
            scored: Any = (result.messages, text)
        else:
            scored = text
        model = self.provider or provider
        logprobs = await model.prompt_logprobs(
            scored, rolling=self.rolling, context_size=self.context_size, stride=self.stride
        )
        totals = logprobs.result()
        return Score(totals.metric(self.metric), totals.to_dict())

    def _reference_text(self, task: Any) -> str | None:
        if self.reference == "expected":
            value = getattr(task, "expected", None)
        else:
            value = getattr(task, "inputs", {}).get(self.reference)
        if isinstance(value, str):
            return value or None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        return None  # a list of accepted answers, say: no one text to score

    def __repr__(self) -> str:
        return f"ReferencePerplexity(name={self.name!r}, metric={self.metric!r})"
