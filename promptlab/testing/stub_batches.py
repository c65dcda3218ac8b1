"""The stub server's batch endpoints: OpenAI Files + Batches, Anthropic Message Batches.

Shaped after the vendors' public API references, so the real ``openai`` and
``anthropic`` SDKs drive them unchanged:

* OpenAI: ``POST /v1/files`` (multipart, ``purpose=batch``), ``GET /v1/files``,
  ``GET /v1/files/{id}/content``; ``POST /v1/batches``, ``GET /v1/batches``,
  ``GET /v1/batches/{id}``, ``POST /v1/batches/{id}/cancel``. Statuses ``validating`` ->
  ``in_progress`` -> ``finalizing`` -> ``completed`` (or ``failed``, ``expired``,
  ``cancelling`` -> ``cancelled``); results in an output file and an error file, one
  line per request with ``custom_id``, ``response`` (``status_code``, ``body``) and
  ``error`` (``batch_expired``...). An input file over 50,000 requests or 200 MB, or with
  a bad line, fails validation.
* Anthropic: ``POST /v1/messages/batches``, ``GET /v1/messages/batches``,
  ``GET /v1/messages/batches/{id}``, ``POST /v1/messages/batches/{id}/cancel``,
  ``GET /v1/messages/batches/{id}/results`` (JSONL: ``succeeded``, ``errored``,
  ``canceled``, ``expired``). ``processing_status`` is ``in_progress``, ``canceling`` or
  ``ended``; over 100,000 requests or 256 MB is refused with a 400.

A batch is processed when ``batch_seconds`` have passed since it was created (checked on
each retrieve), each request answered as ``/v1/chat/completions`` or ``/v1/messages``
would. Faults: the first ``batch_expire_first_n`` requests processed expire, the next
``batch_error_first_n`` get a 500 server error, and the first ``batch_reject_first_n``
batches are rejected at validation. ``batch_hook(event, info)`` is called at each step
(``upload_received``, ``upload_stored``, ``batch_received``, ``batch_created``,
``batch_retrieved``, ``results_requested``) so a test can act at an exact moment, e.g.
kill the client; a true result from ``upload_received`` or ``batch_received`` drops that
request unanswered (the connection is closed, nothing is stored). Every request line of
every created batch is recorded (:attr:`StubBatches.submitted`) to check that nothing was
sent twice.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from aiohttp import web

from promptlab.testing.stub_payloads import (
    ERROR_MODELS,
    ReplyFn,
    StubRequestError,
    anthropic_message,
    error_body,
    openai_completion,
)

#: ``hook(event, info)``; a true result drops the request (only for ``*_received``).
BatchHook = Callable[[str, dict[str, Any]], Any]

OPENAI_MAX_REQUESTS, OPENAI_MAX_BYTES = 50_000, 200_000_000
ANTHROPIC_MAX_REQUESTS, ANTHROPIC_MAX_BYTES = 100_000, 256_000_000
_OPENAI_RUNNING = ("validating", "in_progress", "finalizing")


@dataclass(frozen=True)
class BatchBehaviour:
    """How the stub's batches behave. See the module docstring."""

    seconds: float = 0.0
    expire_first_n: int = 0
    error_first_n: int = 0
    reject_first_n: int = 0
    hook: BatchHook | None = None


@dataclass
class _Batch:
    vendor: str
    id: str
    created: float
    lines: list[dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)
    status: str = "validating"
    cancel_at: float | None = None
    ended_at: float | None = None
    results: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    rejected: str | None = None


