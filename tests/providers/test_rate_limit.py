"""The client-side rate limiter: requests and tokens per minute, shared by concurrent calls.

The limits are set so low that the bucket empties after a burst and the next slot is
seconds away; the tests check how many requests reached the server, not how long
anything took.
"""

from __future__ import annotations

import asyncio

import pytest

from promptlab.errors import ConfigurationError
from promptlab.providers.rate_limit import RateLimiter, estimate_tokens
from promptlab.testing.stub_server import StubServer
from tests.providers.stub_setup import anthropic_on, ask, openai_on


async def requests_reaching(srv: StubServer, count: int, limit: float = 10.0) -> int:
    """Wait until ``count`` requests arrived (or ``limit`` s), then a moment more."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while srv.stats.total_requests < count and loop.time() < deadline:
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.5)  # time for any request the limiter wrongly let through
    return srv.stats.total_requests


async def cancel(tasks: list[asyncio.Task]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def test_limits_must_be_positive() -> None:
    with pytest.raises(ConfigurationError, match="requests_per_minute=0"):
        RateLimiter(requests_per_minute=0)
    with pytest.raises(ConfigurationError, match="tokens_per_minute=-5"):
        RateLimiter(tokens_per_minute=-5)


def test_token_estimate_is_a_quarter_of_the_characters_plus_max_tokens() -> None:
    request = ask("x" * 396, max_tokens=50)  # 396 characters + "user" = 400 -> 100 tokens
    assert estimate_tokens(request) == 150
    assert estimate_tokens(ask("x" * 396, max_tokens=50, n=3)) == 100 + 150
    assert estimate_tokens(ask("x" * 396), default_max_tokens=20) == 120


@pytest.mark.parametrize("build", [openai_on, anthropic_on], ids=["openai", "anthropic"])
async def test_requests_per_minute_hold_back_a_burst(build) -> None:
    async with StubServer() as srv:
        provider = build(srv, requests_per_minute=4)
        tasks = [asyncio.create_task(provider.complete(ask())) for _ in range(7)]
        arrived = await requests_reaching(srv, 4)
        finished = sum(task.done() for task in tasks)
        await cancel(tasks)
    assert arrived == 4  # the fifth slot opens 15 s after the burst
    assert finished == 4


async def test_tokens_per_minute_hold_back_large_requests() -> None:
    async with StubServer() as srv:
        gpt = openai_on(srv, tokens_per_minute=300)
        # each request: ~4 prompt tokens + 96 max_tokens = 100 estimated tokens
        tasks = [asyncio.create_task(gpt.complete(ask("hi", max_tokens=96))) for _ in range(5)]
        arrived = await requests_reaching(srv, 3)
        await cancel(tasks)
    assert arrived == 3


async def test_native_n_counts_all_samples_against_the_token_budget() -> None:
    async with StubServer() as srv:
        gpt = openai_on(srv, tokens_per_minute=300)
        tasks = [asyncio.create_task(gpt.complete(ask("hi", max_tokens=48, n=3))) for _ in range(3)]
        arrived = await requests_reaching(srv, 2)
        await cancel(tasks)
    assert arrived == 2  # each asks for 3 x 48 output tokens


async def test_one_limiter_can_be_shared_by_two_providers() -> None:
    limiter = RateLimiter(requests_per_minute=3)
    async with StubServer() as srv:
        first = openai_on(srv, rate_limiter=limiter)
        second = anthropic_on(srv, rate_limiter=limiter)
        tasks = [asyncio.create_task(p.complete(ask())) for p in (first, second) * 3]
        arrived = await requests_reaching(srv, 3)
        await cancel(tasks)
    assert arrived == 3


def test_a_limiter_works_from_sync_code_too() -> None:
    with StubServer.in_thread() as srv:
        gpt = openai_on(srv, requests_per_minute=100)
        first = gpt.complete_sync(ask("one"))
        second = gpt.complete_sync(ask("two"))
        assert srv.stats.total_requests == 2
    assert first.text.startswith("Echo: one") and second.text.startswith("Echo: two")


def test_limits_and_a_limiter_together_are_ambiguous() -> None:
    from promptlab.providers.openai import OpenAIProvider

    with pytest.raises(ConfigurationError, match="not both"):
        OpenAIProvider(
            "m", base_url="http://127.0.0.1:1/v1", rate_limiter=RateLimiter(10),
            requests_per_minute=5,
        )  # fmt: skip
