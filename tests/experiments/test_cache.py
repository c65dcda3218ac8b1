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
from promptlab.experiments.arm import ArmSpec
from promptlab.experiments.experiment import Experiment
from promptlab.messages import Message
from promptlab.params import GenerationParams
from promptlab.providers.cache import CachedProvider, ResponseCache, default_cache_path
from promptlab.strategies import ChainOfThought, SelfConsistency, ZeroShot
from promptlab.strategies.stopping import WindowStop
from promptlab.testing import FakeProvider

QUESTION = (Message("user", "What is 2 + 2?"),)


def counting_provider(start: int = 1, **kwargs: Any) -> FakeProvider:
    """Every sample it generates has a different text: 'Answer: 1', 'Answer: 2', ...

    Every counting provider has the same fingerprint whatever ``start``: like a server
    whose model was swapped under the same name, it answers differently as the same
    provider.
    """
    counter = itertools.count(start)
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
    writer = ResponseCache(tmp_path)
    first = await complete(fake, writer, 0, logprobs=True, top_logprobs=2)
    writer.close()  # writes the batch; another instance sees a response once it is written
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
    two_arm_experiment(counting_provider(1)).run(tmp_path / "r1", cache=cache, progress=False)
    bypass = counting_provider(1001)
    two_arm_experiment(bypass).run(tmp_path / "r2", cache=False, progress=False)
    assert bypass.calls == 10
    refresh = counting_provider(101)
    two_arm_experiment(refresh).run(
        tmp_path / "r3", cache=cache, refresh_cache=True, progress=False
    )
    assert refresh.calls == 10
    assert not any(c["cached"] for c in read_cells(tmp_path / "r3"))
    after = counting_provider(2001)
    two_arm_experiment(after).run(tmp_path / "r4", cache=cache, progress=False)
    assert after.calls == 0
    # The refresh overwrote the stored responses; the bypass stored nothing.
    assert {int(c["answer"]) for c in read_cells(tmp_path / "r4")} == set(range(101, 111))
    assert len(ResponseCache(cache)) == 10


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


# --- the provider fingerprint in the key (issue 8, item 1) --------------------------------


def test_two_providers_with_the_same_model_in_one_experiment_both_call(tmp_path: Path) -> None:
    # Same name and model, same per-cell seeds: only the fingerprint keeps them apart.
    first = FakeProvider(["Answer: 1"], cycle=True, model="same-model")
    second = FakeProvider(["Answer: 2"], cycle=True, model="same-model")
    Experiment(
        arms={"zero_shot": ZeroShot(extractor="numeric")},
        providers={"first": first, "second": second},
        tasks=[{"question": f"What is {i} + 1?", "answer": i + 1} for i in range(3)],
        scorers=["numeric"],
    ).run(tmp_path / "run", cache=tmp_path / "cache", concurrency=1, progress=False)
    assert (first.calls, second.calls) == (3, 3)
    answers = {(c["provider"], c["answer"]) for c in read_cells(tmp_path / "run")}
    assert answers == {("first", "1"), ("second", "2")}
    assert not any(c["cached"] for c in read_cells(tmp_path / "run"))


def test_two_openai_compatible_servers_with_the_same_model_both_answer(tmp_path: Path) -> None:
    from promptlab.providers.registry import provider
    from promptlab.testing.stub_server import StubServer

    with (
        StubServer.in_thread(reply=lambda messages, params: "Answer: 1") as one,
        StubServer.in_thread(reply=lambda messages, params: "Answer: 2") as two,
    ):
        Experiment(
            arms={"zero_shot": ZeroShot(extractor="numeric")},
            providers={
                "one": provider(f"openai-compatible:qwen@{one.base_url}", max_retries=0),
                "two": provider(f"openai-compatible:qwen@{two.base_url}", max_retries=0),
            },
            tasks=[{"question": "What is 1 + 1?", "answer": 2}],
            scorers=["numeric"],
            repeats=2,
        ).run(tmp_path / "run", cache=tmp_path / "cache", concurrency=1, progress=False)
        assert (one.stats.total_requests, two.stats.total_requests) == (2, 2)
    answers = {(c["provider"], c["answer"]) for c in read_cells(tmp_path / "run")}
    assert answers == {("one", "1"), ("two", "2")}


def _anthropic(**options: Any) -> Any:
    from promptlab.providers.anthropic import AnthropicProvider

    return AnthropicProvider("claude-haiku-4-5", api_key="sk-test", **options)


def _gguf(folder: Path) -> Any:
    from promptlab.providers.llama_cpp import LlamaCppProvider

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.gguf").write_bytes(b"GGUF " + folder.name.encode())
    return LlamaCppProvider(folder / "model.gguf")


def _langchain(**fields: Any) -> Any:
    pytest.importorskip("langchain_openai")
    from langchain_openai import ChatOpenAI

    from promptlab.providers.langchain import LangChainProvider

    return LangChainProvider(ChatOpenAI(model="gpt-4o-mini", api_key="sk-test", **fields))


def _server(spec: str) -> Any:
    from promptlab.providers.registry import provider

    return provider(spec)


