"""The stub server, driven by the real OpenAI and Anthropic SDKs over 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import urllib.request
from collections.abc import Sequence
from typing import Any

import aiohttp
import pytest

from promptlab.errors import ConfigurationError
from promptlab.testing.stub_server import StubServer

anthropic = pytest.importorskip("anthropic")
openai = pytest.importorskip("openai")

OPENAI_KEY = "sk-stub-SECRET-openai-0123456789"
ANTHROPIC_KEY = "sk-ant-stub-SECRET-anthropic-0123456789"
QUESTION = [{"role": "user", "content": "What is 6*7?"}]


def openai_client(srv: StubServer, **options: Any) -> Any:
    return openai.AsyncOpenAI(base_url=srv.base_url, api_key=OPENAI_KEY, max_retries=0, **options)


def anthropic_client(srv: StubServer, **options: Any) -> Any:
    return anthropic.AsyncAnthropic(
        base_url=srv.root_url, api_key=ANTHROPIC_KEY, max_retries=0, **options
    )


async def ask_openai(srv: StubServer, model: str = "stub-model", **params: Any) -> Any:
    async with openai_client(srv) as client:
        return await client.chat.completions.create(model=model, messages=QUESTION, **params)


async def ask_anthropic(srv: StubServer, model: str = "stub-model", **params: Any) -> Any:
    params.setdefault("max_tokens", 64)
    async with anthropic_client(srv) as client:
        return await client.messages.create(model=model, messages=QUESTION, **params)


async def test_openai_returns_n_choices_and_usage_in_one_request() -> None:
    async with StubServer() as srv:
        reply = await ask_openai(srv, n=5, temperature=0.7, seed=3)

    assert [c.index for c in reply.choices] == [0, 1, 2, 3, 4]
    assert reply.choices[0].message.content == "Echo: What is 6*7?\nThe answer is 42."
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage.prompt_tokens == 3
    assert reply.usage.completion_tokens == 5 * 8
    assert reply.usage.total_tokens == 3 + 40
    assert reply.usage.prompt_tokens_details.cached_tokens == 0
    assert srv.stats.by_endpoint == {"/v1/chat/completions": 1}
    assert srv.stats.requests[0].body["n"] == 5


async def test_repeated_prompt_prefix_is_reported_as_cached_tokens() -> None:
    async with StubServer() as srv:
        await ask_openai(srv)
        again = await ask_openai(srv)

    assert again.usage.prompt_tokens_details.cached_tokens == again.usage.prompt_tokens == 3


async def test_reply_callable_sees_messages_params_and_choice_index() -> None:
    def reply(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
        return f"{messages[-1]['content']} #{params['choice_index']} t={params['temperature']}"

    async with StubServer(reply=reply) as srv:
        answer = await ask_openai(srv, n=2, temperature=0.5)

    texts = [c.message.content for c in answer.choices]
    assert texts == ["What is 6*7? #0 t=0.5", "What is 6*7? #1 t=0.5"]


async def test_openai_stop_truncates_and_max_tokens_cuts_with_length() -> None:
    async with StubServer() as srv:
        stopped = await ask_openai(srv, stop=["\n", "zzz"])
        limited = await ask_openai(srv, max_tokens=2)
        limited_new = await ask_openai(srv, max_completion_tokens=3)

    assert stopped.choices[0].message.content == "Echo: What is 6*7?"
    assert stopped.choices[0].finish_reason == "stop"
    assert limited.choices[0].message.content == "Echo: What"
    assert limited.choices[0].finish_reason == "length"
    assert limited.usage.completion_tokens == 2
    assert limited_new.choices[0].message.content == "Echo: What is"


async def test_openai_logprobs_cover_the_text_with_top_alternatives() -> None:
    async with StubServer() as srv:
        plain = await ask_openai(srv)
        scored = await ask_openai(srv, logprobs=True, top_logprobs=2)

    assert plain.choices[0].logprobs is None
    tokens = scored.choices[0].logprobs.content
    assert "".join(t.token for t in tokens) == "Echo: What is 6*7?\nThe answer is 42."
    assert all(t.logprob <= 0 and len(t.top_logprobs) == 2 for t in tokens)
    assert all(t.top_logprobs[0].logprob >= t.top_logprobs[1].logprob for t in tokens)


async def test_anthropic_message_has_text_usage_and_stop_reasons() -> None:
    async with StubServer() as srv:
        plain = await ask_anthropic(srv, system="Be brief.")
        stopped = await ask_anthropic(srv, stop_sequences=["\n"])
        limited = await ask_anthropic(srv, max_tokens=2)

    assert plain.content[0].text == "Echo: What is 6*7?\nThe answer is 42."
    assert (plain.stop_reason, plain.usage.input_tokens, plain.usage.output_tokens) == (
        "end_turn",
        3 + 2,
        8,
    )
    assert (stopped.content[0].text, stopped.stop_reason) == ("Echo: What is 6*7?", "stop_sequence")
    assert stopped.stop_sequence == "\n"
    assert (limited.content[0].text, limited.stop_reason) == ("Echo: What", "max_tokens")
    assert srv.stats.by_endpoint == {"/v1/messages": 3}


@pytest.mark.parametrize(
    ("model", "error", "status", "code"),
    [
        ("auth-error", "AuthenticationError", 401, "invalid_api_key"),
        ("bad-request", "BadRequestError", 400, None),
        ("not-found", "NotFoundError", 404, "model_not_found"),
        ("context-exceeded", "BadRequestError", 400, "context_length_exceeded"),
    ],
)
async def test_error_models_raise_the_matching_openai_exception(
    model: str, error: str, status: int, code: str | None
) -> None:
    async with StubServer() as srv:
        with pytest.raises(getattr(openai, error)) as caught:
            await ask_openai(srv, model=model)

    assert caught.value.status_code == status
    assert caught.value.code == code
    assert caught.value.body["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("model", "error", "status", "kind"),
    [
        ("auth-error", "AuthenticationError", 401, "authentication_error"),
        ("bad-request", "BadRequestError", 400, "invalid_request_error"),
        ("not-found", "NotFoundError", 404, "not_found_error"),
        ("context-exceeded", "BadRequestError", 400, "invalid_request_error"),
    ],
)
async def test_error_models_raise_the_matching_anthropic_exception(
    model: str, error: str, status: int, kind: str
) -> None:
    async with StubServer() as srv:
        with pytest.raises(getattr(anthropic, error)) as caught:
            await ask_anthropic(srv, model=model)

    assert caught.value.status_code == status
    assert caught.value.body["error"]["type"] == kind
    if model == "context-exceeded":
        assert "prompt is too long" in caught.value.body["error"]["message"]


async def test_context_window_turns_long_prompts_into_context_errors() -> None:
    async with StubServer(context_window=2) as srv:
        with pytest.raises(openai.BadRequestError) as caught:
            await ask_openai(srv)

    assert caught.value.code == "context_length_exceeded"


async def test_rate_limit_carries_retry_after_for_both_vendors() -> None:
    async with StubServer(fail_first_n=2, faults=("429",), retry_after=1.5) as srv:
        with pytest.raises(openai.RateLimitError) as from_openai:
            await ask_openai(srv)
        with pytest.raises(anthropic.RateLimitError) as from_anthropic:
            await ask_anthropic(srv)

    for caught in (from_openai, from_anthropic):
        assert caught.value.response.headers["Retry-After"] == "1.5"
        assert caught.value.response.headers["retry-after-ms"] == "1500"


async def test_server_errors_map_to_internal_server_error() -> None:
    async with StubServer(fail_first_n=2, faults=("500", "503")) as srv:
        with pytest.raises(openai.InternalServerError) as first:
            await ask_openai(srv)
        with pytest.raises(anthropic.InternalServerError) as second:
            await ask_anthropic(srv)

    assert (first.value.status_code, second.value.status_code) == (500, 503)


async def test_malformed_body_and_dropped_connection_fail_in_the_sdk() -> None:
    async with StubServer() as srv:
        # Both SDKs let the JSON decoder's error through for a 200 with a broken body.
        with pytest.raises(json.JSONDecodeError):
            await ask_openai(srv, model="fault-malformed")
        with pytest.raises(json.JSONDecodeError):
            await ask_anthropic(srv, model="fault-malformed")
        with pytest.raises(openai.APIConnectionError):
            await ask_openai(srv, model="fault-drop")
        with pytest.raises(anthropic.APIConnectionError):
            await ask_anthropic(srv, model="fault-drop")

    assert srv.stats.by_fault == {"malformed": 2, "drop": 2}
    assert [r.status for r in srv.stats.requests] == [200, 200, None, None]


async def test_slow_reply_exceeds_the_client_timeout() -> None:
    async with (
        StubServer(fail_first_n=1, faults=("slow",), slow_seconds=5) as srv,
        openai_client(srv, timeout=0.3) as client,
    ):
        with pytest.raises(openai.APITimeoutError):
            await client.chat.completions.create(model="stub-model", messages=QUESTION)
        after = await client.chat.completions.create(model="stub-model", messages=QUESTION)

    assert after.choices[0].finish_reason == "stop"


async def fault_pattern(seed: int, requests: int = 24) -> list[str | None]:
    async with (
        StubServer(fault_rate=0.5, faults=("500", "503"), seed=seed) as srv,
        openai_client(srv) as client,
    ):
        for _ in range(requests):
            with contextlib.suppress(openai.InternalServerError):
                await client.chat.completions.create(model="stub-model", messages=QUESTION)
        return [r.fault for r in srv.stats.requests]


async def test_fault_rate_with_a_seed_is_reproducible() -> None:
    first, again, other = await fault_pattern(7), await fault_pattern(7), await fault_pattern(8)

    assert first == again
    assert first != other
    assert {None, "500", "503"} <= set(first)


async def test_fail_first_n_cycles_through_faults_then_succeeds() -> None:
    async with StubServer(fail_first_n=3, faults=("429", "500")) as srv:
        outcomes: list[str] = []
        for _ in range(5):
            try:
                await ask_openai(srv)
                outcomes.append("ok")
            except openai.APIStatusError as exc:
                outcomes.append(str(exc.status_code))

    assert outcomes == ["429", "500", "429", "ok", "ok"]
    assert srv.stats.by_status == {429: 2, 500: 1, 200: 2}


async def test_counters_count_requests_per_endpoint_and_status() -> None:
    async with StubServer() as srv:
        await ask_openai(srv)
        await ask_anthropic(srv)
        with pytest.raises(openai.NotFoundError):
            await ask_openai(srv, model="not-found")
        async with openai_client(srv) as client:
            models = await client.models.list()
        srv.reset_stats()
        await ask_openai(srv)
        stats = srv.stats

    assert [m.id for m in models.data] == ["stub-model"]
    assert stats.total_requests == 1
    assert stats.by_endpoint == {"/v1/chat/completions": 1}


async def test_api_key_values_never_reach_recorded_data() -> None:
    async with StubServer() as srv:
        await ask_openai(srv)
        await ask_anthropic(srv)
        async with aiohttp.ClientSession() as session:
            await session.post(f"{srv.base_url}/chat/completions", json={"messages": QUESTION})
        async with aiohttp.ClientSession() as session:
            response = await session.get(f"{srv.root_url}/_stub/stats?bodies=1")
            published = await response.text()
        recorded = repr(srv.stats)

    assert [r.had_api_key for r in srv.stats.requests] == [True, True, False]
    for text in (recorded, published):
        assert OPENAI_KEY not in text and ANTHROPIC_KEY not in text
        assert "SECRET" not in text


async def test_invalid_json_body_gets_a_400_in_the_vendor_shape() -> None:
    async with StubServer() as srv, aiohttp.ClientSession() as session:
        response = await session.post(f"{srv.root_url}/v1/messages", data=b"{not json")
        payload = await response.json()

    assert response.status == 400
    assert payload["type"] == "error"
    assert payload["error"]["type"] == "invalid_request_error"


async def test_server_shuts_itself_down_after_max_lifetime() -> None:
    async with StubServer(max_lifetime=0.2) as srv:
        await asyncio.wait_for(srv.wait_closed(), timeout=10)
        with pytest.raises(openai.APIConnectionError):
            await ask_openai(srv)

    assert srv.expired


def test_in_thread_server_serves_synchronous_clients() -> None:
    with StubServer.in_thread(fail_first_n=1, faults=("429",), retry_after=0.05) as srv:
        client = openai.OpenAI(base_url=srv.base_url, api_key=OPENAI_KEY, max_retries=1)
        with client:
            reply = client.chat.completions.create(model="stub-model", messages=QUESTION)

    assert reply.choices[0].message.content.endswith("The answer is 42.")
    assert srv.stats.by_status == {429: 1, 200: 1}


def test_command_line_server_prints_its_url_and_serves() -> None:
    command: Sequence[str] = [
        sys.executable,
        "-m",
        "promptlab.testing.stub_server",
        "--port",
        "0",
        "--max-lifetime",
        "60",
    ]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            with urllib.request.urlopen(f"{url}/v1/models", timeout=10) as response:
                models = json.load(response)
            with urllib.request.urlopen(f"{url}/_stub/stats", timeout=10) as response:
                stats = json.load(response)
        finally:
            process.terminate()
        assert process.wait(timeout=10) == 0

    assert url.startswith("http://127.0.0.1:")
    assert models["data"][0]["id"] == "stub-model"
    assert stats["by_endpoint"] == {"/v1/models": 1}


@pytest.mark.parametrize(
    ("option", "value"),
    [("fault_rate", 1.5), ("faults", ("418",)), ("latency", -1), ("max_lifetime", 0)],
)
def test_invalid_settings_name_the_field(option: str, value: object) -> None:
    with pytest.raises(ConfigurationError, match=option):
        StubServer(**{option: value})
