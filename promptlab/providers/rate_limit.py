"""A client-side rate limiter: requests per minute and tokens per minute (aiolimiter).

Every concurrent call to one provider instance goes through the same :class:`RateLimiter`,
so a self-consistency run with 40 samples or an experiment with concurrency 20 stays
under the account's limits instead of collecting 429s. Pass one limiter to several
providers to share a budget between them (e.g. two models on the same API key).

Each attempt (retries included) takes one request and the request's *estimated* tokens
before it is sent: a quarter of the prompt's characters (a common rule of thumb for
English with BPE tokenizers) plus ``max_tokens``. The estimate is not corrected
afterwards with the real usage, so keep ``tokens_per_minute`` a little under the real
limit. Both buckets are leaky buckets: a full minute's budget may go out in a burst,
then capacity comes back evenly over the minute.
"""

from __future__ import annotations

import asyncio
import math

from aiolimiter import AsyncLimiter

from promptlab.completion import CompletionRequest
from promptlab.errors import ConfigurationError
from promptlab.providers.tokens import CHARS_PER_TOKEN


def estimate_tokens(request: CompletionRequest, default_max_tokens: int = 0) -> int:
    """Estimate the tokens a request will use: prompt characters / 4, plus max_tokens.

    Args:
        request: The request about to be sent.
        default_max_tokens: Output tokens to assume when ``max_tokens`` is not set.

    Returns:
        At least 1.
    """
    characters = sum(len(m.content) + len(m.role) for m in request.messages)
    prompt = math.ceil(characters / CHARS_PER_TOKEN)
    output = request.params.max_tokens or default_max_tokens
    return max(1, prompt + output * (request.params.n or 1))


class RateLimiter:
    """Requests-per-minute and tokens-per-minute limits shared by concurrent calls.

    Args:
        requests_per_minute: Most requests started per minute; None for no limit.
        tokens_per_minute: Most estimated tokens per minute; None for no limit.

    Example:
        >>> limiter = RateLimiter(requests_per_minute=500, tokens_per_minute=200_000)
        >>> provider = OpenAIProvider("gpt-4o-mini", rate_limiter=limiter)
    """

    def __init__(
        self, requests_per_minute: float | None = None, tokens_per_minute: float | None = None
    ) -> None:
        for name, value in (
            ("requests_per_minute", requests_per_minute),
            ("tokens_per_minute", tokens_per_minute),
        ):
            if value is not None and not value > 0:
                raise ConfigurationError(
                    f"{name}={value!r} is not allowed: use a number > 0, or None for no limit."
                )
        self.requests_per_minute = requests_per_minute
        self.tokens_per_minute = tokens_per_minute
        # aiolimiter buckets belong to one event loop; keep a pair per loop so the
        # limiter also works from run_sync's loop and from a notebook's loop.
        self._buckets: dict[int, tuple[asyncio.AbstractEventLoop, _Buckets]] = {}

    @property
    def enabled(self) -> bool:
        """True when at least one limit is set."""
        return self.requests_per_minute is not None or self.tokens_per_minute is not None

    async def acquire(self, tokens: int = 1) -> None:
        """Wait until one more request with ``tokens`` estimated tokens fits the limits.

        A single request estimated above ``tokens_per_minute`` waits for a whole empty
        bucket rather than failing: the server is the judge of whether it fits.
        """
        if not self.enabled:
            return
        buckets = self._for_running_loop()
        if buckets.requests is not None:
            await buckets.requests.acquire(1)
        if buckets.tokens is not None:
            await buckets.tokens.acquire(min(float(tokens), buckets.tokens.max_rate))

    def _for_running_loop(self) -> _Buckets:
        loop = asyncio.get_running_loop()
        entry = self._buckets.get(id(loop))
        if entry is None or entry[0] is not loop:
            # Forget buckets of closed loops so ids cannot be confused after reuse.
            self._buckets = {k: v for k, v in self._buckets.items() if not v[0].is_closed()}
            entry = (loop, _Buckets(self.requests_per_minute, self.tokens_per_minute))
            self._buckets[id(loop)] = entry
        return entry[1]

    def __repr__(self) -> str:
        return (
            f"RateLimiter(requests_per_minute={self.requests_per_minute!r}, "
            f"tokens_per_minute={self.tokens_per_minute!r})"
        )


class _Buckets:
    def __init__(self, rpm: float | None, tpm: float | None) -> None:
        self.requests = AsyncLimiter(rpm, 60.0) if rpm is not None else None
        self.tokens = AsyncLimiter(tpm, 60.0) if tpm is not None else None
