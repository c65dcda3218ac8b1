"""OpenAIProvider through the real openai SDK against the stub server on 127.0.0.1."""

from __future__ import annotations

import pytest

from promptlab.errors import (
    AuthenticationError,
    BadRequestError,
    ContextWindowExceededError,
    ModelNotFoundError,
    UnsupportedParameterError,
)
from promptlab.pricing import ModelPrice
from promptlab.providers.base import UnsupportedParameterWarning
from promptlab.providers.openai import OpenAIProvider, is_reasoning_model
from promptlab.strategies import ChainOfThought, SelfConsistency, ZeroShot
from promptlab.testing.stub_server import StubServer
from tests.providers.stub_setup import STUB_KEY, ask, bodies, openai_on, paid_api_enabled

pytest.importorskip("openai")


async def test_every_parameter_arrives_under_its_openai_name() -> None:
    async with StubServer() as srv:
        gpt = openai_on(srv)
        await gpt.complete(
            ask(
                temperature=0.3,
                top_p=0.9,
                frequency_penalty=0.5,
                presence_penalty=-0.5,
                seed=7,
                stop=["\n"],
                max_tokens=12,
                logprobs=True,
                top_logprobs=2,
            )
        )
        body = bodies(srv)[0]
    assert body["temperature"] == 0.3 and body["top_p"] == 0.9
    assert body["frequency_penalty"] == 0.5 and body["presence_penalty"] == -0.5
    assert body["seed"] == 7 and body["stop"] == ["\n"]
    assert body["max_tokens"] == 12 and "max_completion_tokens" not in body
    assert body["logprobs"] is True and body["top_logprobs"] == 2
    assert "n" not in body  # one sample: n is left at the server's default


async def test_unset_parameters_are_not_sent() -> None:
    async with StubServer() as srv:
        await openai_on(srv).complete(ask())
        body = bodies(srv)[0]
    assert set(body) == {"model", "messages"}


async def test_reasoning_models_get_max_completion_tokens() -> None:
    async with StubServer() as srv:
        await openai_on(srv, model="o4-mini").complete(ask(max_tokens=5))
        await openai_on(srv, model="gpt-5-mini").complete(ask(max_tokens=5))
        await openai_on(srv, model="gpt-4o", max_tokens_field="max_completion_tokens").complete(
            ask(max_tokens=5)
        )
        sent = bodies(srv)
    assert all(b["max_completion_tokens"] == 5 and "max_tokens" not in b for b in sent)


def test_official_api_uses_max_completion_tokens_and_reasoning_rules() -> None:
    gpt = OpenAIProvider("gpt-4o-mini", api_key=STUB_KEY)
    assert gpt.request_body(ask(max_tokens=9))["max_completion_tokens"] == 9
    assert is_reasoning_model("o3") and is_reasoning_model("gpt-5")
    assert is_reasoning_model("gpt-5.4-mini") and is_reasoning_model("gpt-6-sol")
    assert not is_reasoning_model("gpt-5-chat-latest") and not is_reasoning_model("gpt-4.1")
    assert not is_reasoning_model("gpt-5.3-chat-latest")


def test_more_than_four_stop_sequences_is_a_clear_error_before_sending() -> None:
    gpt = OpenAIProvider("gpt-4o-mini", api_key=STUB_KEY)  # official API: nothing is sent
    with pytest.raises(UnsupportedParameterError, match="5 stop sequences given, at most 4"):
        gpt.complete_sync(ask(stop=["a", "b", "c", "d", "e"]))


async def test_drop_mode_keeps_the_first_four_stop_sequences() -> None:
    async with StubServer() as srv:
        gpt = openai_on(srv, on_unsupported="drop", capabilities=None)
        gpt.capabilities = OpenAIProvider("gpt-4o", api_key=STUB_KEY).capabilities
        with pytest.warns(UnsupportedParameterWarning, match="stop"):
            await gpt.complete(ask(stop=["a", "b", "c", "d", "e"]))
        assert bodies(srv)[0]["stop"] == ["a", "b", "c", "d"]


def test_reasoning_models_on_the_official_api_refuse_temperature_before_sending() -> None:
    o3 = OpenAIProvider("o3-mini", api_key=STUB_KEY)
    with pytest.raises(UnsupportedParameterError, match="temperature"):
        o3.complete_sync(ask(temperature=0.2))


