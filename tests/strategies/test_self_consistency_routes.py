"""SelfConsistency.run's two routes: loop-free (each batch through ``complete_sync``, the loop
through ``sample_until_stop_sync``) when the wrapped strategy's inputs need nothing awaited,
``run_sync(arun)`` otherwise. Both give the StrategyResult that arun gives for the same
script: the same batches and seeds, stop reasons, votes, errors and totals."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from promptlab import (
    AnyStop,
    BetaStop,
    ChainOfThought,
    FewShot,
    FixedN,
    MissingVariableError,
    ProviderError,
    ResponseFormatError,
    SelfConsistency,
    UnbeatableStop,
    UnsupportedParameterError,
    WindowStop,
    ZeroShot,
)
from promptlab.completion import Choice, Completion, CompletionRequest
from promptlab.providers.base import Capabilities, Provider
from promptlab.strategies.base import StrategyResult
from promptlab.strategies.stopping import StoppingParameterError, StoppingRule
from promptlab.testing import FakeProvider
from tests.support.routes import AsyncOnly, AwaitedInputs, forbid_run_sync, without_timing

# Answers 4, 1000.5, none, 7, none (cut at max_tokens=3 too): Nones, ties and splits.
REPLIES = [
    "2 + 2 = 4.\nAnswer: 4",
    "Answer: 1,000.50",
    "no idea",
    "so 7.\nAnswer: 7",
    "Answer: 4",
    "I give up",
    "Answer: 7",
]
EXAMPLES = [
    {"question": "1 + 1?", "answer": "2", "rationale": "One and one make 2."},
    {"question": "2 + 3?", "answer": "5", "rationale": "Two and three make 5."},
]
QUESTION = {"question": "What is 2 + 2?"}


BASES: dict[str, Callable[[], Any]] = {
    "zero_shot numeric": lambda: ZeroShot(extractor="numeric"),
    "chain_of_thought": lambda: ChainOfThought(extractor="numeric", params={"seed": 2}),
    "few_shot cot": lambda: ChainOfThought(FewShot(EXAMPLES, k=2), extractor="numeric"),
}
RULES: dict[str, Callable[[], StoppingRule | None]] = {
    "no rule": lambda: None,
    "fixed": FixedN,
    "beta": lambda: BetaStop(0.8),
    "window": lambda: WindowStop(2),
    "any(unbeatable, beta)": lambda: AnyStop(UnbeatableStop(), BetaStop(0.9)),
}
CALLS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "seeded, arm params and overrides": {"params": {"temperature": 0.9, "seed": 3}, "top_p": 0.5},
    "n per call": {"n": 7, "seed": 11},
    "cut at the token limit": {"max_tokens": 3},
}


def run_both(
    build: Callable[[], SelfConsistency], provider: Callable[[], Any], **kwargs: Any
) -> list[tuple[StrategyResult, list[CompletionRequest]]]:
    """The result and the requests the backend saw, by ``run`` and by ``arun``."""
    outcomes = []
    for route in ("run", "arun"):
        backend, strategy = provider(), build()
        if route == "run":
            result = strategy.run(QUESTION, backend, **dict(kwargs))
        else:
            result = asyncio.run(strategy.arun(QUESTION, backend, **dict(kwargs)))
        seen = backend.inner.requests if isinstance(backend, AsyncOnly) else backend.requests
        outcomes.append((without_timing(result), list(seen)))
    return outcomes


@pytest.mark.parametrize("batch_size", [1, 2, 3])
@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("rule", sorted(RULES))
@pytest.mark.parametrize("base", sorted(BASES))
def test_run_and_arun_give_the_same_result_for_the_same_script(
    base: str, rule: str, call: str, batch_size: int
) -> None:
    def build() -> SelfConsistency:
        return SelfConsistency(BASES[base](), n=5, stopping=RULES[rule](), batch_size=batch_size)

    (sync_result, sync_requests), (async_result, async_requests) = run_both(
        build, lambda: FakeProvider(REPLIES, cycle=True), **CALLS[call]
    )
    assert sync_result == async_result
    assert sync_requests == async_requests  # the same batches, with the same seeds


def test_run_gives_each_batch_the_seeds_of_one_request_and_reports_the_whole_request() -> None:
    fake = FakeProvider(["Answer: 1", "Answer: 2"], cycle=True)
    sc = SelfConsistency(ZeroShot(extractor="numeric"), n=8, stopping=BetaStop(0.99), batch_size=3)
    result = sc.run(QUESTION, fake, seed=10)
    assert [(r.params.seed, r.params.n) for r in fake.requests] == [(10, 3), (13, 3), (16, 2)]
    assert result.params.n == 8 and result.params.seed == 10
    assert result.stop_reason == "max n=8 reached" and result.calls == 3
    assert result.votes == {"1": 4, "2": 4} and result.answer == "1"


def test_run_sums_usage_cost_and_latency_over_batches() -> None:
    fake = FakeProvider(["Answer: 1 2"], cycle=True, cost_per_call=0.25, latency=0.001)
    sc = SelfConsistency(ZeroShot(), n=5, stopping=FixedN(), batch_size=2)
    result = sc.run(QUESTION, fake)
    assert result.calls == 3 and len(result.completions) == 3
    assert result.usage.output_tokens == 15 and result.cost_usd == pytest.approx(1.25)
    assert result.latency_s == pytest.approx(sum(c.latency_s for c in result.completions))
    assert result.latency_s >= 3 * 0.001  # each batch's blocking sleep is counted


@pytest.mark.parametrize("rule", ["no rule", "beta", "window"])
def test_self_consistency_on_the_fake_runs_without_an_event_loop(
    rule: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    forbid_run_sync(monkeypatch)
    fake = FakeProvider(["Answer: 4"], cycle=True)
    sc = SelfConsistency(ChainOfThought(extractor="numeric"), n=5, stopping=RULES[rule]())
    result = sc.run(QUESTION, fake, seed=1)
    assert result.answer == "4" and fake.requests[0].params.seed == 1


def test_a_provider_without_the_hook_runs_through_run_sync_with_the_same_result() -> None:
    assert not AsyncOnly(REPLIES)._generates_sync

    def build() -> SelfConsistency:
        return SelfConsistency(ZeroShot(extractor="numeric"), n=6, stopping=BetaStop(0.8))

    (sync_result, sync_requests), (async_result, async_requests) = run_both(
        build, lambda: AsyncOnly(REPLIES), seed=4
    )
    assert sync_result == async_result and sync_requests == async_requests


def test_without_native_n_the_samples_are_still_single_calls_with_their_seeds() -> None:
    def fake() -> FakeProvider:
        return FakeProvider(REPLIES, cycle=True, capabilities=Capabilities(seed=True))

    def build() -> SelfConsistency:
        return SelfConsistency(ZeroShot(extractor="numeric"), n=5, stopping=WindowStop(3))

    (sync_result, sync_requests), (async_result, _) = run_both(build, fake, seed=20)
    assert sync_result == async_result
    # Concurrent single calls may reach the fake in any order: compare the seeds asked for.
    assert sorted(r.params.seed for r in sync_requests) == list(range(20, 20 + sync_result.calls))
    assert {r.params.n for r in sync_requests} == {None, 1}  # batches [2, 2, 1], fanned out


def test_run_inside_a_running_loop_like_a_notebook() -> None:
    async def notebook_cell() -> StrategyResult:
        sc = SelfConsistency(ZeroShot(extractor="numeric"), n=3, stopping=BetaStop(0.8))
        return sc.run(QUESTION, FakeProvider(["Answer: 9"], cycle=True))

    assert asyncio.run(notebook_cell()).answer == "9"


def test_a_base_with_async_inputs_runs_through_arun() -> None:
    sc = SelfConsistency(ChainOfThought(AwaitedInputs()), n=2)
    assert not sc.prepares_inputs_sync()
    result = sc.run(QUESTION, FakeProvider(["Answer: 1"], cycle=True))
    assert result.messages[-1].content.startswith("async inputs")


def test_a_subclass_that_changes_arun_keeps_its_change_in_run() -> None:
    class Scaled(SelfConsistency):
        async def arun(self, inputs: Mapping[str, Any], provider: Provider, **kw: Any) -> Any:
            result = await super().arun(inputs, provider, **kw)
            return dataclasses.replace(result, stop_reason="scaled")

    result = Scaled(ZeroShot(), n=2).run(QUESTION, FakeProvider(["Answer: 1"], cycle=True))
    assert result.stop_reason == "scaled"


class OneChoice(FakeProvider):
    """Claims native ``n`` but always answers with a single choice (sync hook included)."""

    def _reply(self, request: CompletionRequest) -> Completion:
        return Completion((Choice("Answer: 7"),), provider=self.name)


def raise_on_both_routes(
    build: Callable[[], SelfConsistency],
    provider: Callable[[], FakeProvider],
    error: type[Exception],
    match: str,
    **kwargs: Any,
) -> list[list[CompletionRequest]]:
    """Assert both routes raise ``error`` (matching ``match``); the requests each sent."""
    seen = []
    for route in ("run", "arun"):
        backend, strategy = provider(), build()
        with pytest.raises(error, match=match):
            if route == "run":
                strategy.run(QUESTION, backend, **kwargs)
            else:
                asyncio.run(strategy.arun(QUESTION, backend, **kwargs))
        seen.append(list(backend.requests))
    return seen


def test_errors_are_the_same_on_both_routes() -> None:
    def adaptive() -> SelfConsistency:
        return SelfConsistency(ZeroShot(extractor="numeric"), n=6, stopping=FixedN(), batch_size=2)

    outage = ProviderError("scripted outage", provider="fake")
    # The second batch fails: the first was sent and answered on both routes.
    run_seen, arun_seen = raise_on_both_routes(
        adaptive,
        lambda: FakeProvider(["Answer: 1", "Answer: 1", outage]),
        ProviderError,
        "scripted outage",
    )
    assert run_seen == arun_seen and len(run_seen) == 2
    run_seen, arun_seen = raise_on_both_routes(
        adaptive,
        lambda: FakeProvider(["Answer: 1"], cycle=True, capabilities=Capabilities(native_n=True)),
        UnsupportedParameterError,
        "seed",
        seed=1,
    )
    assert run_seen == arun_seen == []  # refused before the backend saw it
    raise_on_both_routes(adaptive, OneChoice, ResponseFormatError, "asked for 2 samples, got 1")
    raise_on_both_routes(
        adaptive,
        lambda: FakeProvider(["Answer: 1"], cycle=True),
        StoppingParameterError,
        "max_n=-1",
        n=-1,
    )
    with pytest.raises(MissingVariableError):
        adaptive().run({"topic": "q"}, FakeProvider(["Answer: 1"], cycle=True))


def test_the_local_model_gives_the_same_samples_on_both_routes(local_provider: Any) -> None:
    # LlamaCppProvider has the synchronous hook: run draws its seeded batches without an
    # event loop, arun through it (in a worker thread); the samples must be the same.
    def draw(route: str) -> StrategyResult:
        sc = SelfConsistency(ZeroShot(extractor="numeric"), n=4, stopping=FixedN(), batch_size=3)
        question = {"question": "Tom has 3 apples and buys 2 more. How many apples?"}
        kwargs: dict[str, Any] = {"seed": 5, "max_tokens": 12, "temperature": 0.9}
        if route == "run":
            return sc.run(question, local_provider, **kwargs)
        return asyncio.run(sc.arun(question, local_provider, **kwargs))

    # Each run leaves the prompt in the model's KV cache, which the next run's usage counts
    # as cached input: a first run puts both routes behind the same cache state.
    draw("arun")
    by_run, by_arun = without_timing(draw("run")), without_timing(draw("arun"))
    assert by_run == by_arun
    assert by_run.calls == 2 and len(by_run.samples) == 4
    assert len(set(by_run.texts)) > 1  # seeds 5..8 really are different samples
