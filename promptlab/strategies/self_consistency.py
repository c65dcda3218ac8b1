"""Self-consistency: sample several answers from any strategy and take the majority vote."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from promptlab.completion import Completion, CompletionRequest
from promptlab.errors import ConfigurationError, ResponseFormatError
from promptlab.params import GenerationParams
from promptlab.providers.base import Provider
from promptlab.strategies.base import Sample, Strategy, StrategyResult
from promptlab.strategies.context import retrieved_passages
from promptlab.strategies.description import settings_of
from promptlab.strategies.examples import shot_ids
from promptlab.strategies.stopping import (
    StopDecision,
    StoppingRule,
    sample_until_stop,
    sample_until_stop_sync,
)
from promptlab.sync import run_sync
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
    :func:`~promptlab.strategies.stopping.sample_until_stop` (and its blocking twin
    :func:`~promptlab.strategies.stopping.sample_until_stop_sync` in :meth:`run`).

    Args:
        base: The strategy to sample from, e.g. ``ChainOfThought(...)``.
        n: Number of samples (the maximum, with ``stopping``).
        temperature: Sampling temperature, as a strategy default (arms and per-call
            overrides can still change it). Self-consistency needs randomness.
        stopping: Optional early-stopping rule, e.g. ``BetaStop()`` or ``WindowStop(4)``.
        batch_size: Samples per request when ``stopping`` is set.

    Example:
        >>> from promptlab import ChainOfThought
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

    def prepares_inputs_sync(self) -> bool:
        return self.base.prepares_inputs_sync()

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
        draws = _Draws(self, provider, self.request_for(variables, params, overrides), n)
        _, decision = await sample_until_stop(draws.adraw, self.stopping, n, self.batch_size)
        return self._result_of(variables, draws, decision)

    def run(
        self,
        inputs: Mapping[str, Any],
        provider: Provider,
        *,
        params: GenerationParams | Mapping[str, Any] | None = None,
        **overrides: Any,
    ) -> StrategyResult:
        """Blocking :meth:`arun`; works in scripts and inside notebooks.

        As :meth:`Strategy.run <promptlab.strategies.base.Strategy.run>` does: when the
        wrapped strategy's inputs need nothing awaited, each batch is sent with
        :meth:`Provider.complete_sync <promptlab.providers.base.Provider.complete_sync>`
        (no event loop for a backend with a synchronous call) and the batches follow
        :func:`~promptlab.strategies.stopping.sample_until_stop_sync`, the same loop as
        :meth:`arun`'s; the result is the one :meth:`arun` gives. Otherwise :meth:`arun`
        runs through :func:`~promptlab.sync.run_sync`.
        """
        if not (type(self).arun is SelfConsistency.arun and self.prepares_inputs_sync()):
            return run_sync(self.arun(inputs, provider, params=params, **overrides))
        n = overrides.pop("n", None) or self.n
        variables = self.template_inputs(inputs)
        draws = _Draws(self, provider, self.request_for(variables, params, overrides), n)
        _, decision = sample_until_stop_sync(draws.draw, self.stopping, n, self.batch_size)
        return self._result_of(variables, draws, decision)

    def _result_of(
        self, variables: Mapping[str, Any], draws: _Draws, decision: StopDecision
    ) -> StrategyResult:
        """The vote over every sample drawn, with the calls' totals: one rule for both routes."""
        samples, completions = draws.samples, draws.completions
        outcome = self.vote([s.answer for s in samples])
        total = Completion.merge(completions)
        template = self.template
        return StrategyResult(
            answer=outcome.winner,
            samples=tuple(samples),
            messages=draws.request.messages,
            usage=total.usage,
            latency_s=sum([c.latency_s for c in completions]),
            cost_usd=total.cost_usd,
            calls=total.calls,
            strategy=self.name,
            template=template.name,
            template_hash=template.hash,
            params=draws.whole().params,
            votes=outcome.counts,
            confidence=outcome.share,
            no_answer=outcome.no_answer,
            stop_reason=decision.reason,
            completions=tuple(completions),
            shots=shot_ids(variables) if self.has_examples else (),
            retrieved=retrieved_passages(variables) if self.has_context else (),
        )


class _Draws:
    """The samples of one self-consistency run, drawn batch by batch (both routes' one rule).

    Batch requests are parts of the request for all ``n`` samples: sample ``k`` is seeded
    ``seed + k`` whatever batch it falls in, so batches never repeat each other's samples.
    That whole request is built at the first draw, once the loop has checked ``n``.
    """

    __slots__ = ("_n", "_provider", "_strategy", "_whole", "completions", "request", "samples")

    def __init__(
        self, strategy: SelfConsistency, provider: Provider, request: CompletionRequest, n: int
    ) -> None:
        self._strategy = strategy
        self._provider = provider
        self.request = request
        self._n = n
        self._whole: CompletionRequest | None = None
        self.completions: list[Completion] = []
        self.samples: list[Sample] = []

    def whole(self) -> CompletionRequest:
        """The request for all ``n`` samples; its parameters are what the result reports."""
        if self._whole is None:
            self._whole = self.request.for_samples(0, self._n)
        return self._whole

    def next_request(self, size: int) -> CompletionRequest:
        """The request for the next ``size`` samples."""
        return self.whole().for_samples(len(self.samples), size)

    def take(self, completion: Completion, size: int) -> list[str | None]:
        """Check and keep the batch's completion; return its answers."""
        if len(completion.choices) != size:
            raise ResponseFormatError(
                f"asked for {size} samples, got {len(completion.choices)} choices.",
                provider=completion.provider or self._provider.name,
            )
        self.completions.append(completion)
        read = self._strategy.read_choice
        drawn = [read(c) for c in completion.choices]
        self.samples.extend(drawn)
        return [s.answer for s in drawn]

    async def adraw(self, size: int) -> list[str | None]:
        """Draw the next ``size`` samples with :meth:`Provider.complete`."""
        return self.take(await self._provider.complete(self.next_request(size)), size)

    def draw(self, size: int) -> list[str | None]:
        """Draw the next ``size`` samples with :meth:`Provider.complete_sync`."""
        return self.take(self._provider.complete_sync(self.next_request(size)), size)
