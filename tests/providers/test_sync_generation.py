"""Provider._generate_sync, the optional synchronous hook: when complete_sync uses it, and
that it keeps every check, the timing and the tracing of the async complete."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from promptlab import GenerationParams
from promptlab.completion import Completion, CompletionRequest
from promptlab.messages import Message
from promptlab.providers.base import Capabilities, Provider
from promptlab.testing import FakeProvider

REQUEST = CompletionRequest.of([Message("user", "What is 2 + 2?")])


def spy_run_sync(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Count the blocking calls that went through the event-loop bridge."""
    from promptlab import sync

    bridged: list[Any] = []

    def counting(awaitable: Any) -> Any:
        bridged.append(awaitable)
        return sync.run_sync(awaitable)

    monkeypatch.setattr("promptlab.providers.base.run_sync", counting)
    return bridged


def test_the_fake_answers_blocking_calls_without_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bridged = spy_run_sync(monkeypatch)
    fake = FakeProvider(["Answer: 4"], cost_per_call=0.25)
    completion = fake.complete_sync(REQUEST)
    assert bridged == []
    assert completion.text == "Answer: 4" and completion.cost_usd == 0.25
    assert fake.requests == [REQUEST]


class AsyncOnly(Provider):
    name = "async-only"

    async def _generate(self, request: CompletionRequest) -> Completion:
        await asyncio.sleep(0)
        return Completion(())


class CountingFake(FakeProvider):
    """Overrides the async call only: its override must not be bypassed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.async_calls = 0

    async def _generate(self, request: CompletionRequest) -> Completion:
        self.async_calls += 1
        return await super()._generate(request)


class WrappedFake(FakeProvider):
    """Overrides complete itself (as a cache or a batch wrapper does)."""

    async def complete(self, request: CompletionRequest) -> Completion:
        completion = await super().complete(request)
        return Completion(completion.choices, model="wrapped")


class SyncToo(CountingFake):
    """Overrides both calls: the sync one is its own, so it is used."""

    def _generate_sync(self, request: CompletionRequest) -> Completion:
        return Completion((), model="own sync")


@pytest.mark.parametrize(
    ("provider", "hook"),
    [(FakeProvider(), True), (AsyncOnly(), False), (CountingFake(), False),
     (WrappedFake(), False), (SyncToo(), True)],
    ids=["fake", "async only", "overrides _generate", "overrides complete", "overrides both"],
)  # fmt: skip
def test_the_hook_is_used_only_where_no_override_would_be_bypassed(
    provider: Provider, hook: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    bridged = spy_run_sync(monkeypatch)
    assert provider._generates_sync is hook
    completion = provider.complete_sync(REQUEST)
    assert len(bridged) == (0 if hook else 1)
    if isinstance(provider, WrappedFake):
        assert completion.model == "wrapped"
    if isinstance(provider, CountingFake):
        assert provider.async_calls == (0 if hook else 1)
        assert completion.model == ("own sync" if hook else "fake-model")


def test_fan_out_without_native_n_keeps_the_async_route(monkeypatch: pytest.MonkeyPatch) -> None:
    bridged = spy_run_sync(monkeypatch)
    fake = FakeProvider(
        ["Answer: 1", "Answer: 2", "Answer: 3"], capabilities=Capabilities(seed=True)
    )
    request = CompletionRequest.of(REQUEST.messages, GenerationParams(n=3, seed=10))
    completion = fake.complete_sync(request)
    assert len(bridged) == 1  # n concurrent calls: the loop's job
    assert completion.texts == ["Answer: 1", "Answer: 2", "Answer: 3"]
    assert [r.params.seed for r in fake.requests] == [10, 11, 12]
    assert completion.calls == 3


def test_latency_is_measured_on_the_blocking_route() -> None:
    fake = FakeProvider(["Answer: 4"], cycle=True, latency=0.03)
    blocking = fake.complete_sync(REQUEST)
    awaited = asyncio.run(fake.complete(REQUEST))
    assert blocking.latency_s >= 0.03 and awaited.latency_s >= 0.03


def test_checks_and_drops_are_the_same_on_both_routes() -> None:
    def sent(route: str) -> tuple[GenerationParams, list[str]]:
        fake = FakeProvider(
            ["Answer: 4"], capabilities=Capabilities(max_stop=1, seed=False), on_unsupported="drop"
        )
        request = CompletionRequest.of(
            REQUEST.messages, GenerationParams(seed=3, stop=["\n", "."], temperature=0.1)
        )
        with pytest.warns(UserWarning) as warned:
            if route == "sync":
                fake.complete_sync(request)
            else:
                asyncio.run(fake.complete(request))
        return fake.requests[0].params, sorted(str(w.message) for w in warned)

    assert sent("sync") == sent("async")
    params, warnings = sent("sync")
    assert params == GenerationParams(stop=["\n"], temperature=0.1) and len(warnings) == 2


def test_which_built_in_backends_answer_blocking_calls_without_the_loop() -> None:
    from promptlab.providers.anthropic import AnthropicProvider
    from promptlab.providers.cache import CachedProvider
    from promptlab.providers.langchain import LangChainProvider
    from promptlab.providers.llama_cpp import LlamaCppProvider
    from promptlab.providers.openai import OpenAIProvider

    # In-process work: the hook. Remote APIs and the cache wrapper: the event loop.
    assert FakeProvider._generates_sync and LlamaCppProvider._generates_sync
    for remote in (OpenAIProvider, AnthropicProvider, LangChainProvider, CachedProvider):
        assert not remote._generates_sync, remote.__name__


def test_the_hook_decision_does_not_depend_on_earlier_subclass_checks() -> None:
    # Found in the full suite: the decision runs while ABCMeta builds the class, when an
    # issubclass() check still reads the parent's ABC cache; after isinstance checks on
    # FakeProvider had filled it, an override of _generate was bypassed.
    assert isinstance(FakeProvider(), FakeProvider) and issubclass(FakeProvider, FakeProvider)

    class OverridesGenerate(FakeProvider):
        async def _generate(self, request: CompletionRequest) -> Completion:
            return await super()._generate(request)

    assert OverridesGenerate._generates_sync is False
