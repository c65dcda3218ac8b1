"""AnthropicProvider through the real anthropic SDK against the stub server on 127.0.0.1."""

from __future__ import annotations

import pytest

from promptlab.errors import (
    AuthenticationError,
    BadRequestError,
    ContextWindowExceededError,
    ModelNotFoundError,
    UnsupportedParameterError,
)
from promptlab.providers.anthropic import (
    DEFAULT_MAX_TOKENS,
    AnthropicProvider,
    anthropic_capabilities,
    sampling_rule,
)
from promptlab.providers.base import UnsupportedParameterWarning
from promptlab.strategies import ChainOfThought, SelfConsistency
from promptlab.testing.stub_server import StubServer
from tests.providers.stub_setup import STUB_KEY, anthropic_on, ask, bodies, paid_api_enabled

pytest.importorskip("anthropic")


async def test_system_stop_and_sampling_arrive_in_messages_api_form() -> None:
    async with StubServer() as srv:
        claude = anthropic_on(srv)
        await claude.complete(
            ask("first", "second", system="Be terse.", stop=["END"], temperature=0.2, max_tokens=30)
        )
        body = bodies(srv)[0]
    assert body["system"] == "Be terse."
    assert [m["role"] for m in body["messages"]] == ["user", "user"]
    assert body["stop_sequences"] == ["END"]
    assert body["temperature"] == 0.2  # sent through extra_body, merged into the JSON
    assert body["max_tokens"] == 30
    assert "top_p" not in body and "stop" not in body


async def test_max_tokens_defaults_because_the_api_requires_it() -> None:
    async with StubServer() as srv:
        await anthropic_on(srv).complete(ask())
        await anthropic_on(srv, default_max_tokens=77).complete(ask())
        sent = bodies(srv)
    assert [b["max_tokens"] for b in sent] == [DEFAULT_MAX_TOKENS, 77]


async def test_n_becomes_concurrent_requests() -> None:
    async with StubServer() as srv:
        completion = await anthropic_on(srv).complete(ask(n=3, temperature=1.0))
        assert srv.stats.total_requests == 3
    assert len(completion.choices) == 3 and completion.calls == 3
    assert [c.index for c in completion.choices] == [0, 1, 2]
    assert completion.usage.output_tokens == 3 * 8


async def test_self_consistency_sends_one_request_per_sample() -> None:
    async with StubServer(reply=lambda m, p: "Thinking. The answer is 42.") as srv:
        sc = SelfConsistency(ChainOfThought(extractor="numeric"), n=4)
        result = await sc.arun({"question": "6*7?"}, anthropic_on(srv))
        assert srv.stats.total_requests == 4
    assert result.answer == "42" and len(result.samples) == 4


@pytest.mark.parametrize("parameter", ["frequency_penalty", "presence_penalty", "seed", "logprobs"])
def test_unsupported_parameters_are_a_clear_error_before_sending(parameter) -> None:
    claude = AnthropicProvider("claude-3-5-haiku-latest", api_key=STUB_KEY)
    value = True if parameter == "logprobs" else 1
    with pytest.raises(UnsupportedParameterError, match=parameter):
        claude.complete_sync(ask(**{parameter: value}))


async def test_drop_mode_sends_the_request_without_the_penalty() -> None:
    async with StubServer() as srv:
        claude = anthropic_on(srv, on_unsupported="drop")
        with pytest.warns(UnsupportedParameterWarning, match="frequency_penalty"):
            await claude.complete(ask(frequency_penalty=0.5, temperature=0.1))
        body = bodies(srv)[0]
    assert "frequency_penalty" not in body and body["temperature"] == 0.1


