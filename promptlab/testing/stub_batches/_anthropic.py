"""The stub's Anthropic Message Batches endpoints.

``POST /v1/messages/batches``, ``GET /v1/messages/batches``,
``GET /v1/messages/batches/{id}``, ``POST /v1/messages/batches/{id}/cancel``,
``GET /v1/messages/batches/{id}/results`` (JSONL: ``succeeded``, ``errored``,
``canceled``, ``expired``). ``processing_status`` is ``in_progress``, ``canceling`` or
``ended``; over 100,000 requests or 256 MB is refused with a 400.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from aiohttp import web

from promptlab.testing.stub_batches._state import Batch, Handler, VendorBatches, drop
from promptlab.testing.stub_payloads import StubRequestError, anthropic_message, error_body

MAX_REQUESTS, MAX_BYTES = 100_000, 256_000_000


class AnthropicBatches(VendorBatches):
    """Anthropic's Message Batches API over the shared batch state."""

    vendor = "anthropic"
    running = ("in_progress",)

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("POST", "/v1/messages/batches", self._create),
            ("GET", "/v1/messages/batches", self._list),
            ("GET", "/v1/messages/batches/{id}", self._retrieve),
            ("POST", "/v1/messages/batches/{id}/cancel", self._cancel),
            ("GET", "/v1/messages/batches/{id}/results", self._results),
        ]

    def body(self, line: dict[str, Any]) -> dict[str, Any]:
        return dict(line.get("params") or {})

    async def _create(self, request: web.Request) -> web.Response:
        state = self.state
        raw = await request.read()
        body = json.loads(raw)
        requests = body.get("requests")
        if state.hook("batch_received", count=len(requests or [])):
            return drop(request)
        problem = _problem(requests, len(raw))
        if problem is None and state.reject_next():
            problem = "the stub rejects this batch."
        if problem is not None:
            state.record(request, body, 400)
            payload = {
                "type": "error",
                "error": {"type": "invalid_request_error", "message": problem},
            }
            return web.json_response(payload, status=400)
        batch_id = state.new_id("msgbatch_")
        batch = Batch("anthropic", batch_id, time.time(), list(requests), status="in_progress")
        state.submitted += [(batch_id, str(r["custom_id"])) for r in requests]
        state.batches[batch_id] = batch
        state.hook("batch_created", batch_id=batch_id)
        state.record(request, {"requests": len(requests)}, 200)
        return web.json_response(self._batch(batch, request))

    async def _list(self, request: web.Request) -> web.Response:
        self.state.record(request, None, 200)
        batches = reversed(list(self.state.batches.values()))
        items = [self._batch(b, request) for b in batches if b.vendor == self.vendor]
        limit = int(request.query.get("limit", 20))
        after = request.query.get("after_id")
        if after is not None:
            ids = [i["id"] for i in items]
            items = items[ids.index(after) + 1 :] if after in ids else []
        page = items[:limit]
        return web.json_response(
            {
                "data": page,
                "has_more": len(items) > limit,
                "first_id": page[0]["id"] if page else None,
                "last_id": page[-1]["id"] if page else None,
            }
        )

    async def _retrieve(self, request: web.Request) -> web.Response:
        batch = self.find(request)
        if batch is None:
            return self._error(request, 404, "not_found_error", "No such batch.")
        self.state.hook("batch_retrieved", batch_id=batch.id)
        self.advance(batch)
        self.state.record(request, None, 200)
        return web.json_response(self._batch(batch, request))

    async def _cancel(self, request: web.Request) -> web.Response:
        batch = self.find(request)
        if batch is None:
            return self._error(request, 404, "not_found_error", "No such batch.")
        self.cancel(batch)
        self.state.record(request, None, 200)
        return web.json_response(self._batch(batch, request))

    async def _results(self, request: web.Request) -> web.Response:
        batch = self.find(request)
        if batch is None or batch.status != "ended":
            return self._error(
                request, 404, "not_found_error", "No results: the batch has not ended."
            )
        self.state.hook("results_requested", batch_id=batch.id)
        self.state.record(request, None, 200)
        text = "".join(json.dumps(line) + "\n" for line in batch.results)
        return web.Response(text=text, content_type="application/x-jsonl")

    def _batch(self, batch: Batch, request: web.Request) -> dict[str, Any]:
        ended = batch.status == "ended"
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        if ended:
            for line in batch.results:
                counts[line["result"]["type"]] += 1
        else:
            counts["processing"] = len(batch.lines)
        created = datetime.fromtimestamp(batch.created, timezone.utc)
        root = f"{request.scheme}://{request.host}"
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": batch.status,
            "request_counts": counts,
            "created_at": created.isoformat(),
            "expires_at": (created + timedelta(hours=24)).isoformat(),
            "ended_at": (
                datetime.fromtimestamp(batch.ended_at, timezone.utc).isoformat()
                if batch.ended_at
                else None
            ),
            "cancel_initiated_at": None,
            "archived_at": None,
            "results_url": f"{root}/v1/messages/batches/{batch.id}/results" if ended else None,
        }

    # -- results -----------------------------------------------------------------------

    def add_answer(self, batch: Batch, custom_id: str, body: dict[str, Any]) -> None:
        message = anthropic_message(body, self.state.reply, f"req_{custom_id[:16]}")
        self._add(batch, custom_id, {"type": "succeeded", "message": message})

    def add_error(
        self, batch: Batch, custom_id: str, exc: StubRequestError, body: dict[str, Any]
    ) -> None:
        _, payload = error_body(
            "anthropic",
            exc,
            model=str(body.get("model", "")),
            request_id="req_stub",
            window=128_000,
            tokens=128_001,
        )
        self._add(batch, custom_id, {"type": "errored", "error": payload})

    def add_expired(self, batch: Batch, custom_id: str) -> None:
        self._add(batch, custom_id, {"type": "expired"})

    def add_canceled(self, batch: Batch, custom_id: str) -> None:
        self._add(batch, custom_id, {"type": "canceled"})

    def end(self, batch: Batch, *, canceled: bool, expired: bool) -> None:
        batch.status = "ended"

    @staticmethod
    def _add(batch: Batch, custom_id: str, result: dict[str, Any]) -> None:
        batch.results.append({"custom_id": custom_id, "result": result})

    def _error(self, request: web.Request, status: int, kind: str, message: str) -> web.Response:
        self.state.record(request, None, status)
        payload = {"type": "error", "error": {"type": kind, "message": message}}
        return web.json_response(payload, status=status)


def _problem(requests: Any, size: int) -> str | None:
    if not isinstance(requests, list) or not requests:
        return "requests: expected a non-empty list."
    if len(requests) > MAX_REQUESTS or size > MAX_BYTES:
        return f"A batch holds at most {MAX_REQUESTS} requests and 256 MB."
    ids = [r.get("custom_id") for r in requests if isinstance(r, dict)]
    if len(set(ids)) != len(requests) or not all(isinstance(i, str) and i for i in ids):
        return "requests: every custom_id must be a unique non-empty string."
    return None