async def test_native_n_is_one_request_with_n_choices() -> None:
    reply = lambda messages, params: f"sample {params['choice_index']}"  # noqa: E731
    async with StubServer(reply=reply) as srv:
        completion = await openai_on(srv).complete(ask(n=4, temperature=0.9))
        assert srv.stats.total_requests == 1
        assert bodies(srv)[0]["n"] == 4
    assert completion.texts == ["sample 0", "sample 1", "sample 2", "sample 3"]
    assert [c.index for c in completion.choices] == [0, 1, 2, 3]
    assert completion.calls == 1


async def test_native_n_off_sends_n_requests() -> None:
    async with StubServer() as srv:
        completion = await openai_on(srv, native_n=False).complete(ask(n=3, seed=10))
        sent = bodies(srv)
    assert len(sent) == 3 and all("n" not in b for b in sent)
    assert sorted(b["seed"] for b in sent) == [10, 11, 12]
    assert len(completion.choices) == 3 and completion.calls == 3


async def test_logprobs_become_token_logprobs_with_alternatives() -> None:
    async with StubServer(reply=lambda m, p: "forty two") as srv:
        completion = await openai_on(srv).complete(ask(logprobs=True, top_logprobs=3))
    logprobs = completion.choices[0].logprobs
    assert logprobs is not None
    assert [t.token for t in logprobs] == ["forty", " two"]
    assert all(t.logprob <= 0 and len(t.top) == 3 for t in logprobs)
    assert logprobs[0].top[0][0] == "forty"


async def test_usage_and_cached_prompt_tokens_are_reported() -> None:
    async with StubServer(reply=lambda m, p: "one two three") as srv:
        gpt = openai_on(srv)
        first = await gpt.complete(ask("alpha beta gamma", system="You are terse."))
        again = await gpt.complete(ask("alpha beta gamma", system="You are terse."))
    assert (first.usage.input_tokens, first.usage.output_tokens) == (6, 3)
    assert first.usage.cached_input_tokens == 0
    assert again.usage.cached_input_tokens == 6  # the whole prompt was seen before


async def test_cost_uses_the_given_price_and_is_zero_on_loopback() -> None:
    price = ModelPrice(input_per_million=2.0, output_per_million=10.0, cached_input_per_million=1.0)
    async with StubServer(reply=lambda m, p: "one two three") as srv:
        priced = await openai_on(srv, price=price).complete(ask("a b c d"))
        local = await openai_on(srv).complete(ask("a b c d"))
    assert priced.cost_usd == pytest.approx((4 * 2.0 + 3 * 10.0) / 1e6)
    assert local.cost_usd == 0.0


def test_a_remote_compatible_server_without_a_price_has_unknown_cost() -> None:
    remote = OpenAIProvider("qwen", base_url="https://llm.example.com/v1")
    from promptlab.completion import Usage

    assert remote._cost(Usage(10, 10), "qwen") is None


@pytest.mark.parametrize(
    ("model", "error"),
    [
        ("auth-error", AuthenticationError),
        ("bad-request", BadRequestError),
        ("not-found", ModelNotFoundError),
        ("context-exceeded", ContextWindowExceededError),
    ],
)
async def test_non_retryable_errors_fail_at_once_with_the_right_type(model, error) -> None:
    async with StubServer() as srv:
        with pytest.raises(error) as info:
            await openai_on(srv, model=model).complete(ask())
        assert srv.stats.total_requests == 1  # no retry
    assert type(info.value) is error
    assert info.value.provider == "openai-compatible" and info.value.status in (400, 401, 404)
    assert info.value.__cause__ is not None  # chained to the SDK exception


async def test_self_consistency_uses_one_request_with_native_n() -> None:
    reply = lambda m, p: f"Reasoning... The answer is {40 + p['choice_index'] % 2 * 2}."  # noqa: E731
    async with StubServer(reply=reply) as srv:
        sc = SelfConsistency(ChainOfThought(extractor="numeric"), n=5)
        result = await sc.arun({"question": "What is 6*7?"}, openai_on(srv))
        assert srv.stats.total_requests == 1
        assert bodies(srv)[0]["n"] == 5
    assert len(result.samples) == 5
    assert result.answer == "40"  # choices 0, 2, 4 say 40; 1 and 3 say 42
    assert result.cost_usd == 0.0


async def test_zero_shot_runs_through_the_provider() -> None:
    async with StubServer(reply=lambda m, p: "The answer is 42.") as srv:
        result = await ZeroShot(extractor="numeric").arun({"question": "6*7?"}, openai_on(srv))
    assert result.answer == "42" and result.usage.output_tokens == 4


