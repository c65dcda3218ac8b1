"""What a provider is asked (:class:`CompletionRequest`) and what it answers
(:class:`Completion`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from promptlab._frozen import fast_init
from promptlab.messages import Message
from promptlab.params import GenerationParams


@fast_init
@dataclass(frozen=True, slots=True)
class CompletionRequest:
    """Messages plus generation parameters: everything a provider needs for one call.

    Attributes:
        messages: The chat messages to send.
        params: The generation parameters.
        retrieved: The ``(id, score)`` of each passage a retrieval-augmented strategy
            retrieved for this request, best first. Never sent to the provider; it is part
            of the response cache key, so a changed index is a changed request even when
            the rendered prompt happens to be the same.
    """

    messages: tuple[Message, ...]
    params: GenerationParams = field(default_factory=GenerationParams)
    retrieved: tuple[tuple[str, float | None], ...] = ()

    @classmethod
    def of(
        cls, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> CompletionRequest:
        """Build a request from any sequence of messages."""
        return cls(tuple(messages), params or GenerationParams())

    def for_samples(self, first: int, n: int | None) -> CompletionRequest:
        """This request for ``n`` of its samples, starting at sample ``first``.

        Sample ``k`` of a request seeded ``s`` uses seed ``s + k``
        (:meth:`GenerationParams.for_samples`), so a batch, a fan-out into single calls and
        a top-up of missing choices all reproduce the samples one call would draw.
        """
        return CompletionRequest(self.messages, self.params.for_samples(first, n), self.retrieved)


@fast_init
@dataclass(frozen=True, slots=True)
class TokenLogprob:
    """One generated token with its log-probability and, if asked, the top alternatives."""

    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()


@fast_init
@dataclass(frozen=True, slots=True)
class Choice:
    """One sampled completion.

    Attributes:
        text: The generated text.
        finish_reason: Why generation ended, e.g. ``"stop"`` or ``"length"``.
        logprobs: Per-token log-probabilities, when they were asked for and supported.
        index: The choice's position among the request's ``n`` samples.
    """

    text: str
    finish_reason: str | None = None
    logprobs: tuple[TokenLogprob, ...] | None = None
    index: int = 0


@fast_init
@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts, normalised across providers. Usages add up with ``+``."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cached_input_tokens + other.cached_input_tokens,
        )


@fast_init
@dataclass(frozen=True, slots=True)
class Completion:
    """A provider's answer to one :class:`CompletionRequest`.

    Attributes:
        choices: One per sample (``n`` of them).
        usage: Tokens used by the whole request.
        latency_s: Wall time of the request in seconds.
        model: The model that answered.
        provider: The provider's name.
        cost_usd: Dollars spent, ``None`` when the price is unknown (never a made-up 0).
        calls: How many backend calls produced this completion (``n`` fan-out counts each).
    """

    choices: tuple[Choice, ...]
    usage: Usage = Usage()
    latency_s: float = 0.0
    model: str = ""
    provider: str = ""
    cost_usd: float | None = None
    calls: int = 1

    @classmethod
    def merge(cls, parts: Sequence[Completion]) -> Completion:
        """One completion holding every choice of ``parts``, in order, with their totals.

        Choices are renumbered from 0; usage and calls add up; the cost is the sum, or
        ``None`` when any part's cost is unknown (an unknown part never counts as free).
        Model and provider are the first part's; the latency is the longest part's (parts
        run side by side; callers that run them one after another add latencies up).
        A single part is returned as it is.
        """
        if not parts:
            raise ValueError("Completion.merge needs at least one completion.")
        if len(parts) == 1:
            return parts[0]
        first = parts[0]
        costs = [part.cost_usd or 0.0 for part in parts]
        unknown = any(part.cost_usd is None for part in parts)
        choices = (c for part in parts for c in part.choices)
        return cls(
            choices=tuple(
                Choice(c.text, c.finish_reason, c.logprobs, i) for i, c in enumerate(choices)
            ),
            usage=sum((part.usage for part in parts[1:]), first.usage),
            latency_s=max(part.latency_s for part in parts),
            model=first.model,
            provider=first.provider,
            cost_usd=None if unknown else sum(costs),
            calls=sum(part.calls for part in parts),
        )

    @property
    def text(self) -> str:
        """The first choice's text."""
        return self.choices[0].text if self.choices else ""

    @property
    def texts(self) -> list[str]:
        """Every choice's text, in order."""
        return [choice.text for choice in self.choices]
