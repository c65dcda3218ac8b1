"""The retry policy shared by the HTTP backends: exponential backoff with jitter (tenacity).

A call is retried when it fails with a promptlab error whose class is marked
``retryable``: :class:`~promptlab.errors.RateLimitError` (429),
:class:`~promptlab.errors.ServerError` (5xx), :class:`~promptlab.errors.ProviderTimeoutError`,
:class:`~promptlab.errors.ProviderConnectionError` and
:class:`~promptlab.errors.ResponseFormatError`. Authentication, bad request, model not
found and context-window errors fail at once.

When the server says how long to wait (``Retry-After``), the wait is at least that long,
plus a little jitter so that many waiting requests do not all return in the same instant.
A server asking for more than ``max_retry_after`` seconds is not waited for: the
:class:`~promptlab.errors.RateLimitError` is raised with its ``retry_after``, so the
caller can decide (a quota reset an hour away should not silently hang a run).

The backends turn off their SDK's own retries (``max_retries=0``) so that attempts are
not multiplied: this policy is the only retry loop.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)
from tenacity.wait import wait_base

from promptlab._checks import is_int
from promptlab.errors import ConfigurationError, ProviderError

T = TypeVar("T")

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a backend call is retried.

    Args:
        max_attempts: Total tries, the first included; 1 turns retries off.
        initial_wait: Seconds before the first retry; doubles on each further retry.
        max_wait: Longest backoff between two attempts, in seconds.
        jitter: Up to this many random seconds are added to each wait.
        max_retry_after: A ``Retry-After`` longer than this is not waited for; the
            :class:`~promptlab.errors.RateLimitError` is raised instead.

    Example:
        >>> policy = RetryPolicy(max_attempts=5, initial_wait=1.0)
        >>> provider = OpenAIProvider("gpt-4o-mini", retry=policy)
    """

    max_attempts: int = 4
    initial_wait: float = 0.5
    max_wait: float = 20.0
    jitter: float = 0.5
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if not is_int(self.max_attempts) or self.max_attempts < 1:
            raise ConfigurationError(
                f"RetryPolicy max_attempts={self.max_attempts!r} is not allowed: use an "
                "integer >= 1 (1 means no retries)."
            )
        for name in ("initial_wait", "max_wait", "jitter", "max_retry_after"):
            value = getattr(self, name)
            if not value >= 0:
                raise ConfigurationError(
                    f"RetryPolicy {name}={value!r} is not allowed: use seconds >= 0."
                )

    @classmethod
    def from_max_retries(cls, max_retries: int) -> RetryPolicy:
        """A default policy allowing ``max_retries`` retries after the first attempt."""
        if not is_int(max_retries) or max_retries < 0:
            raise ConfigurationError(
                f"max_retries={max_retries!r} is not allowed: use an integer >= 0 "
                "(0 turns retries off)."
            )
        return cls(max_attempts=max_retries + 1)

    def should_retry(self, error: BaseException) -> bool:
        """Whether ``error`` is worth another attempt under this policy."""
        if not isinstance(error, ProviderError) or not error.retryable:
            return False
        return error.retry_after is None or error.retry_after <= self.max_retry_after

    async def call(self, attempt: Callable[[], Awaitable[T]], *, provider: str = "") -> T:
        """Await ``attempt()`` until it succeeds or the policy gives up.

        Args:
            attempt: Makes one try; must raise promptlab errors (translate SDK errors first).
            provider: Name used in the retry log messages.

        Returns:
            The first successful result.

        Raises:
            ProviderError: The last error, when it is not retryable or attempts ran out.
        """
        # Most calls succeed at once, and building tenacity's machinery costs more CPU than
        # the rest of a call's bookkeeping, so the first try runs bare. A failure is then
        # replayed to tenacity as its attempt 1, so waits, Retry-After and logs are exactly
        # those of a plain tenacity loop.
        try:
            return await attempt()
        except Exception as error:
            first_error = error
        if self.max_attempts == 1 or not self.should_retry(first_error):
            raise first_error
        replayed = False

        async def replay_first_then_attempt() -> T:
            nonlocal replayed
            if not replayed:
                replayed = True
                raise first_error
            return await attempt()

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=_BackoffHonouringRetryAfter(self),
            retry=retry_if_exception(self.should_retry),
            before_sleep=_log_retry(provider, self.max_attempts),
            reraise=True,
        )
        return await retrying(replay_first_then_attempt)


class _BackoffHonouringRetryAfter(wait_base):
    """Exponential backoff with jitter, but never shorter than the server's Retry-After."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        # Built from wait_exponential + wait_random, which every tenacity >= 8 has.
        self.backoff = wait_exponential(
            multiplier=policy.initial_wait, max=policy.max_wait
        ) + wait_random(0, policy.jitter)

    def __call__(self, retry_state: RetryCallState) -> float:
        backoff = float(self.backoff(retry_state))
        error = retry_state.outcome.exception() if retry_state.outcome else None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is None:
            return backoff
        return max(backoff, retry_after + random.uniform(0, self.policy.jitter))


def _log_retry(provider: str, max_attempts: int) -> Callable[[RetryCallState], None]:
    def log(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        logger.info(
            "%s: attempt %d of %d failed with %s; retrying in %.2f s. (%s)",
            provider or "provider",
            state.attempt_number,
            max_attempts,
            type(error).__name__,
            wait,
            error,
        )

    return log
