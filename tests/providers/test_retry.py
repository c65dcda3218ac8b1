"""RetryPolicy: what is retried, how many times, and that Retry-After is honoured."""

from __future__ import annotations

import logging
import re
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from types import SimpleNamespace

import pytest

from promptlab.errors import (
    AuthenticationError,
    ConfigurationError,
    ContextWindowExceededError,
    ProviderConnectionError,
    RateLimitError,
    ServerError,
)
from promptlab.providers.error_mapping import retry_after_seconds
from promptlab.providers.retry import RetryPolicy
from promptlab.testing.stub_server import StubServer
from tests.providers.stub_setup import anthropic_on, ask, openai_on


@pytest.mark.parametrize(
    "options",
    [
        {"max_attempts": 0},
        {"max_attempts": 1.5},
        {"max_attempts": True},  # a bool is not a count
        {"initial_wait": -1},
        {"max_retry_after": -2},
    ],
)
def test_invalid_policies_name_the_field(options) -> None:
    name = next(iter(options))
    with pytest.raises(ConfigurationError, match=name):
        RetryPolicy(**options)


def test_what_is_retried() -> None:
    policy = RetryPolicy(max_retry_after=10)
    assert policy.should_retry(RateLimitError("429", provider="p"))
    assert policy.should_retry(ServerError("503", provider="p"))
    assert policy.should_retry(ProviderConnectionError("dropped", provider="p"))
    assert not policy.should_retry(AuthenticationError("bad key", provider="p"))
    assert not policy.should_retry(ContextWindowExceededError("long", provider="p"))
    assert not policy.should_retry(ValueError("a bug, not a backend fault"))
    assert not policy.should_retry(RateLimitError("quota", provider="p", retry_after=3600))


def test_both_max_retries_and_retry_is_ambiguous() -> None:
    from promptlab.providers.openai import OpenAIProvider

    with pytest.raises(ConfigurationError, match="pass one"):
        OpenAIProvider("m", base_url="http://127.0.0.1:1/v1", max_retries=2, retry=RetryPolicy())


@pytest.mark.parametrize("build", [openai_on, anthropic_on])
async def test_transient_errors_are_retried_until_success(build) -> None:
    async with StubServer(fail_first_n=2, faults=("500", "503")) as srv:
        completion = await build(srv).complete(ask())
        assert srv.stats.total_requests == 3
        assert srv.stats.by_status == {500: 1, 503: 1, 200: 1}
    assert completion.text.startswith("Echo:")


async def test_attempts_are_bounded_by_the_policy() -> None:
    async with StubServer(fail_first_n=5, faults=("503",)) as srv:
        with pytest.raises(ServerError) as info:
            await openai_on(srv, retry=RetryPolicy(max_attempts=2, initial_wait=0.01)).complete(
                ask()
            )
        assert srv.stats.total_requests == 2
    assert info.value.status == 503


@pytest.mark.parametrize("build", [openai_on, anthropic_on])
async def test_max_retries_zero_means_one_request_the_sdk_does_not_retry_either(build) -> None:
    async with StubServer(fail_first_n=1, faults=("429",)) as srv:
        with pytest.raises(RateLimitError):
            await build(srv, max_retries=0).complete(ask())
        assert srv.stats.total_requests == 1


@pytest.mark.parametrize("build", [openai_on, anthropic_on])
async def test_retry_after_is_honoured(build, caplog) -> None:
    policy = RetryPolicy(max_attempts=2, initial_wait=0.01, max_wait=0.02, jitter=0.01)
    caplog.set_level(logging.INFO, logger="promptlab.providers.retry")
    async with StubServer(fail_first_n=1, faults=("429",), retry_after=0.4) as srv:
        start = time.monotonic()
        await build(srv, retry=policy).complete(ask())
        elapsed = time.monotonic() - start
        assert srv.stats.total_requests == 2
    waits = [float(m) for m in re.findall(r"retrying in ([\d.]+) s", caplog.text)]
    assert len(waits) == 1 and waits[0] >= 0.4  # the backoff alone would be ~0.02 s
    assert elapsed >= 0.39  # a lower bound only: sleeping never ends early


async def test_a_retry_after_beyond_the_limit_is_raised_not_waited_for() -> None:
    policy = RetryPolicy(max_retry_after=1.0)
    async with StubServer(fail_first_n=1, faults=("429",), retry_after=30) as srv:
        with pytest.raises(RateLimitError) as info:
            await openai_on(srv, retry=policy).complete(ask())
        assert srv.stats.total_requests == 1
    assert info.value.retry_after == pytest.approx(30)


def response_with(headers: dict[str, str]) -> SimpleNamespace:
    return SimpleNamespace(response=SimpleNamespace(headers=headers))


def test_retry_after_header_forms() -> None:
    assert retry_after_seconds(response_with({"retry-after": "2"})) == 2.0
    assert retry_after_seconds(response_with({"retry-after-ms": "250", "retry-after": "9"})) == 0.25
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=60), usegmt=True)
    assert 55 <= (retry_after_seconds(response_with({"retry-after": later})) or 0) <= 60
    assert retry_after_seconds(response_with({"retry-after": "soon"})) is None
    assert retry_after_seconds(response_with({})) is None
    assert retry_after_seconds(ValueError("no response")) is None
