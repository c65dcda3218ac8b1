"""LangChainProvider: ChatOpenAI and ChatAnthropic against the stub server, and any chat model."""

from __future__ import annotations

from typing import Any

import pytest

from promptlab.errors import (
    AuthenticationError,
    ConfigurationError,
    ContextWindowExceededError,
    ModelNotFoundError,
    RateLimitError,
    UnsupportedParameterError,
)
from promptlab.providers.langchain import LangChainProvider
from promptlab.strategies import ChainOfThought, SelfConsistency
from promptlab.testing.stub_server import StubServer
from tests.providers.stub_setup import FAST_RETRY, STUB_KEY, ask, bodies

langchain_core = pytest.importorskip("langchain_core")
langchain_openai = pytest.importorskip("langchain_openai")
langchain_anthropic = pytest.importorskip("langchain_anthropic")

from langchain_core.exceptions import ContextOverflowError, ModelRateLimitError  # noqa: E402
from langchain_core.language_models import BaseChatModel  # noqa: E402
from langchain_core.messages import AIMessage  # noqa: E402
from langchain_core.outputs import ChatGeneration, ChatResult  # noqa: E402
from pydantic import Field  # noqa: E402


def chat_openai(srv: StubServer, model: str = "stub-model") -> LangChainProvider:
    chat = langchain_openai.ChatOpenAI(
        model=model, base_url=srv.base_url, api_key=STUB_KEY, max_retries=0
    )
    return LangChainProvider(chat, retry=FAST_RETRY)


def chat_anthropic(srv: StubServer, model: str = "stub-model") -> LangChainProvider:
    chat = langchain_anthropic.ChatAnthropic(
        model=model, base_url=srv.root_url, api_key=STUB_KEY, max_retries=0
    )
    return LangChainProvider(chat, retry=FAST_RETRY)


class RecordingChat(BaseChatModel):
    """A plain LangChain chat model with a temperature field; records each call."""

    temperature: float = 1.0
    seen: list[dict[str, Any]] = Field(default_factory=list)
    failures: list[Exception] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "recording"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):  # type: ignore[no-untyped-def]
        self.seen.append({"temperature": self.temperature, "stop": stop, "kwargs": kwargs})
        if self.failures:
            raise self.failures.pop(0)
        usage = {"input_tokens": 7, "output_tokens": 3, "total_tokens": 10}
        message = AIMessage(content="The answer is 42.", usage_metadata=usage)
        return ChatResult(generations=[ChatGeneration(message=message)])


async def test_chat_openai_receives_every_parameter_and_samples_n_in_one_request() -> None:
    reply = lambda m, p: f"sample {p['choice_index']} of many"  # noqa: E731
    async with StubServer(reply=reply) as srv:
        completion = await chat_openai(srv).complete(
            ask(n=3, temperature=0.4, top_p=0.8, seed=5, stop=["many"], max_tokens=9,
                frequency_penalty=0.1, presence_penalty=0.2)
        )  # fmt: skip
        assert srv.stats.total_requests == 1
        body = bodies(srv)[0]
    assert body["n"] == 3 and body["temperature"] == 0.4 and body["top_p"] == 0.8
    assert body["seed"] == 5 and body["stop"] == ["many"]
    assert body["frequency_penalty"] == 0.1 and body["presence_penalty"] == 0.2
    assert body["max_completion_tokens"] == 9  # ChatOpenAI's own choice of field
    assert completion.texts == ["sample 0 of ", "sample 1 of ", "sample 2 of "]
    # LangChain copies the response usage onto every generation: counted once.
    assert completion.usage.output_tokens == 3 * 3


async def test_chat_openai_logprobs_per_choice() -> None:
    reply = lambda m, p: "short" if p["choice_index"] == 0 else "a longer one"  # noqa: E731
    async with StubServer(reply=reply) as srv:
        completion = await chat_openai(srv).complete(ask(n=2, logprobs=True, top_logprobs=1))
    first, second = (c.logprobs for c in completion.choices)
    assert first is not None and second is not None
    assert [t.token for t in first] == ["short"]
    assert [t.token for t in second] == ["a", " longer", " one"]


async def test_chat_anthropic_maps_system_stop_and_temperature_and_fans_out_n() -> None:
    async with StubServer(reply=lambda m, p: "one two three") as srv:
        completion = await chat_anthropic(srv).complete(
            ask("hi", system="Be terse.", n=2, temperature=0.3, stop=["three"], max_tokens=20)
        )
        sent = bodies(srv)
    assert len(sent) == 2  # no native n
    assert all(b["system"] == "Be terse." and b["temperature"] == 0.3 for b in sent)
    assert all(b["stop_sequences"] == ["three"] and b["max_tokens"] == 20 for b in sent)
    assert completion.texts == ["one two ", "one two "]
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.output_tokens == 4