class StubBatches:
    """Batch state and handlers of one stub server.

    Args:
        reply: Produces each reply, as for direct requests.
        behaviour: Timing, faults and the hook.
        record: ``record(request, body, status)`` counts a request in the server's stats.
    """

    def __init__(
        self,
        reply: ReplyFn,
        behaviour: BatchBehaviour,
        record: Callable[[web.Request, Any, int], None],
    ) -> None:
        self.reply = reply
        self.behaviour = behaviour
        self._record = record
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.files: dict[str, dict[str, Any]] = {}
        self.batches: dict[str, _Batch] = {}
        self._processed = 0
        self._rejected = 0
        self.submitted: list[tuple[str, str]] = []
        """``(batch id, custom_id)`` for every request of every batch created."""

    def routes(self, app: web.Application) -> None:
        """Add the batch routes to ``app``."""
        app.router.add_post("/v1/files", self._upload)
        app.router.add_get("/v1/files", self._list_files)
        app.router.add_get("/v1/files/{id}/content", self._file_content)
        app.router.add_post("/v1/batches", self._create_openai)
        app.router.add_get("/v1/batches", self._list_openai)
        app.router.add_get("/v1/batches/{id}", self._retrieve_openai)
        app.router.add_post("/v1/batches/{id}/cancel", self._cancel)
        app.router.add_post("/v1/messages/batches", self._create_anthropic)
        app.router.add_get("/v1/messages/batches", self._list_anthropic)
        app.router.add_get("/v1/messages/batches/{id}", self._retrieve_anthropic)
        app.router.add_post("/v1/messages/batches/{id}/cancel", self._cancel)
        app.router.add_get("/v1/messages/batches/{id}/results", self._anthropic_results)

    def _hook(self, event: str, **info: Any) -> bool:
        """Call the hook; True when it asks to drop the request (close the connection)."""
        return bool(self.behaviour.hook is not None and self.behaviour.hook(event, info))

    @staticmethod
    def _drop(request: web.Request) -> web.Response:
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=204)  # never sent: the connection is closed

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):06d}"

    # -- OpenAI files ------------------------------------------------------------------

    async def _upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload = form.get("file")
        purpose = str(form.get("purpose", ""))
        if not hasattr(upload, "file"):
            return self._openai_error(request, 400, "'file' is required (multipart upload).")
        content = upload.file.read()  # type: ignore[union-attr]
        name = str(getattr(upload, "filename", "") or "upload.jsonl")
        if self._hook("upload_received", filename=name):
            return self._drop(request)
        file_id = self._new_id("file-")
        entry = {
            "id": file_id,
            "object": "file",
            "bytes": len(content),
            "created_at": int(time.time()),
            "filename": name,
            "purpose": purpose,
            "status": "processed",
        }
        self.files[file_id] = {**entry, "content": content}
        self._hook("upload_stored", filename=name, file_id=file_id)
        self._record(request, {"filename": name, "purpose": purpose}, 200)
        return web.json_response(entry)

    async def _list_files(self, request: web.Request) -> web.Response:
        self._record(request, None, 200)
        purpose = request.query.get("purpose")
        items = [
            {k: v for k, v in f.items() if k != "content"}
            for f in reversed(list(self.files.values()))
            if purpose is None or f["purpose"] == purpose
        ]
        return web.json_response(_cursor_page(items, request.query, 10_000))

    async def _file_content(self, request: web.Request) -> web.Response:
        file = self.files.get(request.match_info["id"])
        if file is None:
            return self._openai_error(request, 404, "No such file.")
        self._hook("results_requested", file_id=file["id"])
        self._record(request, None, 200)
        return web.Response(body=file["content"], content_type="application/octet-stream")

    # -- OpenAI batches ----------------------------------------------------------------

    async def _create_openai(self, request: web.Request) -> web.Response:
        body = await request.json()
        file = self.files.get(str(body.get("input_file_id")))
        if file is None:
            return self._openai_error(request, 400, "input_file_id does not name a file.")
        if self._hook("batch_received", metadata=body.get("metadata")):
            return self._drop(request)
        batch_id = self._new_id("batch_")
        lines, problem = _openai_lines(file["content"], body.get("endpoint", ""))
        batch = _Batch("openai", batch_id, time.time(), lines)
        batch.meta = {
            "endpoint": body.get("endpoint"),
            "input_file_id": file["id"],
            "completion_window": body.get("completion_window"),
            "metadata": body.get("metadata"),
        }
        with self._lock:
            if self._rejected < self.behaviour.reject_first_n:
                self._rejected += 1
                problem = problem or ("invalid_request", "the stub rejects this batch.", None)
        if problem is not None:
            batch.rejected = json.dumps(problem)
        else:
            self.submitted += [(batch_id, str(line.get("custom_id"))) for line in lines]
        self.batches[batch_id] = batch
        self._hook("batch_created", batch_id=batch_id)
        self._record(request, body, 200)
        return web.json_response(self._openai_batch(batch))

    async def _list_openai(self, request: web.Request) -> web.Response:
        self._record(request, None, 200)
        items = [
            self._openai_batch(b)
            for b in reversed(list(self.batches.values()))
            if b.vendor == "openai"
        ]
        return web.json_response(_cursor_page(items, request.query, 20))

    async def _retrieve_openai(self, request: web.Request) -> web.Response:
        batch = self.batches.get(request.match_info["id"])
        if batch is None or batch.vendor != "openai":
            return self._openai_error(request, 404, "No such batch.")
        self._hook("batch_retrieved", batch_id=batch.id)
        self._advance(batch)
        self._record(request, None, 200)
        return web.json_response(self._openai_batch(batch))

    def _openai_batch(self, batch: _Batch) -> dict[str, Any]:
        done = batch.status in ("completed", "expired", "cancelled")
        failed = sum(1 for r in batch.errors)
        data: dict[str, Any] = {
            "id": batch.id,
            "object": "batch",
            "created_at": int(batch.created),
            "expires_at": int(batch.created) + 86_400,
            "status": batch.status,
            "request_counts": {
                "total": len(batch.lines),
                "completed": len(batch.results) if done else 0,
                "failed": failed if done else 0,
            },
            "output_file_id": None,
            "error_file_id": None,
            "errors": None,
            **batch.meta,
        }
        if batch.status == "failed" and batch.rejected is not None:
            code, message, line = json.loads(batch.rejected)
            data["errors"] = {
                "object": "list",
                "data": [{"code": code, "message": message, "line": line, "param": None}],
            }
        if done:
            for kind, lines in (("output", batch.results), ("error", batch.errors)):
                if lines:
                    data[f"{kind}_file_id"] = self._result_file(batch, kind, lines)
        return data

    def _result_file(self, batch: _Batch, kind: str, lines: list[dict[str, Any]]) -> str:
        file_id = f"file-{batch.id}-{kind}"
        if file_id not in self.files:
            content = "".join(json.dumps(line) + "\n" for line in lines).encode()
            self.files[file_id] = {
                "id": file_id,
                "object": "file",
                "bytes": len(content),
                "created_at": int(time.time()),
                "filename": f"{batch.id}_{kind}.jsonl",
                "purpose": "batch_output",
                "status": "processed",
                "content": content,
            }
        return file_id

    # -- Anthropic batches -------------------------------------------------------------

    async def _create_anthropic(self, request: web.Request) -> web.Response:
        raw = await request.read()
        body = json.loads(raw)
        requests = body.get("requests")
        if self._hook("batch_received", count=len(requests or [])):
            return self._drop(request)
        problem = _anthropic_problem(requests, len(raw))
        with self._lock:
            if problem is None and self._rejected < self.behaviour.reject_first_n:
                self._rejected += 1
                problem = "the stub rejects this batch."
        if problem is not None:
            self._record(request, body, 400)
            payload = {
                "type": "error",
                "error": {"type": "invalid_request_error", "message": problem},
            }
            return web.json_response(payload, status=400)
        batch_id = self._new_id("msgbatch_")
        batch = _Batch("anthropic", batch_id, time.time(), list(requests), status="in_progress")
        self.submitted += [(batch_id, str(r["custom_id"])) for r in requests]
        self.batches[batch_id] = batch
        self._hook("batch_created", batch_id=batch_id)
        self._record(request, {"requests": len(requests)}, 200)
        return web.json_response(self._anthropic_batch(batch, request))

    async def _list_anthropic(self, request: web.Request) -> web.Response:
        self._record(request, None, 200)
        items = [
            self._anthropic_batch(b, request)
            for b in reversed(list(self.batches.values()))
            if b.vendor == "anthropic"
        ]
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

    async def _retrieve_anthropic(self, request: web.Request) -> web.Response:
        batch = self.batches.get(request.match_info["id"])
        if batch is None or batch.vendor != "anthropic":
            return self._anthropic_error(request, 404, "not_found_error", "No such batch.")
        self._hook("batch_retrieved", batch_id=batch.id)
        self._advance(batch)
        self._record(request, None, 200)
        return web.json_response(self._anthropic_batch(batch, request))

    def _anthropic_batch(self, batch: _Batch, request: web.Request) -> dict[str, Any]:
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

    async def _anthropic_results(self, request: web.Request) -> web.Response:
        batch = self.batches.get(request.match_info["id"])
        if batch is None or batch.status != "ended":
            return self._anthropic_error(
                request, 404, "not_found_error", "No results: the batch has not ended."
            )
        self._hook("results_requested", batch_id=batch.id)
        self._record(request, None, 200)
        text = "".join(json.dumps(line) + "\n" for line in batch.results)
        return web.Response(text=text, content_type="application/x-jsonl")

    # -- both --------------------------------------------------------------------------

    async def _cancel(self, request: web.Request) -> web.Response:
        batch = self.batches.get(request.match_info["id"])
        if batch is None:
            return self._openai_error(request, 404, "No such batch.")
        if batch.status in ("validating", "in_progress", "finalizing"):
            batch.status = "cancelling" if batch.vendor == "openai" else "canceling"
            batch.cancel_at = time.time()
        self._record(request, None, 200)
        if batch.vendor == "openai":
            return web.json_response(self._openai_batch(batch))
        return web.json_response(self._anthropic_batch(batch, request))

    def _advance(self, batch: _Batch) -> None:
        """Move the batch along: validation, processing after ``seconds``, cancellation."""
        if batch.status in ("cancelling", "canceling"):
            self._finish(batch, canceled=True)
            return
        if batch.vendor == "openai" and batch.status == "validating":
            if batch.rejected is not None:
                batch.status = "failed"
                return
            batch.status = "in_progress"
        due = time.time() - batch.created >= self.behaviour.seconds
        if due and batch.status in _OPENAI_RUNNING:
            self._finish(batch, canceled=False)

    def _finish(self, batch: _Batch, *, canceled: bool) -> None:
        expired_any = False
        for line in batch.lines:
            custom_id = str(line.get("custom_id"))
            if canceled:
                if batch.vendor == "anthropic":
                    batch.results.append({"custom_id": custom_id, "result": {"type": "canceled"}})
                continue
            with self._lock:
                self._processed += 1
                number = self._processed
            b = self.behaviour
            if number <= b.expire_first_n:
                expired_any = True
                self._add_expired(batch, custom_id)
            elif number <= b.expire_first_n + b.error_first_n:
                self._add_error(batch, custom_id, StubRequestError("500"))
            else:
                self._add_answer(batch, custom_id, line)
        batch.ended_at = time.time()
        if batch.vendor == "anthropic":
            batch.status = "ended"
        else:
            batch.status = "cancelled" if canceled else "expired" if expired_any else "completed"

    def _add_answer(self, batch: _Batch, custom_id: str, line: dict[str, Any]) -> None:
        body = line.get("body") if batch.vendor == "openai" else line.get("params")
        rid = f"req_{custom_id[:16]}"
        model = str((body or {}).get("model", ""))
        if model in ERROR_MODELS:
            self._add_error(batch, custom_id, StubRequestError(model), body)
            return
        if batch.vendor == "openai":
            reply = openai_completion(body or {}, self.reply, rid, 0)
            batch.results.append(
                {
                    "id": f"batch_req_{custom_id[:16]}",
                    "custom_id": custom_id,
                    "response": {"status_code": 200, "request_id": rid, "body": reply},
                    "error": None,
                }
            )
        else:
            message = anthropic_message(body or {}, self.reply, rid)
            batch.results.append(
                {"custom_id": custom_id, "result": {"type": "succeeded", "message": message}}
            )

    def _add_error(
        self, batch: _Batch, custom_id: str, exc: StubRequestError, body: Any = None
    ) -> None:
        status, payload = error_body(
            batch.vendor,  # type: ignore[arg-type]
            exc,
            model=str((body or {}).get("model", "")),
            request_id="req_stub",
            window=128_000,
            tokens=128_001,
        )
        if batch.vendor == "openai":
            batch.errors.append(
                {
                    "id": f"batch_req_{custom_id[:16]}",
                    "custom_id": custom_id,
                    "response": {"status_code": status, "request_id": "req_stub", "body": payload},
                    "error": None,
                }
            )
        else:
            batch.results.append(
                {"custom_id": custom_id, "result": {"type": "errored", "error": payload}}
            )

    def _add_expired(self, batch: _Batch, custom_id: str) -> None:
        if batch.vendor == "openai":
            batch.errors.append(
                {
                    "id": f"batch_req_{custom_id[:16]}",
                    "custom_id": custom_id,
                    "response": None,
                    "error": {
                        "code": "batch_expired",
                        "message": "This request could not be executed before the "
                        "completion window expired.",
                    },
                }
            )
        else:
            batch.results.append({"custom_id": custom_id, "result": {"type": "expired"}})

    def _openai_error(self, request: web.Request, status: int, message: str) -> web.Response:
        self._record(request, None, status)
        payload = {"error": {"message": message, "type": "invalid_request_error", "code": None}}
        return web.json_response(payload, status=status)

    def _anthropic_error(
        self, request: web.Request, status: int, kind: str, message: str
    ) -> web.Response:
        self._record(request, None, status)
        payload = {"type": "error", "error": {"type": kind, "message": message}}
        return web.json_response(payload, status=status)