@pytest.mark.parametrize(
    ("model", "rule"),
    [
        ("claude-3-5-haiku-20241022", "both"),
        ("claude-3-7-sonnet-latest", "both"),
        ("claude-sonnet-4-20250514", "both"),
        ("claude-opus-4-1-20250805", "either"),
        ("claude-sonnet-4-5", "either"),
        ("claude-haiku-4-5-20251001", "either"),
        ("claude-opus-4-7", "none"),
        ("claude-fable-5", "none"),
        ("claude-sonnet-5-5", "none"),
        ("claude-mythos-preview", "none"),
        ("stub-model", "both"),
    ],
)
def test_sampling_rule_by_model(model, rule) -> None:
    assert sampling_rule(model) == rule
    capabilities = anthropic_capabilities(model)
    assert capabilities.temperature is (rule != "none")
    assert not capabilities.native_n and not capabilities.penalties


def test_models_accepting_one_sampling_setting_refuse_both_before_sending() -> None:
    claude = AnthropicProvider("claude-sonnet-4-5", api_key=STUB_KEY)
    with pytest.raises(UnsupportedParameterError, match="temperature or top_p, not both"):
        claude.complete_sync(ask(temperature=0.5, top_p=0.9))


async def test_drop_mode_keeps_temperature_and_drops_top_p_for_such_models() -> None:
    async with StubServer() as srv:
        claude = anthropic_on(srv, model="claude-sonnet-4-6", on_unsupported="drop")
        with pytest.warns(UnsupportedParameterWarning, match="top_p"):
            await claude.complete(ask(temperature=0.5, top_p=0.9))
        body = bodies(srv)[0]
    assert body["temperature"] == 0.5 and "top_p" not in body


def test_newest_models_refuse_temperature_before_sending() -> None:
    claude = AnthropicProvider("claude-opus-4-7", api_key=STUB_KEY)
    with pytest.raises(UnsupportedParameterError, match="temperature"):
        claude.complete_sync(ask(temperature=0.0))


async def test_stop_reasons_are_normalised() -> None:
    async with StubServer(reply=lambda m, p: "one two three four") as srv:
        claude = anthropic_on(srv)
        cut = await claude.complete(ask(max_tokens=2))
        stopped = await claude.complete(ask(stop=["three"]))
        ended = await claude.complete(ask())
    assert (cut.text, cut.choices[0].finish_reason) == ("one two", "length")
    assert (stopped.text, stopped.choices[0].finish_reason) == ("one two ", "stop")
    assert ended.choices[0].finish_reason == "stop"


async def test_usage_counts_the_system_prompt() -> None:
    async with StubServer(reply=lambda m, p: "one two three") as srv:
        completion = await anthropic_on(srv).complete(ask("a b", system="c d e"))
    assert completion.usage.input_tokens == 5 and completion.usage.output_tokens == 3
    assert completion.cost_usd == 0.0  # a loopback server is free


@pytest.mark.parametrize(
    ("model", "error", "status"),
    [
        ("auth-error", AuthenticationError, 401),
        ("bad-request", BadRequestError, 400),
        ("not-found", ModelNotFoundError, 404),
        ("context-exceeded", ContextWindowExceededError, 400),
    ],
)
async def test_non_retryable_errors_fail_at_once(model, error, status) -> None:
    async with StubServer() as srv:
        with pytest.raises(error) as info:
            await anthropic_on(srv, model=model).complete(ask())
        assert srv.stats.total_requests == 1
    assert type(info.value) is error and info.value.status == status


@pytest.mark.paid_api
@pytest.mark.skipif(not paid_api_enabled(), reason="paid API: set PROMPTLAB_PAID_TESTS=1")
async def test_the_real_anthropic_api_honours_temperature_and_reports_cost() -> None:
    claude = AnthropicProvider("claude-haiku-4-5", max_retries=2)  # key: ANTHROPIC_API_KEY
    completion = await claude.complete(ask("Say OK.", system="Be brief.", temperature=0, n=2))
    assert len(completion.choices) == 2 and completion.calls == 2
    assert completion.usage.input_tokens > 0 and completion.cost_usd is not None
    assert completion.cost_usd > 0
