"""llama.cpp's llama-server on 127.0.0.1, through the real OpenAI and Anthropic SDKs.

These tests pin which request parameters llama-server honours on each API, which the
providers' capability declarations rely on. When llama.cpp changes behaviour, a test here
fails and names the capability that moved.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

# Imported by name so this module works before a conftest registers the plugin.
from tests.support.llama_server import LlamaServer

anthropic = pytest.importorskip("anthropic")
openai = pytest.importorskip("openai")

pytestmark = pytest.mark.local_server

QUESTION = [{"role": "user", "content": "What is the capital of France? Answer in one sentence."}]
POEM = [{"role": "user", "content": "Write a short poem about the sea."}]
TOO_LONG = [{"role": "user", "content": "word " * 3000}]  # > 2048 tokens, one slot's context


@pytest.fixture(scope="module")
def chat(llama_server: LlamaServer) -> Iterator[Any]:
    with openai.OpenAI(base_url=llama_server.base_url, api_key="unused", max_retries=0) as client:
        yield client


@pytest.fixture(scope="module")
def messages(llama_server: LlamaServer) -> Iterator[Any]:
    with anthropic.Anthropic(
        base_url=llama_server.root_url, api_key="unused", max_retries=0
    ) as client:
        yield client


def ask(chat: Any, prompt: list[dict[str, str]] = QUESTION, **params: Any) -> Any:
    if "max_completion_tokens" not in params:
        params.setdefault("max_tokens", 24)
    params.setdefault("temperature", 0)
    return chat.chat.completions.create(model="smollm2", messages=prompt, **params)


def ask_anthropic(messages: Any, prompt: list[dict[str, str]] = QUESTION, **params: Any) -> Any:
    params.setdefault("max_tokens", 24)
    # anthropic 2.x has no temperature/top_k/seed arguments: they travel in extra_body.
    params.setdefault("extra_body", {"temperature": 0})
    return messages.messages.create(model="smollm2", messages=prompt, **params)


def test_chat_completion_returns_text_and_usage(chat: Any) -> None:
    reply = ask(chat)

    assert "Paris" in reply.choices[0].message.content
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage.prompt_tokens > 5
    assert 0 < reply.usage.completion_tokens <= 24
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens


def test_max_tokens_and_max_completion_tokens_cut_with_length(chat: Any) -> None:
    old_name = ask(chat, max_tokens=3)
    new_name = ask(chat, max_completion_tokens=3)

    for reply in (old_name, new_name):
        assert reply.choices[0].finish_reason == "length"
        assert reply.usage.completion_tokens == 3


def test_n_samples_several_choices_but_usage_counts_only_one(chat: Any) -> None:
    reply = ask(chat, POEM, n=3, temperature=1.0, max_tokens=12)

    assert [c.index for c in reply.choices] == [0, 1, 2]
    assert len({c.message.content for c in reply.choices}) > 1
    assert all(c.finish_reason == "length" for c in reply.choices)
    # Three choices of 12 tokens each, yet usage reports 12: a provider must not trust
    # usage.completion_tokens for n > 1.
    assert reply.usage.completion_tokens == 12


def test_logprobs_with_top_alternatives(chat: Any) -> None:
    reply = ask(chat, max_tokens=4, logprobs=True, top_logprobs=2)

    tokens = reply.choices[0].logprobs.content
    assert len(tokens) == reply.usage.completion_tokens == 4
    assert "".join(t.token for t in tokens) == reply.choices[0].message.content
    assert all(t.logprob <= 0 and len(t.top_logprobs) == 2 for t in tokens)


def test_stop_string_ends_the_reply_before_it(chat: Any) -> None:
    full = ask(chat).choices[0].message.content
    stopped = ask(chat, stop=["Paris"]).choices[0]

    assert "Paris" in full
    assert stopped.message.content == full[: full.index("Paris")]
    assert stopped.finish_reason == "stop"


def test_seed_reproduces_samples_and_different_seeds_differ(chat: Any) -> None:
    def sample(seed: int) -> str:
        return ask(chat, POEM, temperature=1.0, seed=seed, max_tokens=12).choices[0].message.content

    assert sample(123) == sample(123)
    assert sample(123) != sample(124)


def test_context_overflow_is_a_400_with_llama_cpp_error_type(chat: Any) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        ask(chat, TOO_LONG, max_tokens=2)

    # Not OpenAI's code "context_length_exceeded": map this type to the context error.
    assert caught.value.body["type"] == "exceed_context_size_error"
    assert caught.value.body["n_prompt_tokens"] > caught.value.body["n_ctx"]


def test_anthropic_messages_return_text_usage_and_stop_reasons(messages: Any) -> None:
    plain = ask_anthropic(messages, system="You are terse.")
    limited = ask_anthropic(messages, max_tokens=3)
    stopped = ask_anthropic(messages, stop_sequences=["Paris"])

    assert "Paris" in plain.content[0].text
    assert plain.stop_reason == "end_turn"
    assert plain.usage.output_tokens > 0
    # input_tokens leaves out prompt tokens served from the slot's cache, as Anthropic does.
    assert plain.usage.input_tokens + (plain.usage.cache_read_input_tokens or 0) > 5
    assert (limited.stop_reason, limited.usage.output_tokens) == ("max_tokens", 3)
    assert "Paris" not in stopped.content[0].text
    assert stopped.stop_sequence == "Paris"
    # Anthropic would say "stop_sequence"; llama-server says "end_turn".
    assert stopped.stop_reason == "end_turn"


def test_anthropic_honours_temperature_and_top_k_but_not_seed_or_n(messages: Any) -> None:
    def texts(extra: dict[str, Any], count: int = 3) -> set[str]:
        replies = [
            ask_anthropic(messages, POEM, max_tokens=10, extra_body=extra) for _ in range(count)
        ]
        return {r.content[0].text for r in replies}

    assert len(texts({"temperature": 0})) == 1
    assert len(texts({"temperature": 1.5, "top_k": 1})) == 1
    assert len(texts({"temperature": 1.0, "seed": 11})) > 1
    many = ask_anthropic(messages, max_tokens=5, extra_body={"temperature": 1.0, "n": 2})
    assert len(many.content) == 1


def test_anthropic_context_overflow_is_a_bad_request(messages: Any) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        ask_anthropic(messages, TOO_LONG, max_tokens=2)

    # llama-server sends its own error shape here, not Anthropic's {"type": "error", ...}.
    assert caught.value.body["error"]["type"] == "exceed_context_size_error"
