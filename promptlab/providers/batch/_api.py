"""The contract of a vendor batch API, as the batch scheduler uses it.

A :class:`BatchAPI` wraps one provider (its SDK client, key, retry policy and prices) and
offers the steps of a batch separately, so that the caller can write down each step's
outcome before taking the next (see :mod:`promptlab.experiments.execution`):

1. :meth:`~BatchAPI.request_line` turns a request into one line of the request file;
2. :meth:`~BatchAPI.upload` sends the file, when the vendor wants one (OpenAI);
3. :meth:`~BatchAPI.create` starts the batch, labelled with the caller's name for it;
4. :meth:`~BatchAPI.status` polls it; :meth:`~BatchAPI.results` streams its results;
5. :meth:`~BatchAPI.cancel` stops it.

:meth:`~BatchAPI.find_upload` and :meth:`~BatchAPI.find_created` look a step up on the
vendor's side by that name, for a caller that died between a step and its record.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from promptlab.completion import Completion, CompletionRequest, Usage
from promptlab.errors import BatchRequestError
from promptlab.pricing import price_for
from promptlab.providers.batch._limits import BatchLimits, batch_limits
from promptlab.providers.error_mapping import translate_error
from promptlab.providers.fingerprints import safe_url
from promptlab.providers.remote import RemoteProvider

T = TypeVar("T")

#: A result: the request's custom id, then its completion or why it failed.
BatchResult = tuple[str, "Completion | BatchRequestError"]


@dataclass(frozen=True)
class BatchStatus:
    """What the vendor says about a batch.

    Attributes:
        state: The vendor's status word (``"in_progress"``, ``"completed"``, ``"ended"``...).
        ended: Results can be read (or the batch failed); no more polling is needed.
        counts: Requests per outcome, in the vendor's words.
        rejected: The vendor's reason when the whole batch failed validation, else None.
        files: Result file ids (OpenAI's ``output_file_id`` and ``error_file_id``).
    """

    state: str
    ended: bool
    counts: dict[str, int] = field(default_factory=dict)
    rejected: str | None = None
    files: dict[str, str | None] = field(default_factory=dict)


class BatchAPI(ABC):
    """One provider's batch API.

    Args:
        provider: The provider whose endpoint, key, retry policy and prices are used.
    """

    #: The key of :data:`~promptlab.providers.batch.BATCH_LIMITS`.
    vendor: str = ""
    #: Whether the request file is uploaded before the batch is created.
    uploads: bool = False

    def __init__(self, provider: RemoteProvider[Any]) -> None:
        self.provider = provider

    @property
    def limits(self) -> BatchLimits:
        """The current size limits of this vendor's batches."""
        return batch_limits(self.vendor)

    @abstractmethod
    def request_line(self, custom_id: str, request: CompletionRequest) -> dict[str, Any]:
        """One line of the request file for ``request`` (already checked by the provider)."""

    async def upload(self, name: str, path: Path) -> str:
        """Upload the request file as ``name``; return the vendor's file id."""
        raise NotImplementedError

    async def find_upload(self, name: str) -> str | None:
        """The id of an uploaded file called ``name``, if there is one."""
        return None

    @abstractmethod
    async def create(self, name: str, path: Path, upload_id: str | None) -> str:
        """Start the batch (labelled ``name`` where the vendor allows); return its id."""

    @abstractmethod
    async def find_created(
        self, name: str, count: int, since: float, claimed: set[str]
    ) -> str | None:
        """The id of a batch this caller created as ``name`` but did not record, if any.

        Args:
            name: The caller's name for the batch.
            count: How many requests it holds.
            since: Unix time just before it may have been created.
            claimed: Batch ids already recorded for other names (never returned).
        """

    @abstractmethod
    async def status(self, batch_id: str) -> BatchStatus:
        """Poll the batch."""

    @abstractmethod
    def results(self, batch_id: str, status: BatchStatus) -> AsyncIterator[BatchResult]:
        """Stream an ended batch's results, one ``(custom_id, outcome)`` at a time."""

    @abstractmethod
    async def cancel(self, batch_id: str) -> BatchStatus:
        """Ask the vendor to stop the batch."""

    def describe(self) -> dict[str, Any]:
        """How to reach this endpoint again from a run directory (never the key)."""
        p = self.provider
        base_url = getattr(p, "base_url", None)
        key_env = getattr(p, "api_key_env", None)
        described = {
            "vendor": self.vendor,
            "model": p.model,
            "name": p.name,
            # Credentials in the URL (user:password@, ?api_key=) are never written down.
            "base_url": None if base_url is None else safe_url(base_url),
            # The *name* of the key's variable; the key itself is never written down.
            "api_key_env": key_env,
        }
        if key_env is None and p._api_key is not None and not getattr(p, "official", True):
            described["key"] = "argument"  # given in code: status/cancel must be told where
        return described

    # -- shared steps ----------------------------------------------------------------------

    def client(self) -> Any:
        """The provider's SDK client for the running loop."""
        return self.provider._client()

    async def call(self, make: Callable[[], Awaitable[T]], *, retry: bool = True) -> T:
        """Await ``make()`` with SDK errors translated; retried under the provider's policy.

        ``retry=False`` for a step that must not run twice blindly (creating a batch).
        """
        name = self.provider.name

        async def attempt() -> T:
            try:
                return await make()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                raise translate_error(exc, provider=name, key_hint=self.provider._key_hint) from exc

        if not retry:
            return await attempt()
        return await self.provider.retry.call(attempt, provider=name)

    def batch_cost(self, usage: Usage, *models: str) -> float | None:
        """Dollars for ``usage`` at batch prices: the provider's own price, else the table."""
        p = self.provider
        if p.price is not None:
            return p.price.batch_cost(usage)
        for model in models:
            price = price_for(p.vendor, model) if model else None
            if price is not None:
                return price.batch_cost(usage)
        return None

    def request_error(
        self, kind: str, message: str, *, status: int | None = None, retryable: bool = False
    ) -> BatchRequestError:
        """A :class:`~promptlab.errors.BatchRequestError` of this provider."""
        return BatchRequestError(
            message, provider=self.provider.name, kind=kind, retryable=retryable, status=status
        )
