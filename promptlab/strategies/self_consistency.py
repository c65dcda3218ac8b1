"""Self-consistency: sample several answers from any strategy and take the majority vote."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from promptlab.completion import Completion, CompletionRequest
from promptlab.errors import ConfigurationError, ResponseFormatError
from promptlab.params import GenerationParams
from promptlab.providers.base import Provider
from promptlab.strategies.base import Sample, Strategy, StrategyResult
from promptlab.strategies.context import request_key_part, retrieved_passages
from promptlab.strategies.description import settings_of
from promptlab.strategies.examples import shot_ids
from promptlab.strategies.stopping import StoppingRule, sample_until_stop
from promptlab.voting import MajorityVote


class SelfConsistency(Strategy):
    """Wrap any strategy: sample ``n`` replies at a sampling temperature, vote on the answers.

    The wrapped strategy renders the prompt and extracts each answer; this class only
    changes how many samples are drawn and how they combine. Samples come from one
    request with ``n`` set, which the provider serves natively when it can and with
    concurrent calls otherwise.

    Ties go to the tied answer sampled first (see :class:`~promptlab.voting.MajorityVote`).
    Samples with no extractable answer vote for nothing and are counted in
    ``result.no_answer``. ``result.confidence`` is the winner's share of all samples.

    With ``stopping`` set, samples are drawn in batches of ``batch_size`` up to ``n``,
    and sampling stops as soon as the rule says the vote is settled; ``result.samples``
    then holds only the samples drawn and ``result.stop_reason`` says why it stopped:
    the rule's own reason whenever the rule said stop (also when that happens on the last
    batch, at exactly ``n`` samples), ``"max n=N reached"`` only when the budget ran out
    with the rule still asking for more, and ``"fixed n=N"`` without a rule. The loop is
    :func:`~promptlab.strategies.stopping.sample_until_stop`.

    Args:
        base: The strategy to sample from, e.g. ``ChainOfThought(...)``.
        n: Number of samples (the maximum, with ``stopping``).
        temperature: Sampling temperature, as a strategy default (arms and per-call
            overrides can still change it). Self-consistency needs randomness.
        stopping: Optional early-stopping rule, e.g. ``BetaStop()`` or ``WindowStop(4)``.
        batch_size: Samples per request when ``stopping`` is set.

    Example:
        >>> sc = SelfConsistency(ChainOfThought(extractor="numeric"), n=10)
    """

    def __init__(
        self,
        base: Strategy,
        n: int = 10,
        *,
        temperature: float = 0.7,
        stopping: StoppingRule | None = None,
        batch_size: int = 2,
        vote: MajorityVote | None = None,
    ) -> None:
        if n < 1:
            raise ConfigurationError(f"n={n} is not allowed: self-consistency needs n >= 1.")
        if batch_size < 1:
            raise ConfigurationError(f"batch_size={batch_size} is not allowed: use >= 1.")
        self.base = base
        self.n = n
        self.stopping = stopping
        self.batch_size = batch_size
        self.vote = vote or MajorityVote()
        self.template = base.template
        self.extractor = base.extractor
        self.params = base.params.merge({"temperature": temperature})
        self.system = base.system
        self.answer_format = base.answer_format
        self.has_examples = base.has_examples
        self.has_context = base.has_context

    @property
    def name(self) -> str:
        return f"SelfConsistency({self.base.name}, n={self.n})"

    def describe(self) -> dict[str, Any]:
        description = {
            **super().describe(),
            "n": self.n,
            "batch_size": self.batch_size,
            "vote": settings_of(self.vote),
            "base": self.base.describe(),
        }
        if self.stopping is not None:
            description["stopping"] = settings_of(self.stopping)
        return description

    def template_inputs(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return self.base.template_inputs(inputs)

    async def atemplate_inputs(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return await self.base.atemplate_inputs(inputs)

    def extract(self, text: str) -> str | None:
        return self.base.extract(text)

    async def arun(
        self,
        inputs: Mapping[str, Any],
        provider: Provider,
        *,
        params: GenerationParams | Mapping[str, Any] | None = None,
        **overrides: Any,
    ) -> StrategyResult:
        n = overrides.pop("n", None) or self.n
        variables = await self.atemplate_inputs(inputs)
        messages = self.template.render(variables)
        retrieved = retrieved_passages(variables) if self.has_context else ()
        request = CompletionRequest(
            messages, self.resolve_params(params, overrides), request_key_part(retrieved)
        )
        completions: list[Completion] = []
        samples: list[Sample] = []

        async def draw(size: int) -> list[str | None]:
            # Sample k of the request is seeded seed + k whatever batch it falls in, so
            # batches never repeat each other's samples.
            completion = await provider.complete(request.for_samples(len(samples), size))
            if len(completion.choices) != size:
                raise ResponseFormatError(
                    f"asked for {size} samples, got {len(completion.choices)} choices.",
                    provider=completion.provider or provider.name,
                )
            completions.append(completion)
            drawn = [self.read_choice(c) for c in completion.choices]
            samples.extend(drawn)
            return [s.answer for s in drawn]

        _, decision = await sample_until_stop(draw, self.stopping, n, self.batch_size)
        outcome = self.vote([s.answer for s in samples])
        total = Completion.merge(completions)
        return StrategyResult(
            answer=outcome.winner,
            samples=tuple(samples),
            messages=messages,
            usage=total.usage,
            latency_s=sum(c.latency_s for c in completions),
            cost_usd=total.cost_usd,
            calls=total.calls,
            strategy=self.name,
            template=self.template.name,
            template_hash=self.template.hash,
            params=request.params.merge({"n": n}),
            votes=outcome.counts,
            confidence=outcome.share,
            no_answer=outcome.no_answer,
            stop_reason=decision.reason,
            completions=tuple(completions),
            shots=shot_ids(variables) if self.has_examples else (),
            retrieved=retrieved,
        )