def test_chat_anthropic_refuses_penalties_like_the_anthropic_provider() -> None:
    chat = langchain_anthropic.ChatAnthropic(model="claude-haiku-4-5", api_key=STUB_KEY)
    with pytest.raises(UnsupportedParameterError, match="presence_penalty"):
        LangChainProvider(chat).complete_sync(ask(presence_penalty=0.5))


async def test_self_consistency_on_both_langchain_backends_counts_requests() -> None:
    async with StubServer(reply=lambda m, p: "So the answer is 42.") as srv:
        sc = SelfConsistency(ChainOfThought(extractor="numeric"), n=3)
        via_openai = await sc.arun({"question": "6*7?"}, chat_openai(srv))
        after_openai = srv.stats.total_requests
        via_anthropic = await sc.arun({"question": "6*7?"}, chat_anthropic(srv))
    assert after_openai == 1 and srv.stats.total_requests == 1 + 3
    assert via_openai.answer == via_anthropic.answer == "42"


@pytest.mark.parametrize(
    ("model", "error"),
    [("auth-error", AuthenticationError), ("not-found", ModelNotFoundError),
     ("context-exceeded", ContextWindowExceededError)],
)  # fmt: skip
@pytest.mark.parametrize("backend", [chat_openai, chat_anthropic])
async def test_sdk_errors_through_langchain_become_promptlab_errors(backend, model, error) -> None:
    async with StubServer() as srv:
        with pytest.raises(error):
            await backend(srv, model).complete(ask())
        assert srv.stats.total_requests == 1


async def test_rate_limits_through_langchain_are_retried_by_promptlab() -> None:
    async with StubServer(fail_first_n=2, faults=("429",), retry_after=0.01) as srv:
        completion = await chat_openai(srv).complete(ask())
        assert srv.stats.total_requests == 3
    assert completion.text.startswith("Echo:")


async def test_any_chat_model_gets_temperature_through_its_field_and_stop_as_argument() -> None:
    chat = RecordingChat()
    lc = LangChainProvider(chat, retry=FAST_RETRY)
    assert lc.capabilities.temperature and not lc.capabilities.native_n
    completion = await lc.complete(ask(temperature=0.25, stop=["\n"]))
    assert chat.seen[-1]["temperature"] == 0.25 and chat.seen[-1]["stop"] == ["\n"]
    assert chat.temperature == 1.0  # the caller's model is not changed
    assert completion.text == "The answer is 42."
    assert (completion.usage.input_tokens, completion.usage.output_tokens) == (7, 3)
    assert completion.cost_usd is None  # no price known for this model


async def test_any_chat_model_rejects_parameters_it_has_no_field_for() -> None:
    lc = LangChainProvider(RecordingChat())
    with pytest.raises(UnsupportedParameterError, match="frequency_penalty"):
        await lc.complete(ask(frequency_penalty=0.5))


async def test_langchain_model_errors_are_translated_and_retried_when_retryable() -> None:
    chat = RecordingChat(failures=[ModelRateLimitError("slow down"), ModelRateLimitError("again")])
    completion = await LangChainProvider(chat, retry=FAST_RETRY).complete(ask())
    assert len(chat.seen) == 3 and completion.text == "The answer is 42."

    chat = RecordingChat(failures=[ContextOverflowError("too long")])
    with pytest.raises(ContextWindowExceededError):
        await LangChainProvider(chat, retry=FAST_RETRY).complete(ask())
    assert len(chat.seen) == 1

    chat = RecordingChat(failures=[ModelRateLimitError("x")] * 3)
    with pytest.raises(RateLimitError):
        await LangChainProvider(chat, retry=FAST_RETRY).complete(ask())


def test_only_chat_models_can_be_wrapped() -> None:
    with pytest.raises(ConfigurationError, match=r"provider\(\"openai:gpt-4o-mini\"\)"):
        LangChainProvider("gpt-4o-mini")


def test_chat_openai_reused_on_a_new_event_loop_gets_a_clear_error() -> None:
    # langchain-openai keeps one HTTP client per base URL for the whole process; its
    # pooled connection belongs to the first asyncio.run's loop, closed by the second.
    import asyncio

    with StubServer.in_thread() as srv:
        lc = chat_openai(srv)
        assert asyncio.run(lc.complete(ask())).text.startswith("Echo:")
        with pytest.raises(ConfigurationError, match="one event loop"):
            asyncio.run(lc.complete(ask()))
        # promptlab's own sync bridge reuses one loop per thread, so this keeps working:
        fresh = chat_openai(srv)
        fresh.complete_sync(ask())
        assert fresh.complete_sync(ask()).text.startswith("Echo:")
