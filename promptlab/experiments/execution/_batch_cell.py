"""Batch mode's pieces around the scheduler: its options and each cell's provider.

See :mod:`promptlab.experiments.execution._batching` for how batches are sent, recorded
and collected.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from promptlab._checks import is_int
from promptlab.completion import Completion, CompletionRequest
from promptlab.errors import ConfigurationError
from promptlab.providers.base import Provider
from promptlab.providers.cache import CachedProvider, ResponseCache

if TYPE_CHECKING:
    from promptlab.experiments.execution._batching import BatchScheduler


@dataclass(frozen=True)
class BatchOptions:
    """How batch mode paces itself.

    Args:
        poll_interval: Seconds between two polls of a running batch.
        flush_after: Seconds without a new request before a partial batch is sent.
        wait: False submits the batches (and collects those already finished), then
            returns; run again to collect the rest.
        max_in_flight: Most cells of one provider waiting for batch results at once.
            Bounds memory; a run with more cells sends them in several rounds.
    """

    poll_interval: float = 30.0
    flush_after: float = 0.5
    wait: bool = True
    max_in_flight: int = 20_000

    def __post_init__(self) -> None:
        for name in ("poll_interval", "flush_after"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and value >= 0):
                raise ConfigurationError(
                    f"BatchOptions {name}={value!r} is not allowed: use seconds >= 0."
                )
        if not is_int(self.max_in_flight) or self.max_in_flight < 1:
            raise ConfigurationError(
                f"BatchOptions max_in_flight={self.max_in_flight!r} is not allowed: use an "
                "integer >= 1."
            )


class BatchCellProvider(CachedProvider):
    """A cell's provider in batch mode: the response cache, then the batch scheduler.

    Requests with ``n > 1`` to a backend without native ``n`` become ``n`` batch requests
    (sample ``i`` seeded as in a fan-out); the merged completion is cached under the
    whole request, as in direct mode, so either mode answers the other's re-run.
    """

    def __init__(
        self,
        provider: Provider,
        cache: ResponseCache | None,
        sample_index: int,
        *,
        scheduler: BatchScheduler,
        provider_name: str,
        refresh: bool = False,
    ) -> None:
        super().__init__(provider, cache, sample_index, refresh=refresh)
        self.scheduler = scheduler
        self.provider_name = provider_name

    async def _fetch(self, request: CompletionRequest, key: str) -> Completion:
        n = request.params.n or 1
        if n > 1 and not self.inner.capabilities.native_n:
            parts = await asyncio.gather(
                *(
                    self.scheduler.complete(
                        self.provider_name, _sample_key(key, i), request.for_samples(i, None)
                    )
                    for i in range(n)
                )
            )
            return Completion.merge(parts)
        return await self.scheduler.complete(self.provider_name, key, request)


def _sample_key(key: str, index: int) -> str:
    return hashlib.sha256(f"{key}:{index}".encode()).hexdigest()


def note_unbatched(names: Iterable[str]) -> None:
    """Say which providers run directly because their backend has no batch API."""
    names = list(names)
    if names:
        print(
            f"Batch mode: {', '.join(names)} {'has' if len(names) == 1 else 'have'} no batch "
            "API (only OpenAI and Anthropic do); running directly.",
            file=sys.stderr,
        )
