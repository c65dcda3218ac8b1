"""The likelihood of a given text under a model: token log-probabilities and perplexity.

A provider that can score a text (teacher-forced: each token's log-probability given every
token before it) returns :class:`PromptLogprobs`; :class:`PerplexityResult` holds the totals
that perplexity is computed from, so results of several texts add up to a corpus.

Corpus-level aggregation, as language-model evaluation harnesses do it: every metric is
the total negative log-likelihood (NLL, in nats) over the total count of its unit, never a
mean of per-text perplexities::

    token perplexity = exp(total NLL / total tokens scored)
    word perplexity  = exp(total NLL / total words)
    byte perplexity  = exp(total NLL / total UTF-8 bytes)
    bits per byte    = total NLL / (ln 2 * total UTF-8 bytes)

**Words** are counted with Python's ``str.split()``: maximal runs of non-whitespace
characters, so ``"Hello, world!"`` is two words and punctuation counts with the word it
touches. **Bytes** are the UTF-8 bytes of the scored text. Word and byte counts do not
depend on the tokenizer, so word perplexity, byte perplexity and bits per byte compare
models with different vocabularies; token perplexity does not.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from promptlab.errors import ConfigurationError
from promptlab.messages import Message

__all__ = [
    "METRICS",
    "SCORING_BACKENDS",
    "Metric",
    "PerplexityResult",
    "PromptLogprobs",
    "ScoredText",
    "check_rolling",
    "count_words",
    "rolling_windows",
    "scoring_parts",
    "split_trailing_space",
]

Metric = Literal["token_perplexity", "word_perplexity", "byte_perplexity", "bits_per_byte"]
#: The metrics a :class:`PerplexityResult` reports.
METRICS: tuple[str, ...] = get_args(Metric)


#: A text to score: a whole text, or ``(context, continuation)`` where the context is a
#: string or chat messages and only the continuation is scored.
ScoredText = str | tuple[str | Sequence[Message], str]

#: What to do when a backend cannot score a given text (the ``fix`` of its error).
SCORING_BACKENDS = (
    "Score texts with LlamaCppProvider (a GGUF model in-process), or with "
    "OpenAIProvider(model, base_url=...) on a server whose /v1/completions endpoint echoes "
    "the prompt with logprobs (vLLM)."
)


def count_words(text: str) -> int:
    """Words in ``text``: maximal runs of non-whitespace characters (``len(text.split())``).

    Example:
        >>> count_words("Hello, world!  It's 3 p.m.")
        5
    """
    return len(text.split())


def split_trailing_space(context: str, continuation: str) -> tuple[str, str]:
    """Move the context's trailing whitespace to the start of the continuation.

    Tokenizers attach a space to the word after it (``" Paris"``), so a context ending in
    a space would otherwise be scored with a token the model never sees in running text.
    Evaluation harnesses make the same move.

    Example:
        >>> split_trailing_space("The capital is ", "Paris")
        ('The capital is', ' Paris')
    """
    stripped = context.rstrip()
    return stripped, context[len(stripped) :] + continuation


@dataclass(frozen=True)
class PromptLogprobs:
    """Each token of a scored text with its log-probability given everything before it.

    Attributes:
        text: The scored text (the continuation, or the whole text when there is no context).
        tokens: The scored text's tokens, as text.
        logprobs: Natural-log probability of each token; None for a token the backend gave
            no log-probability for (an API that returns none for the first token of its
            prompt). Such tokens are left out of the NLL and counted in ``unscored_tokens``.
    """

    text: str
    tokens: tuple[str, ...]
    logprobs: tuple[float | None, ...]

    def __post_init__(self) -> None:
        if len(self.tokens) != len(self.logprobs):
            raise ConfigurationError(
                f"PromptLogprobs has {len(self.tokens)} tokens but {len(self.logprobs)} logprobs; "
                "give one log-probability (or None) per token."
            )

    def result(self) -> PerplexityResult:
        """The totals of this text, ready to add to others."""
        scored = [lp for lp in self.logprobs if lp is not None]
        return PerplexityResult(
            nll=-math.fsum(scored),
            tokens=len(scored),
            words=count_words(self.text),
            bytes=len(self.text.encode("utf-8")),
            texts=1,
            unscored_tokens=len(self.logprobs) - len(scored),
        )


@dataclass(frozen=True)
class PerplexityResult:
    """Totals of one text or a corpus, from which every perplexity metric follows.

    Results add up (``a + b``, :meth:`total`), and the metrics of a sum are corpus-level:
    total NLL over total units, never a mean of per-text values.

    Attributes:
        nll: Total negative log-likelihood, in nats.
        tokens: Tokens scored (with a log-probability).
        words: Words in the scored texts (see :func:`count_words`).
        bytes: UTF-8 bytes of the scored texts.
        texts: How many texts were scored.
        unscored_tokens: Tokens the backend gave no log-probability for (0 on llama.cpp,
            where the first token is predicted from the model's BOS token). Their NLL is
            missing from ``nll`` while their words and bytes are counted, so a non-zero
            value makes word and byte perplexity slightly low.

    Example:
        >>> a = PerplexityResult(nll=2.0, tokens=2, words=1, bytes=4)
        >>> b = PerplexityResult(nll=4.0, tokens=3, words=2, bytes=8)
        >>> round((a + b).token_perplexity, 4)  # exp(6 / 5)
        3.3201
    """

    nll: float
    tokens: int
    words: int
    bytes: int
    texts: int = 1
    unscored_tokens: int = 0

    def __add__(self, other: PerplexityResult) -> PerplexityResult:
        if not isinstance(other, PerplexityResult):
            return NotImplemented
        return PerplexityResult(
            self.nll + other.nll,
            self.tokens + other.tokens,
            self.words + other.words,
            self.bytes + other.bytes,
            self.texts + other.texts,
            self.unscored_tokens + other.unscored_tokens,
        )

    @classmethod
    def total(cls, results: Iterable[PerplexityResult]) -> PerplexityResult:
        """The corpus totals of ``results`` (NLL summed with :func:`math.fsum`)."""
        items = list(results)
        if not items:
            raise ConfigurationError("PerplexityResult.total() got no results: give at least one.")
        return cls(
            math.fsum(r.nll for r in items),
            sum(r.tokens for r in items),
            sum(r.words for r in items),
            sum(r.bytes for r in items),
            sum(r.texts for r in items),
            sum(r.unscored_tokens for r in items),
        )

    @property
    def token_perplexity(self) -> float:
        """``exp(nll / tokens)``; depends on the tokenizer."""
        return _exp_ratio(self.nll, self.tokens)

    @property
    def word_perplexity(self) -> float:
        """``exp(nll / words)``."""
        return _exp_ratio(self.nll, self.words)

    @property
    def byte_perplexity(self) -> float:
        """``exp(nll / bytes)``."""
        return _exp_ratio(self.nll, self.bytes)

    @property
    def bits_per_byte(self) -> float:
        """``nll / (ln 2 * bytes)``: the average code length per byte, in bits."""
        return self.nll / (math.log(2) * self.bytes) if self.bytes else math.nan

    def metric(self, name: str) -> float:
        """One metric by name (one of :data:`METRICS`)."""
        if name not in METRICS:
            raise ConfigurationError(
                f"metric={name!r} is not known; use one of {', '.join(METRICS)}."
            )
        return float(getattr(self, name))

    def to_dict(self) -> dict[str, Any]:
        """The totals as JSON-ready data (what a scorer stores as its note)."""
        return {
            "nll": self.nll,
            "tokens": self.tokens,
            "words": self.words,
            "bytes": self.bytes,
            "texts": self.texts,
            "unscored_tokens": self.unscored_tokens,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PerplexityResult:
        """Rebuild a result from :meth:`to_dict`'s output (a stored score note)."""
        try:
            return cls(
                float(data["nll"]),
                int(data["tokens"]),
                int(data["words"]),
                int(data["bytes"]),
                int(data.get("texts", 1)),
                int(data.get("unscored_tokens", 0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigurationError(
                f"{data!r} is not a stored PerplexityResult: it needs nll, tokens, words and "
                f"bytes ({exc})."
            ) from exc


def _exp_ratio(nll: float, units: int) -> float:
    if units <= 0:
        return math.nan
    try:
        return math.exp(nll / units)
    except OverflowError:
        return math.inf


def rolling_windows(
    length: int, first: int, size: int, stride: int
) -> Iterator[tuple[int, int, int]]:
    """Windows that score positions ``first .. length-1`` of a token sequence, each once.

    Position ``i`` is predicted from positions ``< i``. Each window is ``(begin, start,
    end)``: the model reads positions ``begin .. end-1`` (at most ``size``) and the window
    scores ``start .. end-1``. Scoring moves ``stride`` positions a window (the first window
    goes as far as ``size`` allows), and every window reaches back as far as it can, so each
    token after the first window has at least ``size - stride`` tokens of context. A
    sequence that fits in ``size`` is one window, the same as scoring it directly.

    Args:
        length: Tokens in the sequence (context tokens, BOS and scored tokens).
        first: The first position to score (>= 1: position 0 has nothing before it).
        size: Most tokens the model reads at once (its context size).
        stride: Positions scored per window after the first; ``1 <= stride < size``.

    Example:
        >>> list(rolling_windows(10, 1, size=6, stride=3))
        [(0, 1, 6), (3, 6, 9), (4, 9, 10)]
    """
    if not 1 <= first <= length:
        raise ConfigurationError(f"first={first!r} must be in [1, {length}].")
    if size < 2:
        raise ConfigurationError(f"context_size={size!r} is too small: use at least 2 tokens.")
    if not 1 <= stride < size:
        raise ConfigurationError(
            f"stride={stride!r} is not allowed with context_size={size}: use 1 <= stride < "
            "context_size, so that every window keeps some context for its first token."
        )
    start = first
    while start < length:
        end = min(length, max(start + stride, size))
        yield max(0, end - size), start, end
        start = end


def scoring_parts(text: Any) -> tuple[str | tuple[Message, ...], str]:
    """``(context, continuation)`` from a text argument, checked.

    ``text`` is a whole text (scored from its first token; the context is ``""``) or a
    ``(context, continuation)`` pair whose context is a string or chat messages.

    Raises:
        ConfigurationError: The text (or the continuation) is empty or not a string, or
            the pair is malformed.
    """
    if isinstance(text, str):
        context: Any = ""
        continuation = text
    elif isinstance(text, tuple) and len(text) == 2:
        context, continuation = text
    else:
        raise ConfigurationError(
            f"text={text!r} is not allowed: give a string, or a (context, continuation) pair "
            "whose context is a string or a sequence of Message."
        )
    if not isinstance(continuation, str) or not continuation:
        raise ConfigurationError(
            f"The text to score is {continuation!r}: give a non-empty string (an empty text "
            "has no tokens, so its perplexity is undefined)."
        )
    if isinstance(context, str):
        return context, continuation
    messages = tuple(context) if isinstance(context, (list, tuple)) else None
    if not messages or not all(isinstance(m, Message) for m in messages):
        raise ConfigurationError(
            f"context={context!r} is not allowed: give a string or a non-empty sequence of "
            "Message (the rendered prompt)."
        )
    return messages, continuation


def check_rolling(rolling: bool, context_size: int | None, stride: int | None) -> None:
    """Reject ``context_size``/``stride`` given without ``rolling=True``."""
    if not rolling and (context_size is not None or stride is not None):
        raise ConfigurationError(
            "context_size and stride set the rolling windows: pass rolling=True with them, "
            "or leave them out."
        )
