"""API keys: a missing key names its variable; a key never leaks into any artifact."""

from __future__ import annotations

import dataclasses
import json
import logging
import pickle
import traceback
from pathlib import Path
from typing import Any

import pytest

from promptlab.errors import (
    AuthenticationError,
    ConfigurationError,
    MissingAPIKeyError,
    ProviderError,
)
from promptlab.providers.anthropic import AnthropicProvider
from promptlab.providers.cache import CachedProvider, ResponseCache
from promptlab.providers.openai import OpenAIProvider
from promptlab.providers.retry import RetryPolicy
from promptlab.strategies import ChainOfThought, SelfConsistency
from promptlab.testing.stub_server import StubServer
from tests.providers.stub_setup import STUB_KEY, anthropic_on, ask, openai_on

aiohttp_web = pytest.importorskip("aiohttp.web")


@pytest.mark.parametrize(
    ("build", "variable"),
    [(lambda: OpenAIProvider("gpt-4o-mini"), "OPENAI_API_KEY"),
     (lambda: AnthropicProvider("claude-haiku-4-5"), "ANTHROPIC_API_KEY")],
)  # fmt: skip
def test_a_missing_key_is_an_error_at_construction_naming_the_variable(
    build, variable, monkeypatch
) -> None:
    monkeypatch.delenv(variable, raising=False)
    with pytest.raises(MissingAPIKeyError, match=variable) as info:
        build()
    assert isinstance(info.value, AuthenticationError)
    assert isinstance(info.value, ConfigurationError)
    assert "api_key=" in str(info.value)


@pytest.mark.parametrize(
    ("build", "variable"),
    [(lambda: OpenAIProvider("gpt-4o-mini"), "OPENAI_API_KEY"),
     (lambda: AnthropicProvider("claude-haiku-4-5"), "ANTHROPIC_API_KEY")],
)  # fmt: skip
def test_the_key_is_read_from_the_environment_into_the_sdk_client(
    build, variable, monkeypatch
) -> None:
    monkeypatch.setenv(variable, STUB_KEY)
    client = build()._make_client()  # the vendor SDK client the provider sends with
    assert client.api_key == STUB_KEY


def test_a_named_variable_is_required_when_given(monkeypatch) -> None:
    monkeypatch.delenv("MY_GATEWAY_KEY", raising=False)
    with pytest.raises(MissingAPIKeyError, match="MY_GATEWAY_KEY"):
        OpenAIProvider("m", base_url="https://gateway.example.com/v1", api_key_env="MY_GATEWAY_KEY")


async def test_the_openai_key_is_never_sent_to_another_server(monkeypatch) -> None:
    """A compatible server gets a placeholder, not $OPENAI_API_KEY."""
    monkeypatch.setenv("OPENAI_API_KEY", STUB_KEY)
    seen: list[str] = []

    async def refuse(request: Any) -> Any:
        seen.append(request.headers.get("Authorization", ""))
        return aiohttp_web.json_response({"error": {"message": "no"}}, status=401)

    app = aiohttp_web.Application()
    app.router.add_post("/v1/chat/completions", refuse)
    runner = aiohttp_web.AppRunner(app)
    await runner.setup()
    site = aiohttp_web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        local = OpenAIProvider("m", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
        with pytest.raises(AuthenticationError):
            await local.complete(ask())
        await local.aclose()
    finally:
        await runner.cleanup()
    assert seen and all(STUB_KEY not in header for header in seen)


async def test_the_key_appears_in_no_repr_error_log_or_saved_file(caplog, tmp_path: Path) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: promptlab, openai, anthropic, httpx
    artifacts: list[str] = []
    errors: list[ProviderError] = []
    fast = RetryPolicy(max_attempts=2, initial_wait=0.01, max_wait=0.01, jitter=0.0)
    cache = ResponseCache(tmp_path / "cache")  # the experiment runner's response cache
    async with StubServer(fail_first_n=1, faults=("429",), retry_after=0.01) as srv:
        providers = [openai_on(srv, retry=fast), anthropic_on(srv, retry=fast)]
        for provider in providers:
            artifacts += [repr(provider), str(provider)]
            for model in ("auth-error", "bad-request", "not-found", "fault-500", "fault-drop"):
                failing = type(provider)(
                    model, api_key=STUB_KEY, base_url=provider.base_url, retry=fast
                )
                with pytest.raises(ProviderError) as info:
                    await failing.complete(ask())
                errors.append(info.value)
            cached = CachedProvider(provider, cache, sample_index=0)
            result = await SelfConsistency(ChainOfThought(), n=2).arun({"question": "q"}, cached)
            artifacts.append(repr(cached))
            saved = tmp_path / f"{provider.name}.json"
            saved.write_text(json.dumps(dataclasses.asdict(result), default=str))
    unreachable = OpenAIProvider("m", api_key=STUB_KEY, base_url="http://127.0.0.1:9/v1",
                                 max_retries=0)  # fmt: skip
    with pytest.raises(ProviderError) as info:
        await unreachable.complete(ask())
    errors.append(info.value)

    for error in errors:
        artifacts += [str(error), repr(error), "".join(traceback.format_exception(error))]
        (tmp_path / f"error-{len(artifacts)}.pickle").write_bytes(pickle.dumps(error))
    artifacts.append(caplog.text)
    artifacts += [record.getMessage() for record in caplog.records]
    assert len(cache) == 2
    cache.close()
    files = [f for f in tmp_path.rglob("*") if f.is_file()]
    artifacts += [f.read_bytes().decode("latin-1") for f in files]

    assert len(errors) == 11 and len(files) >= 2 + 11 + 1
    assert caplog.records, "the SDKs' debug logging was captured"
    leaks = [a[:200] for a in artifacts if STUB_KEY in a]
    assert not leaks
