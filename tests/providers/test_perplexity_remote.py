"""Prompt logprobs over HTTP: the OpenAI-compatible completions echo path, and chat-only APIs.

The echo path runs the real ``openai`` SDK against the loopback stub server, whose
``/v1/completions`` returns every prompt token with a deterministic log-probability
(``stub_token_logprob``), the first one ``null`` as OpenAI's legacy API does.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from promptlab import Message, aperplexity
from promptlab.errors import ConfigurationError, UnsupportedParameterError
from promptlab.providers.anthropic import AnthropicProvider
from promptlab.providers.openai import OpenAIProvider
from promptlab.testing.stub_server import StubServer
from promptlab.testing.stub_text_completions import stub_token_logprob
from tests.providers.stub_setup import STUB_KEY, bodies, openai_on

pytest.importorskip("openai")


async def test_the_continuation_is_scored_from_the_echoed_prompt_tokens() -> None:
    async with StubServer() as srv:
        provider = openai_on(srv)
        scored = await provider.prompt_logprobs(
            ("Question: capital of France?\nAnswer: ", "Paris.")
        )
        # The context's trailing space moves to the continuation (" Paris." is one token);
        # the generated token after the echoed prompt is dropped.
        assert scored.tokens == (" Paris.",)
        assert scored.logprobs == (stub_token_logprob(" Paris."),)
        [body] = bodies(srv)
        assert body["prompt"] == "Question: capital of France?\nAnswer: Paris."
        assert body["echo"] is True and body["logprobs"] == 1


async def test_corpus_perplexity_over_the_stub_matches_the_hand_computed_value() -> None:
    texts = ["alpha beta gamma", "delta epsilon"]
    async with StubServer() as srv:
        result = await aperplexity(openai_on(srv), texts)
    # The first token of each text has no context on this API: it is unscored.
    scored = [" beta", " gamma", " epsilon"]
    nll = -math.fsum(stub_token_logprob(t) for t in scored)
    assert result.nll == pytest.approx(nll, abs=1e-12)
    assert (result.tokens, result.unscored_tokens, result.words, result.bytes) == (3, 2, 5, 29)
    assert result.word_perplexity == pytest.approx(math.exp(nll / 5))
    assert result.texts == 2


async def test_vllm_prompt_logprobs_are_read_when_echo_gives_none() -> None:
    async with StubServer() as srv:
        context, text = "Question: capital of France?\nAnswer: ", "Paris is the capital."
        expected = await openai_on(srv).prompt_logprobs((context, text))
        srv.reset_stats()
        scored = await openai_on(srv, "echo-ignored").prompt_logprobs((context, text))
        first, second = bodies(srv)
    assert scored == expected
    assert first["echo"] is True and "prompt_logprobs" not in first
    assert second["prompt_logprobs"] == 0 and "echo" not in second
    # Without a context the first token has no log-probability either way.
    async with StubServer() as srv:
        whole = await openai_on(srv, "echo-ignored").prompt_logprobs("one two three")
    assert whole.tokens == ("one", " two", " three") and whole.logprobs[0] is None


async def test_a_bos_token_the_server_added_is_not_part_of_the_text() -> None:
    async with StubServer() as srv:
        scored = await openai_on(srv, "bos-prefixed").prompt_logprobs("one two three")
        with_context = await openai_on(srv, "bos-prefixed").prompt_logprobs(("one two", " three"))
    # Predicted from BOS, the first word has a log-probability; offsets skip "<s>".
    assert scored.tokens == ("one", " two", " three")
    assert scored.logprobs == tuple(stub_token_logprob(t) for t in scored.tokens)
    assert with_context.tokens == (" three",)


async def test_a_server_that_refuses_echo_is_unsupported_not_a_bad_request() -> None:
    async with StubServer() as srv:
        with pytest.raises(UnsupportedParameterError, match="refused the request") as caught:
            await openai_on(srv, "echo-refused").prompt_logprobs("some text")
    assert caught.value.parameter == "prompt_logprobs"


async def test_the_openai_api_itself_is_chat_only() -> None:
    provider = OpenAIProvider("gpt-4o-mini", api_key=STUB_KEY)
    with pytest.raises(UnsupportedParameterError, match="sample, never for a given text"):
        await provider.prompt_logprobs("Paris is in France.")


async def test_chat_messages_and_rolling_windows_need_what_the_endpoint_lacks() -> None:
    async with StubServer() as srv:
        provider = openai_on(srv)
        with pytest.raises(UnsupportedParameterError, match="chat template"):
            await provider.prompt_logprobs(([Message("user", "Hi")], "Hello"))
        with pytest.raises(UnsupportedParameterError, match="tokenizer") as caught:
            await provider.prompt_logprobs("Hello there", rolling=True)
        assert caught.value.parameter == "rolling"
        with pytest.raises(ConfigurationError, match="non-empty"):
            await provider.prompt_logprobs(("context", ""))
        assert srv.stats.total_requests == 0


async def test_anthropic_is_chat_only() -> None:
    provider = AnthropicProvider("claude-3-5-haiku-latest", api_key=STUB_KEY)
    with pytest.raises(UnsupportedParameterError, match="LlamaCppProvider"):
        await aperplexity(provider, "Paris is in France.")


async def test_langchain_chat_models_are_chat_only() -> None:
    fake = pytest.importorskip("langchain_core.language_models.fake_chat_models")
    from promptlab.providers.langchain import LangChainProvider

    provider = LangChainProvider(fake.FakeListChatModel(responses=["ok"]))
    with pytest.raises(UnsupportedParameterError, match="prompt_logprobs"):
        await provider.prompt_logprobs("Paris is in France.")


@pytest.mark.local_server
async def test_llama_server_cannot_score_a_given_text(llama_server: object) -> None:
    # llama-server's /v1/completions ignores echo and returns logprobs of the generated
    # token only: no log-probabilities of the prompt, so nothing to score.
    provider = openai_on(llama_server, "smollm2")
    with pytest.raises(UnsupportedParameterError, match=r"as llama\.cpp's llama-server does"):
        await provider.prompt_logprobs("Paris is the capital of France.")


async def test_the_cache_wrapper_passes_scoring_to_the_real_provider(tmp_path: Path) -> None:
    from promptlab.providers.cache import CachedProvider, ResponseCache

    async with StubServer() as srv:
        provider = openai_on(srv)
        cache = ResponseCache(tmp_path / "cache.sqlite")
        wrapped = await CachedProvider(provider, cache, 0).prompt_logprobs("one two three")
        assert wrapped == await provider.prompt_logprobs("one two three")
        cache.close()