PAIRS = {
    "openai-compatible URLs": lambda tmp: (
        _server("openai-compatible:m@http://10.0.0.5:8000/v1"),
        _server("openai-compatible:m@http://10.0.0.6:8000/v1"),
    ),
    "llama-server URLs": lambda tmp: (
        _server("llama-server@http://127.0.0.1:8080"),
        _server("llama-server@http://127.0.0.1:8081"),
    ),
    "GGUF files with the same name": lambda tmp: (_gguf(tmp / "a"), _gguf(tmp / "b")),
    "LangChain temperature": lambda tmp: (_langchain(temperature=0), _langchain(temperature=1)),
    "Anthropic default max_tokens": lambda tmp: (
        _anthropic(),
        _anthropic(default_max_tokens=4096),
    ),
}


@pytest.mark.parametrize("case", PAIRS)
async def test_providers_that_can_answer_differently_never_share_answers(
    tmp_path: Path, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = PAIRS[case](tmp_path)
    assert (first.name, first.model) == (second.name, second.model)
    backends: dict[str, list[CompletionRequest]] = {"first": [], "second": []}
    for label, built in (("first", first), ("second", second)):
        # Stand in for the real backend call; everything the cache does stays real.
        async def answer(request: CompletionRequest, label: str = label) -> Any:
            backends[label].append(request)
            return await FakeProvider([f"Answer: {label}"]).complete(request)

        monkeypatch.setattr(built, "complete", answer)
    cache = ResponseCache(tmp_path / "cache")
    request = CompletionRequest(QUESTION, GenerationParams(temperature=0, max_tokens=20))
    served = [await CachedProvider(p, cache, 0).complete(request) for p in (first, second)]
    assert [s.text for s in served] == ["Answer: first", "Answer: second"]
    assert (len(backends["first"]), len(backends["second"])) == (1, 1)
    # And each is served its own answer from then on.
    again = await CachedProvider(second, cache, 0).complete(request)
    assert (again.text, again.calls, len(backends["second"])) == ("Answer: second", 0, 1)


def test_the_cached_provider_has_the_inner_fingerprint(tmp_path: Path) -> None:
    fake = FakeProvider(["x"], model="m")
    cached = CachedProvider(fake, ResponseCache(tmp_path), 0)
    assert cached.fingerprint() == fake.fingerprint()


async def test_the_key_holds_the_request_as_sent_not_a_dropped_parameter(
    tmp_path: Path,
) -> None:
    # A provider that drops temperature answers greedily; the same provider that honours
    # it must not be served that greedy answer for a temperature=1 request.
    from promptlab.providers.base import Capabilities, UnsupportedParameterWarning

    cache = ResponseCache(tmp_path)
    dropping = counting_provider(
        capabilities=Capabilities(temperature=False), on_unsupported="drop"
    )
    honouring = counting_provider(101)
    assert dropping.fingerprint() == honouring.fingerprint()
    request = CompletionRequest(QUESTION, GenerationParams(temperature=1.0))
    with pytest.warns(UnsupportedParameterWarning, match="temperature"):
        await CachedProvider(dropping, cache, 0).complete(request)
    sampled = await CachedProvider(honouring, cache, 0).complete(request)
    assert (honouring.calls, sampled.text) == (1, "Answer: 101")


def test_a_cache_file_from_before_fingerprints_still_opens(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "responses.sqlite"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE responses (key TEXT PRIMARY KEY, provider TEXT NOT NULL, "
        "model TEXT NOT NULL, request TEXT NOT NULL, completion TEXT NOT NULL, "
        "created TEXT NOT NULL)"
    )
    old.execute("INSERT INTO responses VALUES ('oldkey', 'fake', 'fake-model', '{}', '{}', 'then')")
    old.commit()
    old.close()
    cache = ResponseCache(path)
    assert len(cache) == 1
    fake = counting_provider()
    first = run_sync_complete(fake, cache)
    second = run_sync_complete(fake, cache)
    assert (fake.calls, first.text, second.text, len(cache)) == (1, "Answer: 1", "Answer: 1", 2)
    stored = json.loads(
        cache._db.execute("SELECT request FROM responses WHERE key != 'oldkey'").fetchone()[0]
    )
    assert stored["provider"] == fake.fingerprint()


def run_sync_complete(fake: FakeProvider, cache: ResponseCache) -> Any:
    from promptlab.sync import run_sync

    return run_sync(complete(fake, cache, 0))


def test_no_key_header_or_secret_reaches_the_cache_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from promptlab.providers.openai import OpenAIProvider
    from promptlab.sync import run_sync

    secret = "sk-cache-SECRET-0123456789"
    built = OpenAIProvider(
        "m",
        api_key=secret,
        base_url=f"http://user:{secret}@127.0.0.1:9/v1",
        default_headers={"Authorization": f"Bearer {secret}"},
    )

    async def answer(request: CompletionRequest) -> Any:
        return await FakeProvider(["Answer: 1"]).complete(request)

    monkeypatch.setattr(built, "complete", answer)
    cache = ResponseCache(tmp_path)
    run_sync(CachedProvider(built, cache, 0).complete(CompletionRequest(QUESTION)))
    cache.close()
    assert len(list(tmp_path.iterdir())) >= 1
    for path in tmp_path.iterdir():
        assert secret.encode() not in path.read_bytes(), path.name
