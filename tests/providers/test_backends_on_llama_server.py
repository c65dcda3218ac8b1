"""Every HTTP backend against a real model: llama.cpp's llama-server on 127.0.0.1.

The same SmolLM2 model is reached four ways: OpenAIProvider (openai SDK, /v1/chat/
completions), AnthropicProvider (anthropic SDK, /v1/messages), and LangChainProvider
around ChatOpenAI and ChatAnthropic. Each parameter must arrive and have its effect,
usage must be recorded, and every strategy must run end to end on every backend.

Effects are checked by comparison, never against fixed model output: a stop string is
taken from the model's own greedy reply, top_p close to 0 must equal greedy decoding,
and so on. In CI a llama-server that cannot start fails these tests (tests/support).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from promptlab.errors import BadRequestError
from promptlab.providers.anthropic import AnthropicProvider
from promptlab.providers.base import Provider
from promptlab.providers.langchain import LangChainProvider
from promptlab.providers.openai import OpenAIProvider
from promptlab.providers.retry import RetryPolicy
from promptlab.strategies import ChainOfThought, FewShot, SelfConsistency, ZeroShot
from tests.providers.stub_setup import ask

pytest.importorskip("openai")
pytest.importorskip("anthropic")
langchain_openai = pytest.importorskip("langchain_openai")
langchain_anthropic = pytest.importorskip("langchain_anthropic")

# One event loop for the module, as in a script: langchain-openai keeps one HTTP client
# per base URL for the whole process, bound to the loop that first used it.
pytestmark = [pytest.mark.local_server, pytest.mark.asyncio(loop_scope="module")]

MODEL = "smollm2"  # llama-server serves one model and ignores the name
RETRY = RetryPolicy(max_attempts=2, initial_wait=0.2)
CAPITAL = "What is the capital of France? Answer in one sentence."
POEM = "Write a short poem about the sea."


def openai_backend(server: Any) -> Provider:
    return OpenAIProvider(MODEL, base_url=server.base_url, native_n=False, retry=RETRY)


def anthropic_backend(server: Any) -> Provider:
    return AnthropicProvider(MODEL, base_url=server.root_url, retry=RETRY)


def langchain_openai_backend(server: Any) -> Provider:
    chat = langchain_openai.ChatOpenAI(
        model=MODEL, base_url=server.base_url, api_key="unused", max_retries=0
    )
    return LangChainProvider(chat, native_n=False, retry=RETRY)


def langchain_anthropic_backend(server: Any) -> Provider:
    chat = langchain_anthropic.ChatAnthropic(
        model=MODEL, base_url=server.root_url, api_key="unused", max_retries=0
    )
    return LangChainProvider(chat, retry=RETRY)


ALL = [openai_backend, anthropic_backend, langchain_openai_backend, langchain_anthropic_backend]
WITH_SEED_AND_LOGPROBS = [openai_backend, langchain_openai_backend]
IDS = ["openai", "anthropic", "langchain-openai", "langchain-anthropic"]


@pytest.fixture(params=ALL, ids=IDS)
def backend(request: pytest.FixtureRequest, llama_server: Any) -> Provider:
    return request.param(llama_server)


@pytest.fixture(params=WITH_SEED_AND_LOGPROBS, ids=IDS[0::2])
def seeded_backend(request: pytest.FixtureRequest, llama_server: Any) -> Provider:
    return request.param(llama_server)


async def text(provider: Provider, prompt: str = CAPITAL, **params: Any) -> str:
    params.setdefault("max_tokens", 16)
    return (await provider.complete(ask(prompt, **params))).text


async def test_usage_is_recorded_and_local_costs_nothing(backend: Provider) -> None:
    completion = await backend.complete(ask(CAPITAL, temperature=0, max_tokens=24))
    assert "Paris" in completion.text
    assert completion.usage.input_tokens > 5
    assert 0 < completion.usage.output_tokens <= 24
    assert completion.cost_usd == 0.0


async def test_max_tokens_cuts_the_reply(backend: Provider) -> None:
    completion = await backend.complete(ask(POEM, temperature=0, max_tokens=3))
    assert completion.usage.output_tokens == 3
    assert completion.choices[0].finish_reason == "length"


async def test_a_stop_string_ends_the_reply_before_it(backend: Provider) -> None:
    full = await text(backend, temperature=0)
    assert "Paris" in full
    stopped = await backend.complete(ask(CAPITAL, temperature=0, max_tokens=16, stop=["Paris"]))
    assert stopped.text == full[: full.index("Paris")]
    assert stopped.choices[0].finish_reason == "stop"


async def test_temperature_zero_is_greedy_and_reproducible(backend: Provider) -> None:
    replies = {await text(backend, POEM, temperature=0) for _ in range(2)}
    assert len(replies) == 1


async def test_high_temperature_varies_the_samples(backend: Provider) -> None:
    replies = {await text(backend, POEM, temperature=1.5, max_tokens=8) for _ in range(4)}
    assert len(replies) > 1


async def test_top_p_near_zero_equals_greedy_decoding(backend: Provider) -> None:
    greedy = await text(backend, POEM, temperature=0)
    nucleus = await text(backend, POEM, temperature=1.0, top_p=0.001)
    assert nucleus == greedy


async def test_n_returns_n_choices_with_usage_summed(backend: Provider) -> None:
    single = await backend.complete(ask(POEM, temperature=0, max_tokens=1))
    completion = await backend.complete(ask(POEM, temperature=1.0, max_tokens=12, n=3))
    assert len(completion.choices) == 3 and completion.calls == 3
    assert [c.index for c in completion.choices] == [0, 1, 2]
    assert completion.usage.input_tokens == 3 * single.usage.input_tokens
    assert 3 <= completion.usage.output_tokens <= 3 * 12


async def test_why_llama_server_gets_native_n_false(llama_server: Any) -> None:
    # Finding: llama-server returns n choices only up to its --parallel slot count (4
    # here; more is a 400), and its usage counts the tokens of one choice only. So the
    # "llama-server:" provider string sends n separate requests, whose usage adds up.
    native = OpenAIProvider(MODEL, base_url=llama_server.base_url, retry=RETRY)
    both = await native.complete(ask(POEM, temperature=1.0, max_tokens=4, n=2))
    assert len(both.choices) == 2 and both.calls == 1
    assert all(c.finish_reason == "length" for c in both.choices)  # 2 x 4 tokens made...
    assert both.usage.output_tokens == 4  # ...but only 4 reported
    with pytest.raises(BadRequestError, match="'n'"):
        await native.complete(ask(POEM, max_tokens=4, n=5))

    fanned = await openai_backend(llama_server).complete(
        ask(POEM, temperature=1.0, max_tokens=4, n=5)
    )
    assert len(fanned.choices) == 5 and fanned.calls == 5
    assert fanned.usage.output_tokens == 5 * 4


async def test_seed_reproduces_sampling(seeded_backend: Provider) -> None:
    first = await text(seeded_backend, POEM, temperature=0.9, seed=123)
    again = await text(seeded_backend, POEM, temperature=0.9, seed=123)
    others = {await text(seeded_backend, POEM, temperature=0.9, seed=s) for s in (1, 2)}
    assert first == again
    assert len(others | {first}) > 1


async def test_logprobs_come_back_with_alternatives(seeded_backend: Provider) -> None:
    completion = await seeded_backend.complete(
        ask(CAPITAL, temperature=0, max_tokens=6, logprobs=True, top_logprobs=2)
    )
    logprobs = completion.choices[0].logprobs
    assert logprobs is not None and len(logprobs) == completion.usage.output_tokens
    assert "".join(t.token for t in logprobs) == completion.text
    assert all(t.logprob <= 0 and len(t.top) == 2 for t in logprobs)
    # Greedy decoding picks the likeliest token at every step.
    assert all(t.top[0][1] == pytest.approx(t.logprob, abs=1e-3) for t in logprobs)


@pytest.mark.parametrize("penalty", ["frequency_penalty", "presence_penalty"])
async def test_penalties_change_a_repetitive_reply(seeded_backend: Provider, penalty: str) -> None:
    prompt = "Repeat the word apple twenty times."
    plain = await text(seeded_backend, prompt, temperature=0, max_tokens=30)
    penalised = await text(seeded_backend, prompt, temperature=0, max_tokens=30, **{penalty: 2.0})
    assert penalised != plain  # greedy decoding changed course: the penalty arrived


SHOTS = [
    {"question": "What is the capital of Italy?", "answer": "Rome"},
    {"question": "What is the capital of Spain?", "answer": "Madrid"},
]
STRATEGIES: dict[str, Callable[[], Any]] = {
    "zero-shot": lambda: ZeroShot(extractor="text"),
    "few-shot": lambda: FewShot(SHOTS, extractor="text"),
    "chain-of-thought": lambda: ChainOfThought(extractor="text"),
    "self-consistency": lambda: SelfConsistency(ChainOfThought(extractor="text"), n=3),
}


@pytest.mark.parametrize("strategy", STRATEGIES, ids=list(STRATEGIES))
async def test_every_strategy_runs_end_to_end(backend: Provider, strategy: str) -> None:
    result = await STRATEGIES[strategy]().arun(
        {"question": "What is the capital of France?"}, backend, max_tokens=24
    )
    expected_samples = 3 if strategy == "self-consistency" else 1
    assert len(result.samples) == expected_samples
    assert result.calls == expected_samples
    assert all(sample.text for sample in result.samples)
    assert result.usage.input_tokens > 10 and result.usage.output_tokens > 0
    assert result.cost_usd == 0.0
    assert result.messages[-1].role == "user" and "France" in result.messages[-1].content
