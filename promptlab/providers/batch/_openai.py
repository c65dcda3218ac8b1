"""OpenAI's Batch API: a JSONL file of ``/v1/chat/completions`` requests, uploaded, then run.

Steps: upload the request file with the Files API (``purpose="batch"``, the file named
after the batch), create the batch with ``metadata={"promptlab_batch": name}`` (so that a
batch created by a process that died before writing its id down is found again by
listing batches), poll ``batches.retrieve``, then stream the output file and the error
file and match their lines to requests by ``custom_id``.

Statuses: ``validating``, ``in_progress``, ``finalizing`` and ``cancelling`` are still
running; ``completed``, ``expired`` and ``cancelled`` have results (partial for the last
two); ``failed`` means the whole batch was rejected at validation (its ``errors`` say why).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from promptlab.completion import CompletionRequest
from promptlab.providers.batch._api import BatchAPI, BatchResult, BatchStatus

ENDPOINT = "/v1/chat/completions"
#: The metadata key that carries promptlab's name of a batch.
METADATA_KEY = "promptlab_batch"
_RUNNING = {"validating", "in_progress", "finalizing", "cancelling"}
# How far back (seconds) to list batches when looking for one created before a crash.
_LOOKBACK = 3600


class OpenAIBatchAPI(BatchAPI):
    """The Batch API of an :class:`~promptlab.providers.openai.OpenAIProvider`'s endpoint."""

    vendor = "openai"
    uploads = True

    def request_line(self, custom_id: str, request: CompletionRequest) -> dict[str, Any]:
        body = self.provider.request_body(request)  # type: ignore[attr-defined]
        return {"custom_id": custom_id, "method": "POST", "url": ENDPOINT, "body": body}

    async def upload(self, name: str, path: Path) -> str:
        async def send() -> Any:
            with path.open("rb") as handle:
                return await self.client().files.create(file=(name, handle), purpose="batch")

        uploaded = await self.call(send)
        return str(uploaded.id)

    async def find_upload(self, name: str) -> str | None:
        async def search() -> str | None:
            async for item in self.client().files.list(purpose="batch"):
                if item.filename == name:
                    return str(item.id)
            return None

        return await self.call(search)

    async def create(self, name: str, path: Path, upload_id: str | None) -> str:
        batch = await self.call(
            lambda: self.client().batches.create(
                input_file_id=upload_id,
                endpoint=ENDPOINT,
                completion_window="24h",
                metadata={METADATA_KEY: name},
            ),
            retry=False,
        )
        return str(batch.id)

    async def find_created(
        self, name: str, count: int, since: float, claimed: set[str]
    ) -> str | None:
        async def search() -> str | None:
            async for batch in self.client().batches.list(limit=100):
                if batch.created_at < since - _LOOKBACK:
                    return None  # newest first: nothing older can be ours
                mine = (batch.metadata or {}).get(METADATA_KEY) == name
                if mine and batch.id not in claimed:
                    return str(batch.id)
            return None

        return await self.call(search)

    async def status(self, batch_id: str) -> BatchStatus:
        batch = await self.call(lambda: self.client().batches.retrieve(batch_id))
        return _status(batch)

    async def cancel(self, batch_id: str) -> BatchStatus:
        batch = await self.call(lambda: self.client().batches.cancel(batch_id))
        return _status(batch)

    async def results(self, batch_id: str, status: BatchStatus) -> AsyncIterator[BatchResult]:
        for file_id in (status.files.get("output"), status.files.get("error")):
            if not file_id:
                continue
            async with self.client().files.with_streaming_response.content(file_id) as response:
                async for line in response.iter_lines():
                    if line.strip():
                        yield self._result(json.loads(line))

    def _result(self, line: dict[str, Any]) -> BatchResult:
        custom_id = str(line.get("custom_id"))
        response = line.get("response") or None
        error = line.get("error") or None
        if response is not None and response.get("status_code") == 200:
            from openai.types.chat import ChatCompletion

            completion = self.provider._completion(  # type: ignore[attr-defined]
                ChatCompletion.model_validate(response["body"])
            )
            cost = self.batch_cost(completion.usage, self.provider.model, completion.model)
            return custom_id, _with_cost(completion, cost)
        if response is not None:
            status = response.get("status_code")
            detail = (response.get("body") or {}).get("error") or {}
            message = detail.get("message") or json.dumps(response.get("body"))
            retryable = isinstance(status, int) and (status in (408, 409, 429) or status >= 500)
            return custom_id, self.request_error(
                "errored", message, status=status, retryable=retryable
            )
        code = (error or {}).get("code")
        message = (error or {}).get("message") or "the batch returned no response."
        if code == "batch_expired":
            return custom_id, self.request_error(
                "expired", f"{message} (batch_expired)", retryable=True
            )
        if code == "batch_cancelled":
            return custom_id, self.request_error("canceled", f"{message} (batch_cancelled)")
        return custom_id, self.request_error("errored", f"{message} ({code})")


def _status(batch: Any) -> BatchStatus:
    counts = batch.request_counts
    rejected = None
    if batch.status == "failed":
        errors = getattr(batch.errors, "data", None) or []
        rejected = (
            "; ".join(
                f"{e.code}: {e.message}" + (f" (line {e.line})" if e.line else "") for e in errors
            )
            or "the batch failed validation."
        )
    return BatchStatus(
        state=batch.status,
        ended=batch.status not in _RUNNING,
        counts=(
            {"total": counts.total, "completed": counts.completed, "failed": counts.failed}
            if counts is not None
            else {}
        ),
        rejected=rejected,
        files={"output": batch.output_file_id, "error": batch.error_file_id},
    )


def _with_cost(completion: Any, cost: float | None) -> Any:
    from dataclasses import replace

    return replace(completion, cost_usd=cost)
