"""Strategy.as_runnable: a promptlab strategy inside a real LangChain LCEL chain."""

from __future__ import annotations

from typing import Any

import pytest

from promptlab.errors import ConfigurationError
from promptlab.strategies import ChainOfThought, SelfConsistency, ZeroShot
from promptlab.strategies.base import StrategyResult
from promptlab.testing import FakeProvider

runnables = pytest.importorskip("langchain_core.runnables")
RunnableLambda = runnables.RunnableLambda


def doubling_fake() -> FakeProvider:
    """Answers twice the number in the question."""

    def reply(request: Any) -> str:
        number = int(request.messages[-1].content.split("double ")[1].split("?")[0])
        return f"Twice {number} is {2 * number}. Answer: {2 * number}"

    return FakeProvider(reply)


def test_in_a_chain_invoke_and_batch() -> None:
    strategy = ChainOfThought(extractor="numeric")
    chain = (
        RunnableLambda(lambda n: {"question": f"What is double {n}?"})
        | strategy.as_runnable(doubling_fake(), output="answer")
        | RunnableLambda(int)
    )
    assert chain.invoke(21) == 42
    assert chain.batch([1, 2, 3]) == [2, 4, 6]


async def test_in_a_chain_ainvoke_and_abatch_with_self_consistency() -> None:
    fake = FakeProvider(["Answer: 7", "Answer: 7", "Answer: 8"], cycle=True)
    strategy = SelfConsistency(ZeroShot(extractor="numeric"), n=3)
    chain = strategy.as_runnable(fake) | RunnableLambda(lambda r: (r.answer, r.votes))
    assert await chain.ainvoke({"question": "?"}) == ("7", {"7": 2, "8": 1})
    results = await strategy.as_runnable(fake).abatch(["a?", "b?"])
    assert all(isinstance(r, StrategyResult) and r.answer == "7" for r in results)
    assert len(fake.requests) == 3  # one request of n=3 per task (the fake has native n)


def test_a_string_is_the_question_and_params_reach_the_provider() -> None:
    fake = FakeProvider(["Answer: 1"], cycle=True)
    runnable = ZeroShot().as_runnable(fake, params={"max_tokens": 7})
    result = runnable.invoke("What is one?")
    assert "What is one?" in fake.requests[0].messages[-1].content
    assert fake.requests[0].params.max_tokens == 7
    assert result.text == "Answer: 1"


def test_bad_input_and_bad_output_are_refused() -> None:
    fake = FakeProvider(["Answer: 1"])
    with pytest.raises(ConfigurationError, match="dict of template variables"):
        ZeroShot().as_runnable(fake).invoke(42)
    with pytest.raises(ConfigurationError, match="output='text' is not allowed"):
        ZeroShot().as_runnable(fake, output="text")  # type: ignore[arg-type]
    assert not fake.requests


@pytest.mark.local_model
def test_on_the_bundled_model(local_provider: Any) -> None:
    strategy = SelfConsistency(ChainOfThought(extractor="numeric"), n=2)
    chain = strategy.as_runnable(local_provider, params={"max_tokens": 24}) | RunnableLambda(
        lambda result: result
    )
    results = chain.batch(
        [{"question": "What is 2 + 2?"}, {"question": "What is 3 + 3?"}],
        config={"max_concurrency": 1},  # one model, one call at a time
    )
    assert [len(r.samples) for r in results] == [2, 2]
    assert all(r.completions[0].model and r.samples[0].text for r in results)