def _cursor_page(items: list[dict[str, Any]], query: Any, default: int) -> dict[str, Any]:
    limit = int(query.get("limit", default))
    after = query.get("after")
    if after is not None:
        ids = [i["id"] for i in items]
        items = items[ids.index(after) + 1 :] if after in ids else []
    page = items[:limit]
    return {
        "object": "list",
        "data": page,
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
        "has_more": len(items) > limit,
    }


def _openai_lines(
    content: bytes, endpoint: str
) -> tuple[list[dict[str, Any]], tuple[str, str, int | None] | None]:
    """The input file's lines, and the first validation problem (code, message, line)."""
    if len(content) > OPENAI_MAX_BYTES:
        return [], ("file_too_large", f"The input file is over {OPENAI_MAX_BYTES} bytes.", None)
    lines: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, raw in enumerate(content.decode("utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            return [], ("invalid_json_line", "This line is not valid JSON.", number)
        custom_id = line.get("custom_id")
        if not custom_id or custom_id in seen:
            return [], ("duplicate_custom_id", "custom_id is missing or repeated.", number)
        if line.get("method") != "POST" or line.get("url") != endpoint:
            return [], ("invalid_url", f"url must be {endpoint} and method POST.", number)
        seen.add(custom_id)
        lines.append(line)
    if len(lines) > OPENAI_MAX_REQUESTS:
        return [], ("too_many_requests", f"Over {OPENAI_MAX_REQUESTS} requests.", None)
    return lines, None


def _anthropic_problem(requests: Any, size: int) -> str | None:
    if not isinstance(requests, list) or not requests:
        return "requests: expected a non-empty list."
    if len(requests) > ANTHROPIC_MAX_REQUESTS or size > ANTHROPIC_MAX_BYTES:
        return f"A batch holds at most {ANTHROPIC_MAX_REQUESTS} requests and 256 MB."
    ids = [r.get("custom_id") for r in requests if isinstance(r, dict)]
    if len(set(ids)) != len(requests) or not all(isinstance(i, str) and i for i in ids):
        return "requests: every custom_id must be a unique non-empty string."
    return None
