"""The perplexity a model assigns to given texts: :func:`perplexity` and :func:`aperplexity`.

This is the standard evaluation measure (the word perplexity, byte perplexity and bits per
byte of language-model evaluation harnesses): the likelihood of a **given** text,
teacher-forced, so it does not depend on sampling settings. It is not the
:class:`~promptlab.experiments.scoring.Perplexity` scorer, which measures how surprised a
model was by its *own sampled* reply. See :mod:`promptlab.likelihood` for the metrics, how
words are counted and how a corpus is aggregated.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from promptlab.errors import ConfigurationError
from promptlab.likelihood import PerplexityResult, ScoredText
from promptlab.sync import run_sync

if TYPE_CHECKING:
    from promptlab.providers.base import Provider


async def aperplexity(
    provider: Provider,
    texts: ScoredText | Iterable[ScoredText],
    *,
    rolling: bool = False,
    context_size: int | None = None,
    stride: int | None = None,
) -> PerplexityResult:
    """The corpus perplexity of ``texts`` under ``provider``'s model (async).

    Texts are scored one after the other (a local model serves one call at a time) and
    their totals summed, so every metric of the result is corpus-level: total negative
    log-likelihood over total tokens, words or bytes.

    Args:
        provider: A provider that can score text: :class:`~promptlab.LlamaCppProvider`, or
            :class:`~promptlab.OpenAIProvider` on a server that echoes prompt logprobs
            (vLLM). Chat-only APIs raise
            :class:`~promptlab.errors.UnsupportedParameterError`.
        texts: One text, or many in a list (any iterable but a tuple). A text is a
            string (scored from its first token) or a ``(context, continuation)`` tuple
            (only the continuation is scored, given the context: a string, or chat
            messages); a tuple is always one such pair, never two texts.
        rolling: Score texts longer than the context window in overlapping windows.
            Without it such a text raises
            :class:`~promptlab.errors.ContextWindowExceededError`.
        context_size: Tokens per window (default: the model's context size).
        stride: Tokens scored per window after the first (default: half a window); each
            later token is predicted from at least ``context_size - stride`` tokens.

    Returns:
        The corpus totals; read ``.word_perplexity``, ``.byte_perplexity``,
        ``.bits_per_byte`` or ``.token_perplexity``.

    Raises:
        ConfigurationError: No texts, or an empty text.
        UnsupportedParameterError: The provider cannot score a given text.
    """
    items = [texts] if isinstance(texts, (str, tuple)) else list(texts)
    if not items:
        raise ConfigurationError("perplexity() got no texts: give a string or a list of them.")
    results = []
    for text in items:
        scored = await provider.prompt_logprobs(
            text, rolling=rolling, context_size=context_size, stride=stride
        )
        results.append(scored.result())
    return PerplexityResult.total(results)


def perplexity(
    provider: Provider,
    texts: ScoredText | Iterable[ScoredText],
    *,
    rolling: bool = False,
    context_size: int | None = None,
    stride: int | None = None,
) -> PerplexityResult:
    """The corpus perplexity of ``texts`` under ``provider``'s model.

    The blocking form of :func:`aperplexity` (same arguments); works in scripts and in
    notebooks.

    Example:
        >>> local = LlamaCppProvider()  # the bundled SmolLM2
        >>> result = perplexity(local, ["The cat sat on the mat.", "Paris is in France."])
        >>> result.word_perplexity, result.bits_per_byte  # doctest: +SKIP
    """
    return run_sync(
        aperplexity(provider, texts, rolling=rolling, context_size=context_size, stride=stride)
    )
