"""The stub's OpenAI Files and Batches endpoints.

``POST /v1/files`` (multipart, ``purpose=batch``), ``GET /v1/files``,
``GET /v1/files/{id}/content``; ``POST /v1/batches``, ``GET /v1/batches``,
``GET /v1/batches/{id}``, ``POST /v1/batches/{id}/cancel``. Statuses ``validating`` ->
``in_progress`` -> ``finalizing`` -> ``completed`` (or ``failed``, ``expired``,
``cancelling`` -> ``cancelled``); results in an output file and an error file.
"""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import web

from promptlab.testing.stub_batches._state import Batch, Handler, VendorBatches, drop
from promptlab.testing.stub_payloads import StubRequestError, error_body, openai_completion

MAX_REQUESTS, MAX_BYTES = 50_000, 200_000_000


class OpenAIBatches(VendorBatches):
    """OpenAI's Files + Batches API over the shared batch state."""

    vendor = "openai"
    running = ("validating", "in_progress", "finalizing")

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("POST", "/v1/files", self._upload),
            ("GET", "/v1/files", self._list_files),
            ("GET", "/v1/files/{id}/content", self._file_content),
            ("POST", "/v1/batches", self._create),
            ("GET", "/v1/batches", self._list),
            ("GET", "/v1/batches/{id}", self._retrieve),
            ("POST", "/v1/batches/{id}/cancel", self._cancel),
        ]

    # -- files -------------------------------------------------------------------------

    async def _upload(self, request: web.Request) -> web.Response:
        state = self.state
        form = await request.post()
        upload = form.get("file")
        purpose = str(form.get("purpose", ""))
        if not hasattr(upload, "file"):
            return self._error(request, 400, "'file' is required (multipart upload).")
        content = upload.file.read()  # type: ignore[union-attr]
        name = str(getattr(upload, "filename", "") or "upload.jsonl")
        if state.hook("upload_received", filename=name):
            return drop(request)
        file_id = state.new_id("file-")
        entry = self._store_file(file_id, name, purpose, content)
        state.hook("upload_stored", filename=name, file_id=file_id)
        state.record(request, {"filename": name, "purpose": purpose}, 200)
        return web.json_response(entry)

    def _store_file(self, file_id: str, name: str, purpose: str, content: bytes) -> dict[str, Any]:
        entry = {
            "id": file_id,
            "object": "file",
            "bytes": len(content),
            "created_at": int(time.time()),
            "filename": name,
            "purpose": purpose,
            "status": "processed",
        }
        self.state.files[file_id] = {**entry, "content": content}
        return entry

    async def _list_files(self, request: web.Request) -> web.Response:
        self.state.record(request, None, 200)
        purpose = request.query.get("purpose")
        items = [
            {k: v for k, v in f.items() if k != "content"}
            for f in reversed(list(self.state.files.values()))
            if purpose is None or f["purpose"] == purpose
        ]
        return web.json_response(_cursor_page(items, request.query, 10_000))

    async def _file_content(self, request: web.Request) -> web.Response:
        file = self.state.files.get(request.match_info["id"])
        if file is None:
            return self._error(request, 404, "No such file.")
        self.state.hook("results_requested", file_id=file["id"])
        self.state.record(request, None, 200)
        return web.Response(body=file["content"], content_type="application/octet-stream")

    # -- batches -----------------------------------------------------------------------

    async def _create(self, request: web.Request) -> web.Response:
        state = self.state
        body = await request.json()
        file = state.files.get(str(body.get("input_file_id")))
        if file is None:
            return self._error(request, 400, "input_file_id does not name a file.")
        if state.hook("batch_received", metadata=body.get("metadata")):
            return drop(request)
        batch_id = state.new_id("batch_")
        lines, problem = _lines(file["content"], body.get("endpoint", ""))
        batch = Batch("openai", batch_id, time.time(), lines)
        batch.meta = {
            "endpoint": body.get("endpoint"),
            "input_file_id": file["id"],
            "completion_window": body.get("completion_window"),
            "metadata": body.get("metadata"),
        }
        if state.reject_next():
            problem = problem or ("invalid_request", "the stub rejects this batch.", None)
        if problem is not None:
            batch.rejected = json.dumps(problem)
        else:
            state.submitted += [(batch_id, str(line.get("custom_id"))) for line in lines]
        state.batches[batch_id] = batch
        state.hook("batch_created", batch_id=batch_id)
        state.record(request, body, 200)
        return web.json_response(self._batch(batch))

    async def _list(self, request: web.Request) -> web.Response:
        self.state.record(request, None, 200)
        batches = reversed(list(self.state.batches.values()))
        items = [self._batch(b) for b in batches if b.vendor == self.vendor]
        return web.json_response(_cursor_page(items, request.query, 20))

    async def _retrieve(self, request: web.Request) -> web.Response:
        batch = self.find(request)
        if batch is None:
            return self._error(request, 404, "No such batch.")
        self.state.hook("batch_retrieved", batch_id=batch.id)
        self.advance(batch)
        self.state.record(request, None, 200)
        return web.json_response(self._batch(batch))

    async def _cancel(self, request: web.Request) -> web.Response:
        batch = self.find(request)
        if batch is None:
            return self._error(request, 404, "No such batch.")
        self.cancel(batch)
        self.state.record(request, None, 200)
        return web.json_response(self._batch(batch))

    def advance(self, batch: Batch) -> None:
        if batch.status == "validating":
            if batch.rejected is not None:
                batch.status = "failed"
                return
            batch.status = "in_progress"
        super().advance(batch)

    def _batch(self, batch: Batch) -> dict[str, Any]:
        done = batch.status in ("completed", "expired", "cancelled")
        data: dict[str, Any] = {
            "id": batch.id,
            "object": "batch",
            "created_at": int(batch.created),
            "expires_at": int(batch.created) + 86_400,
            "status": batch.status,
            "request_counts": {
                "total": len(batch.lines),
                "completed": len(batch.results) if done else 0,
                "failed": len(batch.errors) if done else 0,
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

    def _result_file(self, batch: Batch, kind: str, lines: list[dict[str, Any]]) -> str:
        file_id = f"file-{batch.id}-{kind}"
        if file_id not in self.state.files:
            content = "".join(json.dumps(line) + "\n" for line in lines).encode()
            self._store_file(file_id, f"{batch.id}_{kind}.jsonl", "batch_output", content)
        return file_id

    # -- results -----------------------------------------------------------------------

    def add_answer(self, batch: Batch, custom_id: str, body: dict[str, Any]) -> None:
        rid = f"req_{custom_id[:16]}"
        reply = openai_completion(body, self.state.reply, rid, 0)
        response = {"status_code": 200, "request_id": rid, "body": reply}
        batch.results.append(_line(custom_id, response, None))

    def add_error(
        self, batch: Batch, custom_id: str, exc: StubRequestError, body: dict[str, Any]
    ) -> None:
        status, payload = _error_payload(exc, body)
        response = {"status_code": status, "request_id": "req_stub", "body": payload}
        batch.errors.append(_line(custom_id, response, None))

    def add_expired(self, batch: Batch, custom_id: str) -> None:
        message = "This request could not be executed before the completion window expired."
        error = {"code": "batch_expired", "message": message}
        batch.errors.append(_line(custom_id, None, error))

    def add_canceled(self, batch: Batch, custom_id: str) -> None:
        """OpenAI leaves requests a canceled batch did not reach out of its files."""

    def end(self, batch: Batch, *, canceled: bool, expired: bool) -> None:
        batch.status = "cancelled" if canceled else "expired" if expired else "completed"

    def _error(self, request: web.Request, status: int, message: str) -> web.Response:
        self.state.record(request, None, status)
        payload = {"error": {"message": message, "type": "invalid_request_error", "code": None}}
        return web.json_response(payload, status=status)


def _line(custom_id: str, response: Any, error: Any) -> dict[str, Any]:
    """One line of an output or error file."""
    return {
        "id": f"batch_req_{custom_id[:16]}",
        "custom_id": custom_id,
        "response": response,
        "error": error,
    }


def _error_payload(exc: StubRequestError, body: dict[str, Any]) -> tuple[int, Any]:
    return error_body(
        "openai",
        exc,
        model=str(body.get("model", "")),
        request_id="req_stub",
        window=128_000,
        tokens=128_001,
    )


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


def _lines(
    content: bytes, endpoint: str
) -> tuple[list[dict[str, Any]], tuple[str, str, int | None] | None]:
    """The input file's lines, and the first validation problem (code, message, line)."""
    if len(content) > MAX_BYTES:
        return [], ("file_too_large", f"The input file is over {MAX_BYTES} bytes.", None)
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
    if len(lines) > MAX_REQUESTS:
        return [], ("too_many_requests", f"Over {MAX_REQUESTS} requests.", None)
    return lines, None
