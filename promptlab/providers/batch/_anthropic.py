"""Anthropic's Message Batches API: ``messages.batches.create`` with ``custom_id`` + ``params``.

Steps: create the batch with every request inline (no upload), poll
``processing_status`` (``in_progress``, ``canceling``, ``ended``), then stream the results
(``messages.batches.results``, a JSONL stream) and handle each result type:
``succeeded``, ``errored``, ``canceled`` and ``expired``.

The API has no metadata on a batch, so a batch created by a process that died before
writing its id down is found again by listing batches: the newest batch created after the
request file was written, holding the same number of requests, that no other record
claims. Batches are created one at a time per provider, so at most one can be unrecorded.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from promptlab.completion import CompletionRequest
from promptlab.providers.batch._api import BatchAPI, BatchResult, BatchStatus

# Errors on the vendor's side that another batch may not meet.
_RETRYABLE = {"api_error", "overloaded_error", "rate_limit_error", "timeout_error"}
# Tolerated clock difference (seconds) between this machine and the vendor.
_SKEW = 120


class AnthropicBatchAPI(BatchAPI):
    """The Message Batches API of an :class:`~promptlab.providers.anthropic.AnthropicProvider`."""

    vendor = "anthropic"

    def request_line(self, custom_id: str, request: CompletionRequest) -> dict[str, Any]:
        body = dict(self.provider.request_body(request))  # type: ignore[attr-defined]
        # The SDK call takes temperature/top_p in extra_body; a batch's params hold them.
        body.update(body.pop("extra_body", None) or {})
        return {"custom_id": custom_id, "params": body}

    async def create(self, name: str, path: Path, upload_id: str | None) -> str:
        with path.open(encoding="utf-8") as handle:
            requests = [json.loads(line) for line in handle if line.strip()]
        batch = await self.call(
            lambda: self.client().messages.batches.create(requests=requests), retry=False
        )
        return str(batch.id)

    async def find_created(
        self, name: str, count: int, since: float, claimed: set[str]
    ) -> str | None:
        async def search() -> str | None:
            async for batch in self.client().messages.batches.list(limit=100):
                created = batch.created_at.timestamp()
                if created < since - _SKEW:
                    return None  # newest first: nothing older can be ours
                total = sum(batch.request_counts.model_dump().values())
                if total == count and batch.id not in claimed:
                    return str(batch.id)
            return None

        return await self.call(search)

    async def status(self, batch_id: str) -> BatchStatus:
        batch = await self.call(lambda: self.client().messages.batches.retrieve(batch_id))
        return _status(batch)

    async def cancel(self, batch_id: str) -> BatchStatus:
        batch = await self.call(lambda: self.client().messages.batches.cancel(batch_id))
        return _status(batch)

    async def results(self, batch_id: str, status: BatchStatus) -> AsyncIterator[BatchResult]:
        stream = await self.call(lambda: self.client().messages.batches.results(batch_id))
        async for item in stream:
            yield self._result(item)

    def _result(self, item: Any) -> BatchResult:
        result = item.result
        if result.type == "succeeded":
            completion = self.provider._completion(result.message)  # type: ignore[attr-defined]
            cost = self.batch_cost(completion.usage, self.provider.model, completion.model)
            return item.custom_id, replace(completion, cost_usd=cost)
        if result.type == "errored":
            detail = result.error.error
            kind = getattr(detail, "type", "error")
            return item.custom_id, self.request_error(
                "errored", f"{detail.message} ({kind})", retryable=kind in _RETRYABLE
            )
        if result.type == "expired":
            return item.custom_id, self.request_error(
                "expired", "the request expired before the batch processed it.", retryable=True
            )
        return item.custom_id, self.request_error("canceled", "the batch was canceled.")


def _status(batch: Any) -> BatchStatus:
    return BatchStatus(
        state=batch.processing_status,
        ended=batch.processing_status == "ended",
        counts=batch.request_counts.model_dump(),
    )
