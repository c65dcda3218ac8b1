"""Server faults (429, 5xx, slow, malformed JSON, dropped connection) through the real SDKs.

Each fault is retried and then succeeds; a fault that never stops ends in the right
typed error; and under 20% random faults, 500 requests at concurrency 20 all end either
succeeded or with a typed error: none lost, none hanging, in bounded time.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from promptlab.completion import Completion
from promptlab.errors import (
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    ResponseFormatError,
    ServerError,
)
from promptlab.providers.retry import RetryPolicy
from promptlab.testing.stub_server import FAULT_KINDS, StubServer
from tests.providers.stub_setup import anthropic_on, ask, openai_on, settled_stats

#: Short enough that a "slow" reply (5 s) times out quickly.
TIMEOUT = 0.5

EXPECTED_ERROR = {
    "429": RateLimitError,
    "500": ServerError,
    "503": ServerError,
    "slow": ProviderTimeoutError,
    "malformed": ResponseFormatError,
    "drop": ProviderConnectionError,
}


@pytest.mark.parametrize("fault", FAULT_KINDS)
@pytest.mark.parametrize("build", [openai_on, anthropic_on], ids=["openai", "anthropic"])
async def test_each_fault_is_retried_then_succeeds(build, fault) -> None:
    async with StubServer(fail_first_n=1, faults=(fault,), slow_seconds=5, retry_after=0.01) as srv:
        completion = await build(srv, timeout=TIMEOUT).complete(ask())
        stats = await settled_stats(srv)
    assert stats.total_requests == 2 and stats.by_fault == {fault: 1}
    assert completion.text.startswith("Echo:")


@pytest.mark.parametrize("fault", FAULT_KINDS)
@pytest.mark.parametrize("build", [openai_on, anthropic_on], ids=["openai", "anthropic"])
async def test_a_fault_that_persists_ends_in_its_typed_error(build, fault) -> None:
    async with StubServer(slow_seconds=5, retry_after=0.01) as srv:
        provider = build(srv, model=f"fault-{fault}", timeout=TIMEOUT)
        with pytest.raises(EXPECTED_ERROR[fault]) as info:
            await provider.complete(ask())
        stats = await settled_stats(srv)
    assert stats.total_requests == provider.retry.max_attempts
    assert info.value.retryable and info.value.__cause__ is not None


@pytest.mark.parametrize("build", [openai_on, anthropic_on], ids=["openai", "anthropic"])
async def test_500_requests_at_concurrency_20_with_20_percent_faults(build) -> None:
    requests, concurrency = 500, 20
    policy = RetryPolicy(max_attempts=3, initial_wait=0.01, max_wait=0.05, jitter=0.01)
    async with StubServer(
        fault_rate=0.2, faults=FAULT_KINDS, latency=0.002, slow_seconds=5, retry_after=0.02, seed=7
    ) as srv:
        provider = build(srv, timeout=TIMEOUT, retry=policy)
        gate = asyncio.Semaphore(concurrency)

        async def one(i: int) -> Completion | ProviderError:
            async with gate:
                try:
                    return await provider.complete(ask(f"question {i}"))
                except ProviderError as error:  # anything else fails the test
                    return error

        # Bounded: a hanging request would trip this instead of stalling the suite.
        outcomes = await asyncio.wait_for(
            asyncio.gather(*(one(i) for i in range(requests))), timeout=90
        )
        await provider.aclose()
        stats = await settled_stats(srv)

    assert len(outcomes) == requests  # none lost
    succeeded = [o for o in outcomes if isinstance(o, Completion)]
    failed = [o for o in outcomes if isinstance(o, ProviderError)]
    assert len(succeeded) + len(failed) == requests
    assert all(o.text == f"Echo: question {i}\nThe answer is 42." for i, o in enumerate(outcomes)
               if isinstance(o, Completion))  # fmt: skip
    # Every failure is a retryable fault that outlasted 3 attempts (p = 0.2^3 each).
    assert all(type(e) in EXPECTED_ERROR.values() for e in failed)
    assert len(failed) < 0.03 * requests
    # Roughly one request in five met a fault, and each fault kind was seen.
    assert set(stats.by_fault) == set(FAULT_KINDS)
    faults = sum(stats.by_fault.values())
    assert 0.12 < faults / stats.total_requests < 0.28
    # Every attempt reached the server: successes plus the retries of faulted attempts.
    assert stats.total_requests == requests + faults - len(failed)
    print(f"\n{build.__name__}: {len(succeeded)} ok, {Counter(type(e).__name__ for e in failed)}")