def test_repr_names_model_and_url_only() -> None:
    gpt = OpenAIProvider("gpt-4o-mini", api_key=STUB_KEY)
    assert repr(gpt) == "OpenAIProvider(model='gpt-4o-mini', name='openai')"


async def test_a_server_that_ignores_n_gets_the_missing_samples_requested(caplog) -> None:
    """Like llama-server and Ollama: n is accepted, one choice comes back."""
    from aiohttp import web

    from promptlab.testing.stub_payloads import openai_completion

    received: list[dict] = []

    async def one_choice_only(request: web.Request) -> web.Response:
        body = await request.json()
        received.append(body)
        reply = lambda m, p: f"seed {body.get('seed')}"  # noqa: E731
        return web.json_response(openai_completion({**body, "n": 1}, reply, "x", 0))

    app = web.Application()
    app.router.add_post("/v1/chat/completions", one_choice_only)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        gpt = OpenAIProvider(
            "m", base_url=f"http://127.0.0.1:{runner.addresses[0][1]}/v1", max_retries=0
        )
        first = await gpt.complete(ask(n=3, seed=100))
        assert "native_n=False" in caplog.text
        second = await gpt.complete(ask(n=2, seed=5))
    finally:
        await runner.cleanup()
    assert first.texts == ["seed 100", "seed 101", "seed 102"]
    assert [c.index for c in first.choices] == [0, 1, 2] and first.calls == 3
    assert first.usage.output_tokens == 3 * 2
    assert received[0]["n"] == 3 and all("n" not in b for b in received[1:3])
    # Having learned, the provider no longer asks for n: two plain requests.
    assert second.texts == ["seed 5", "seed 6"] and all("n" not in b for b in received[3:])
    assert len(received) == 5


@pytest.mark.paid_api
@pytest.mark.skipif(not paid_api_enabled(), reason="paid API: set PROMPTLAB_PAID_TESTS=1")
async def test_the_real_openai_api_samples_natively_and_reports_cost() -> None:
    gpt = OpenAIProvider("gpt-4o-mini", max_retries=2)  # key from OPENAI_API_KEY
    completion = await gpt.complete(ask("Say OK.", max_tokens=5, n=2, logprobs=True, seed=1))
    assert len(completion.choices) == 2 and completion.calls == 1
    assert completion.choices[0].logprobs
    assert completion.usage.input_tokens > 0 and completion.cost_usd is not None
    assert completion.cost_usd > 0


async def _serve_json(payload: object):
    """A server answering every chat request with ``payload`` (status 200)."""
    from aiohttp import web

    async def answer(request: web.Request) -> web.Response:
        return web.json_response(payload)

    app = web.Application()
    app.router.add_post("/v1/chat/completions", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/v1"


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"choices": "none"},
        {"choices": [{"message": {"content": "hi"}, "logprobs": {"content": [{"token": "h"}]}}]},
    ],
    ids=["a list", "choices not a list", "a logprob without its value"],
)
async def test_a_reply_without_the_chat_completions_shape_is_a_format_error(payload) -> None:
    from promptlab.errors import ResponseFormatError

    runner, url = await _serve_json(payload)
    try:
        with pytest.raises(ResponseFormatError, match="Chat Completions shape"):
            await OpenAIProvider("m", base_url=url, max_retries=0).complete(ask())
    finally:
        await runner.cleanup()


async def test_the_json_reply_and_the_sdks_model_read_the_same() -> None:
    """Replies are read from their JSON; batch results pass the SDK's model: same result."""
    from openai.types.chat import ChatCompletion

    from promptlab.testing.stub_payloads import openai_completion

    body = {"model": "m", "messages": [{"role": "user", "content": "q"}], "n": 2}
    body.update(logprobs=True, top_logprobs=2)
    reply = openai_completion(body, lambda messages, params: "Answer: 7", "x", 3)
    runner, url = await _serve_json(reply)
    try:
        gpt = OpenAIProvider("m", base_url=url, max_retries=0)
        sent = await gpt.complete(ask(n=2, logprobs=True, top_logprobs=2))
    finally:
        await runner.cleanup()
    read = gpt._completion(ChatCompletion.model_validate(reply))
    assert sent.texts == ["Answer: 7", "Answer: 7"] and sent.choices[0].logprobs
    assert sent.choices[0].logprobs[0].top
    assert (sent.choices, sent.usage, sent.model) == (read.choices, read.usage, read.model)
    assert sent.usage.cached_input_tokens == read.usage.cached_input_tokens
