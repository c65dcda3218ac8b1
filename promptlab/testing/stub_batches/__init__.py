"""The stub server's batch endpoints: OpenAI Files + Batches, Anthropic Message Batches.

Shaped after the vendors' public API references, so the real ``openai`` and
``anthropic`` SDKs drive them unchanged. Each vendor is one module: :mod:`._openai`
(input file over 50,000 requests or 200 MB, or with a bad line, fails validation; results
in an output and an error file, one line per request with ``custom_id``, ``response``
and ``error``) and :mod:`._anthropic` (over 100,000 requests or 256 MB is refused with a
400; results as a JSONL stream of ``succeeded``, ``errored``, ``canceled``, ``expired``).
What they share, the batches and their processing, is in :mod:`._state`.

A batch is processed when ``batch_seconds`` have passed since it was created (checked on
each retrieve), each request answered as ``/v1/chat/completions`` or ``/v1/messages``
would. Faults: the first ``batch_expire_first_n`` requests processed expire, the next
``batch_error_first_n`` get a 500 server error, and the first ``batch_reject_first_n``
batches are rejected at validation. With ``batch_api_key``, every batch endpoint answers
401 to a request without that key. ``batch_hook(event, info)`` is called at each step
(``upload_received``, ``upload_stored``, ``batch_received``, ``batch_created``,
``batch_retrieved``, ``results_requested``) so a test can act at an exact moment, e.g.
kill the client; a true result from ``upload_received`` or ``batch_received`` drops that
request unanswered (the connection is closed, nothing is stored). Every request line of
every created batch is recorded (:attr:`StubBatches.submitted`) to check that nothing was
sent twice.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from promptlab.testing.stub_batches._anthropic import AnthropicBatches
from promptlab.testing.stub_batches._openai import OpenAIBatches
from promptlab.testing.stub_batches._state import (
    Batch,
    BatchBehaviour,
    BatchHook,
    BatchState,
    Handler,
    Recorder,
)
from promptlab.testing.stub_payloads import ReplyFn

__all__ = ["Batch", "BatchBehaviour", "BatchHook", "StubBatches"]


class StubBatches:
    """Batch state and handlers of one stub server.

    Args:
        reply: Produces each reply, as for direct requests.
        behaviour: Timing, faults, the hook and the key.
        record: ``record(request, body, status)`` counts a request in the server's stats.
    """

    def __init__(self, reply: ReplyFn, behaviour: BatchBehaviour, record: Recorder) -> None:
        self.state = BatchState(reply, behaviour, record)
        self.vendors = (OpenAIBatches(self.state), AnthropicBatches(self.state))

    @property
    def files(self) -> dict[str, dict[str, Any]]:
        """OpenAI file id -> the file's fields and ``content``."""
        return self.state.files

    @property
    def batches(self) -> dict[str, Batch]:
        """Batch id -> every batch created, of both vendors."""
        return self.state.batches

    @property
    def submitted(self) -> list[tuple[str, str]]:
        """``(batch id, custom_id)`` for every request of every batch created."""
        return self.state.submitted

    def routes(self, app: web.Application) -> None:
        """Add the batch routes of both vendors to ``app``."""
        for vendor in self.vendors:
            for method, path, handler in vendor.routes():
                app.router.add_route(method, path, self._keyed(handler))

    def _keyed(self, handler: Handler) -> Handler:
        """``handler`` behind the key check of :attr:`BatchBehaviour.api_key`."""
        wanted = self.state.behaviour.api_key
        if wanted is None:
            return handler

        async def checked(request: web.Request) -> web.Response:
            bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if (request.headers.get("x-api-key") or bearer) != wanted:
                self.state.record(request, None, 401)
                message = "Incorrect API key provided."
                payload = {"error": {"message": message, "type": "authentication_error"}}
                return web.json_response(payload, status=401)
            return await handler(request)

        return checked
