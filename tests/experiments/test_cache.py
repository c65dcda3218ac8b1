"""The response cache is sample-aware: the bugs other tools shipped must not happen here.

LangChain, promptfoo, lm-eval and DSPy have each at some point returned a cached answer
for a request that differed in temperature, or one cached answer for every
self-consistency sample or repeat. Each test below fails on such a cache.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from promptlab.completion import CompletionRequest
from promptlab.experiments.cache import CachedProvider, ResponseCache, default_cache_path
from promptlab.experiments.definition import ArmSpec, Experiment
from promptlab.messages import Message
from promptlab.params import GenerationParams
from promptlab.strategies import ChainOfThought, SelfConsistency, ZeroShot
from promptlab.strategies.stopping import WindowStop
from promptlab.testing import FakeProvider

QUESTION = (Message("user", "What is 2 + 2?"),)


def counting_provider(**kwargs: Any) -> FakeProvider:
    """Every sample it generates has a different text: 'Answer: 1', 'Answer: 2', ..."""
    counter = itertools.count(1)
    return FakeProvider(lambda request: f"Answer: {next(counter)}", **kwargs)


def read_cells(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "cells.jsonl").read_text().splitlines()]


async def complete(provider: FakeProvider, cache: ResponseCache, repeat: int, **params: Any):
    cached = CachedProvider(provider, cache, repeat)
    return await cached.complete(CompletionRequest(QUESTION, GenerationParams(**params)))


async def test_same_request_is_served_from_the_cache(tmp_path: Path) -> None:
    cache, fake = ResponseCache(tmp_path), counting_provider()
    first = await complete(fake, cache, 0, temperature=0.7, max_tokens=20)
    second = await complete(fake, cache, 0, temperature=0.7, max_tokens=20)
    assert fake.calls == 1
    assert second.text == first.text
    assert (first.calls, second.calls) == (1, 0)


@pytest.mark.parametrize(
    "change",
    [
        {"temperature": 0.0},
        {"temperature": 1.0},
        {"max_tokens": 21},
        {"seed": 1},
        {"stop": ["\n"]},
        {"top_p": 0.5},
        {"n": 2},
        {"presence_penalty": 0.5},
        {"frequency_penalty": 0.5},
        {"logprobs": True},
    ],
)
async def test_any_changed_parameter_is_a_miss(tmp_path: Path, change: dict[str, Any]) -> None:
    cache, fake = ResponseCache(tmp_path), counting_provider()
    base = {"temperature": 0.7, "max_tokens": 20}
    first = await complete(fake, cache, 0, **base)
    changed = await complete(fake, cache, 0, **{**base, **change})
    assert fake.calls == 2, f"changing {change} must not hit the cache"
    assert changed.text != first.text


async def test_different_repeat_is_a_miss(tmp_path: Path) -> None:
    cache, fake = ResponseCache(tmp_path), counting_provider()
    texts = [(await complete(fake, cache, repeat, temperature=0.7)).text for repeat in range(3)]
    assert fake.calls == 3
    assert len(set(texts)) == 3
    again = [(await complete(fake, cache, repeat, temperature=0.7)).text for repeat in range(3)]
    assert again == texts
    assert fake.calls == 3


async def test_different_model_or_messages_is_a_miss(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    fake_a, fake_b = counting_provider(model="a"), counting_provider(model="b")
    await complete(fake_a, cache, 0)
    await complete(fake_b, cache, 0)
    assert (fake_a.calls, fake_b.calls) == (1, 1)
    cached = CachedProvider(fake_a, cache, 0)
    await cached.complete(CompletionRequest((Message("user", "What is 3 + 3?"),)))
    assert fake_a.calls == 2


async def test_cache_persists_across_instances_and_keeps_logprobs(tmp_path: Path) -> None:
    fake = counting_provider()
    first = await complete(fake, ResponseCache(tmp_path), 0, logprobs=True, top_logprobs=2)
    reopened = ResponseCache(tmp_path / "responses.sqlite")
    second = await complete(fake, reopened, 0, logprobs=True, top_logprobs=2)
    assert fake.calls == 1
    assert second.choices == first.choices
    assert second.choices[0].logprobs is not None
    assert (second.usage, second.cost_usd) == (first.usage, first.cost_usd)


def self_consistency_experiment(fake: FakeProvider, **sc: Any) -> Experiment:
    return Experiment(
        arms={"sc": SelfConsistency(ChainOfThought(extractor="numeric"), **sc)},
        providers={"fake": fake},
        tasks=[{"id": "t1", "question": "What is 2 + 2?", "answer": 4}],
        scorers=["numeric"],
        repeats=2,
        seed=None,  # no seed: only the sample index and occurrence keep samples apart
    )


def test_self_consistency_samples_stay_distinct_through_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    fake = counting_provider()
    self_consistency_experiment(fake, n=5).run(tmp_path / "r1", cache=cache, progress=False)
    first = {cell["repeat"]: cell["outputs"] for cell in read_cells(tmp_path / "r1")}
    assert all(len(set(outputs)) == 5 for outputs in first.values())
    assert set(first[0]).isdisjoint(first[1]), "repeat 1 must not reuse repeat 0's samples"

    again = counting_provider()
    self_consistency_experiment(again, n=5).run(tmp_path / "r2", cache=cache, progress=False)
    assert again.calls == 0
    cells = read_cells(tmp_path / "r2")
    assert {cell["repeat"]: cell["outputs"] for cell in cells} == first
    assert all(cell["cached"] and cell["calls"] == 0 for cell in cells)


def test_adaptive_batches_of_the_same_request_are_not_collapsed(tmp_path: Path) -> None:
    # WindowStop(5) never settles on all-distinct answers, so five identical n=1 requests
    # are sent per cell: a cache keyed on the request alone would repeat the first one.
    cache = tmp_path / "cache"
    fake = counting_provider()
    sc = {"n": 5, "stopping": WindowStop(5), "batch_size": 1}
    self_consistency_experiment(fake, **sc).run(tmp_path / "r1", cache=cache, progress=False)
    first = read_cells(tmp_path / "r1")
    assert all(len(set(cell["outputs"])) == 5 for cell in first)
    again = counting_provider()
    self_consistency_experiment(again, **sc).run(tmp_path / "r2", cache=cache, progress=False)
    assert again.calls == 0
    assert [c["outputs"] for c in read_cells(tmp_path / "r2")] == [c["outputs"] for c in first]


def two_arm_experiment(fake: FakeProvider, temperature: float = 0.7) -> Experiment:
    return Experiment(
        arms={
            "zero_shot": ArmSpec(ZeroShot(extractor="numeric"), {"temperature": temperature}),
            "cot": ChainOfThought(extractor="numeric"),
        },
        providers={"fake": fake},
        tasks=[{"question": f"What is {i} + 1?", "answer": i + 1} for i in range(5)],
        scorers=["numeric"],
    )


def test_rerunning_a_finished_experiment_makes_zero_calls(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = FakeProvider(["Answer: 3"], cycle=True, cost_per_call=0.01)
    two_arm_experiment(first).run(tmp_path / "r1", cache=cache, progress=False)
    assert first.calls == 10
    second = FakeProvider(["Answer: 3"], cycle=True, cost_per_call=0.01)
    two_arm_experiment(second).run(tmp_path / "r2", cache=cache, progress=False)
    assert second.calls == 0
    cells = read_cells(tmp_path / "r2")
    assert all(c["cached"] and c["calls"] == 0 for c in cells)
    # Usage and cost are those of the original call.
    originals = {(c["task_id"], c["arm"]): c for c in read_cells(tmp_path / "r1")}
    for cell in cells:
        original = originals[(cell["task_id"], cell["arm"])]
        assert cell["cost_usd"] == original["cost_usd"] == pytest.approx(0.01)
        assert cell["output_tokens"] == original["output_tokens"] > 0
        assert not original["cached"]


def test_changing_an_arm_temperature_misses_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    two_arm_experiment(FakeProvider(["Answer: 3"], cycle=True)).run(
        tmp_path / "r1", cache=cache, progress=False
    )
    fake = FakeProvider(["Answer: 3"], cycle=True)
    two_arm_experiment(fake, temperature=0.0).run(tmp_path / "r2", cache=cache, progress=False)
    assert fake.calls == 5  # only the zero_shot arm changed


def test_bypass_and_refresh(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    two_arm_experiment(FakeProvider(["Answer: 3"], cycle=True)).run(
        tmp_path / "r1", cache=cache, progress=False
    )
    bypass = FakeProvider(["Answer: 9"], cycle=True)
    two_arm_experiment(bypass).run(tmp_path / "r2", cache=False, progress=False)
    assert bypass.calls == 10
    refresh = FakeProvider(["Answer: 4"], cycle=True)
    two_arm_experiment(refresh).run(
        tmp_path / "r3", cache=cache, refresh_cache=True, progress=False
    )
    assert refresh.calls == 10
    assert not any(c["cached"] for c in read_cells(tmp_path / "r3"))
    after = FakeProvider(["Answer: 0"], cycle=True)
    two_arm_experiment(after).run(tmp_path / "r4", cache=cache, progress=False)
    assert after.calls == 0
    # The refresh overwrote the stored responses; the bypass stored nothing.
    assert {c["answer"] for c in read_cells(tmp_path / "r4")} == {"4"}


class KeyedFake(FakeProvider):
    """A provider holding a secret, as HTTP providers do."""

    def __init__(self, api_key: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.api_key = api_key
        self.headers = {"Authorization": f"Bearer {api_key}"}


def test_the_cache_file_never_holds_an_api_key(tmp_path: Path) -> None:
    secret = "sk-test-SECRET-1234567890"
    fake = KeyedFake(secret, script=["Answer: 3"], cycle=True)
    two_arm_experiment(fake).run(tmp_path / "run", cache=tmp_path / "cache", progress=False)
    cache_files = list((tmp_path / "cache").iterdir())
    assert cache_files
    assert len(ResponseCache(tmp_path / "cache")) == 10
    for path in [*cache_files, *(tmp_path / "run").iterdir()]:
        assert secret.encode() not in path.read_bytes(), path.name


def test_default_location_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMPTLAB_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert default_cache_path() == tmp_path / "elsewhere" / "responses.sqlite"
    cache = ResponseCache()
    assert cache.path.is_file()
    monkeypatch.delenv("PROMPTLAB_CACHE_DIR")
    assert default_cache_path() == Path.home() / ".cache" / "promptlab" / "responses.sqlite"
