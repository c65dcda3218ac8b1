"""Shared setup for the HTTP backend tests: requests, and providers aimed at a server.

Every test talks to a real server on 127.0.0.1 (the stub server or llama-server) through
the vendors' real SDKs; nothing in the SDKs is mocked.
"""

from __future__ import annotations

from typing import Any

from promptlab.completion import CompletionRequest
from promptlab.messages import Message
from promptlab.params import GenerationParams
from promptlab.providers.anthropic import AnthropicProvider
from promptlab.providers.openai import OpenAIProvider
from promptlab.providers.retry import RetryPolicy

#: A key that must never show up in any artifact (see test_api_keys.py).
STUB_KEY = "sk-promptlab-test-KEY-d41d8cd98f00b204"

#: Retries without real waiting, so fault tests stay fast.
FAST_RETRY = RetryPolicy(max_attempts=3, initial_wait=0.01, max_wait=0.05, jitter=0.01)


def ask(*texts: str, system: str | None = None, **params: Any) -> CompletionRequest:
    """A request with one user turn per text (default: one question) and optional system."""
    messages = [Message("system", system)] if system else []
    messages += [Message("user", text) for text in texts or ("What is 6*7?",)]
    return CompletionRequest.of(messages, GenerationParams(**params))


def openai_on(srv: Any, model: str = "stub-model", **options: Any) -> OpenAIProvider:
    """An OpenAIProvider aimed at ``srv`` (a StubServer or LlamaServer)."""
    options.setdefault("api_key", STUB_KEY)
    if "max_retries" not in options:
        options.setdefault("retry", FAST_RETRY)
    return OpenAIProvider(model, base_url=srv.base_url, **options)


def anthropic_on(srv: Any, model: str = "stub-model", **options: Any) -> AnthropicProvider:
    """An AnthropicProvider aimed at ``srv`` (a StubServer or LlamaServer)."""
    options.setdefault("api_key", STUB_KEY)
    if "max_retries" not in options:
        options.setdefault("retry", FAST_RETRY)
    return AnthropicProvider(model, base_url=srv.root_url, **options)


def bodies(srv: Any) -> list[dict[str, Any]]:
    """The JSON bodies the stub server received, in order."""
    return [r.body for r in srv.stats.requests]


async def settled_stats(srv: Any, quiet_for: float = 0.2, limit: float = 5.0) -> Any:
    """The server's counters once no request has been recorded for ``quiet_for`` seconds.

    A client that gives up on a slow reply returns before the server notices the closed
    connection and records the request, so counts are read after things settle.
    """
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    last = srv.stats.total_requests
    while loop.time() < deadline:
        await asyncio.sleep(quiet_for)
        now = srv.stats.total_requests
        if now == last:
            break
        last = now
    return srv.stats


def paid_api_enabled() -> bool:
    """Paid-API tests run only when PROMPTLAB_PAID_TESTS=1 (they cost money)."""
    import os

    return os.environ.get("PROMPTLAB_PAID_TESTS") == "1"
