"""Strategy.run's two routes: loop-free for a backend with a synchronous call, run_sync
otherwise. Both give the StrategyResult that arun gives for the same script."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from promptlab import (
    ChainOfThought,
    FewShot,
    GenerationParams,
    MissingVariableError,
    ProviderError,
    UnsupportedParameterError,
    ZeroShot,
)
from promptlab.completion import CompletionRequest
from promptlab.providers.base import Capabilities
from promptlab.strategies.base import Strategy, StrategyResult
from promptlab.testing import FakeProvider
from tests.support.routes import AsyncOnly, AwaitedInputs, forbid_run_sync, without_timing

REPLIES = ["2 + 2 = 4.\nAnswer: 4", "Answer: 1,000.50", "I think it is 7 words long", "no idea"]
EXAMPLES = [
    {"question": "1 + 1?", "answer": "2", "rationale": "One and one make 2."},
    {"question": "2 + 3?", "answer": "5", "rationale": "Two and three make 5."},
]


STRATEGIES: dict[str, Callable[[], Strategy]] = {
    "zero_shot numeric": lambda: ZeroShot(extractor="numeric"),
    "zero_shot auto, system": lambda: ZeroShot(system="Be brief.", answer_format="a number"),
    "chain_of_thought": lambda: ChainOfThought(extractor="numeric", params={"temperature": 0.2}),
    "few_shot cot": lambda: ChainOfThought(FewShot(EXAMPLES, k=2), extractor="numeric"),
}
CALLS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "arm params and overrides": {"params": {"temperature": 0.7, "seed": 3}, "max_tokens": 40},
    "n samples": {"n": 3, "seed": 11},
    "cut at the token limit": {"max_tokens": 3},
    "stop sequence": {"stop": ["\n"]},
}


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("kind", sorted(STRATEGIES))
def test_run_and_arun_give_the_same_result_for_the_same_script(kind: str, call: str) -> None:
    def run_both(route: str) -> tuple[StrategyResult, list[CompletionRequest]]:
        fake = FakeProvider(REPLIES, cycle=True)
        strategy = STRATEGIES[kind]()
        kwargs = dict(CALLS[call])
        inputs = {"question": "What is 2 + 2?"}
        if route == "run":
            result = strategy.run(inputs, fake, **kwargs)
        else:
            result = asyncio.run(strategy.arun(inputs, fake, **kwargs))
        return result, fake.requests

    sync_result, sync_requests = run_both("run")
    async_result, async_requests = run_both("arun")
    assert without_timing(sync_result) == without_timing(async_result)
    assert sync_requests == async_requests
    assert sync_result.answer == async_result.answer


def test_zero_shot_on_the_fake_runs_without_an_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    forbid_run_sync(monkeypatch)
    fake = FakeProvider(["2 + 2 = 4.\nAnswer: 4"])
    result = ZeroShot(extractor="numeric").run({"question": "What is 2 + 2?"}, fake, seed=1)
    assert result.answer == "4" and result.calls == 1
    assert fake.requests[0].params.seed == 1


def test_a_provider_without_the_hook_still_works_through_run_sync() -> None:
    provider = AsyncOnly(["Answer: 12"])
    assert not provider._generates_sync
    strategy = ChainOfThought(extractor="numeric")
    result = strategy.run({"question": "q"}, provider, seed=4)
    expected = asyncio.run(strategy.arun({"question": "q"}, AsyncOnly(["Answer: 12"]), seed=4))
    assert without_timing(result) == without_timing(expected)
    assert result.answer == "12" and provider.inner.requests[0].params.seed == 4


@pytest.mark.parametrize("provider", [FakeProvider, AsyncOnly])
def test_run_inside_a_running_loop_like_a_notebook(provider: Callable[[list[str]], Any]) -> None:
    async def notebook_cell() -> StrategyResult:
        return ZeroShot(extractor="numeric").run({"question": "q"}, provider(["Answer: 9"]))

    assert asyncio.run(notebook_cell()).answer == "9"


@pytest.mark.parametrize("wrap", [False, True])
def test_a_strategy_with_async_inputs_runs_through_arun(wrap: bool) -> None:
    strategy: Strategy = AwaitedInputs()
    if wrap:
        strategy = ChainOfThought(strategy)
    assert not strategy.prepares_inputs_sync()
    result = strategy.run({"question": "q"}, FakeProvider(["Answer: 1"]))
    assert result.messages[-1].content.startswith("async inputs")


def test_few_shot_with_a_plain_selector_and_cot_take_the_loop_free_route(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    few_shot_cot = ChainOfThought(FewShot(EXAMPLES, k=1), extractor="numeric")
    assert few_shot_cot.prepares_inputs_sync()
    forbid_run_sync(monkeypatch)
    result = few_shot_cot.run({"question": "q"}, FakeProvider(["Answer: 3"]))
    assert result.answer == "3" and len(result.shots) == 1


def test_few_shot_with_an_async_selector_runs_through_arun() -> None:
    class AsyncSelector:
        def select(self, pool: list[Any], inputs: Mapping[str, Any], k: int) -> list[Any]:
            return pool[:k]  # what the sync path would show

        async def aselect(self, pool: list[Any], inputs: Mapping[str, Any], k: int) -> list[Any]:
            return pool[-k:]

    strategy = FewShot(EXAMPLES, k=1, selection=AsyncSelector())
    assert not strategy.prepares_inputs_sync()
    result = strategy.run({"question": "q"}, FakeProvider(["Answer: 5"]))
    shown = " ".join(m.content for m in result.messages)
    assert "2 + 3?" in shown and "1 + 1?" not in shown


def test_errors_are_the_same_on_both_routes() -> None:
    strategy = ZeroShot(extractor="numeric")
    for run in (
        lambda fake, **kw: strategy.run({"question": "q"}, fake, **kw),
        lambda fake, **kw: asyncio.run(strategy.arun({"question": "q"}, fake, **kw)),
    ):
        failing = FakeProvider([ProviderError("scripted outage", provider="fake")])
        with pytest.raises(ProviderError, match="scripted outage"):
            run(failing)
        no_seed = FakeProvider(["Answer: 1"], capabilities=Capabilities(seed=False))
        with pytest.raises(UnsupportedParameterError, match="seed"):
            run(no_seed, seed=1)
        assert no_seed.requests == []  # refused before the backend saw it
    with pytest.raises(MissingVariableError):
        strategy.run({"topic": "q"}, FakeProvider(["Answer: 1"]))


def test_dropped_parameters_warn_and_are_dropped_on_both_routes() -> None:
    def run(route: str) -> GenerationParams:
        fake = FakeProvider(
            ["Answer: 1"], capabilities=Capabilities(seed=False), on_unsupported="drop"
        )
        strategy = ZeroShot()
        with pytest.warns(UserWarning, match="dropped the parameter 'seed'"):
            if route == "run":
                strategy.run({"question": "q"}, fake, seed=5, temperature=0.5)
            else:
                asyncio.run(strategy.arun({"question": "q"}, fake, seed=5, temperature=0.5))
        return fake.requests[0].params

    assert run("run") == run("arun") == GenerationParams(temperature=0.5)
