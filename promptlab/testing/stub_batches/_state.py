"""What the stub's batch endpoints share: the behaviour, the batches, their processing.

Each vendor's module (:mod:`._openai`, :mod:`._anthropic`) subclasses
:class:`VendorBatches` with its routes and the shapes of its result lines; this module
decides *what* happens to each request (answered, errored or expired, by the fault
counters of :class:`BatchBehaviour`) and when a batch ends.
"""

from __future__ import annotations

import itertools
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from promptlab.testing.stub_payloads import ERROR_MODELS, ReplyFn, StubRequestError

#: ``hook(event, info)``; a true result drops the request (only for ``*_received``).
BatchHook = Callable[[str, dict[str, Any]], Any]
Handler = Callable[[web.Request], Awaitable[web.Response]]
#: ``record(request, body, status)`` counts a request in the server's stats.
Recorder = Callable[[web.Request, Any, int], None]


@dataclass(frozen=True)
class BatchBehaviour:
    """How the stub's batches behave. See :mod:`promptlab.testing.stub_batches`."""

    seconds: float = 0.0
    expire_first_n: int = 0
    error_first_n: int = 0
    reject_first_n: int = 0
    hook: BatchHook | None = None
    api_key: str | None = None


@dataclass
class Batch:
    """One batch the stub created, with its request lines and, once ended, its results."""

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


class BatchState:
    """The files, batches and counters of one stub server, shared by both vendors.

    Args:
        reply: Produces each reply, as for direct requests.
        behaviour: Timing, faults, the hook and the key.
        record: Counts a request in the server's stats.
    """

    def __init__(self, reply: ReplyFn, behaviour: BatchBehaviour, record: Recorder) -> None:
        self.reply = reply
        self.behaviour = behaviour
        self.record = record
        self.lock = threading.Lock()
        self.files: dict[str, dict[str, Any]] = {}
        self.batches: dict[str, Batch] = {}
        self.submitted: list[tuple[str, str]] = []
        self.processed = 0
        self.rejected = 0
        self._ids = itertools.count(1)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):06d}"

    def hook(self, event: str, **info: Any) -> bool:
        """Call the hook; True when it asks to drop the request (close the connection)."""
        return bool(self.behaviour.hook is not None and self.behaviour.hook(event, info))

    def reject_next(self) -> bool:
        """True while the first ``reject_first_n`` batches are being rejected."""
        with self.lock:
            if self.rejected < self.behaviour.reject_first_n:
                self.rejected += 1
                return True
            return False

    def next_fault(self) -> str | None:
        """``"expired"``, ``"500"`` or None for the next request processed."""
        with self.lock:
            self.processed += 1
            number = self.processed
        b = self.behaviour
        if number <= b.expire_first_n:
            return "expired"
        return "500" if number <= b.expire_first_n + b.error_first_n else None


def drop(request: web.Request) -> web.Response:
    """Close the connection without an answer."""
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=204)  # never sent: the connection is closed


class VendorBatches(ABC):
    """One vendor's batch endpoints over the shared :class:`BatchState`."""

    vendor: str = ""
    #: Statuses in which a batch is processed once its ``seconds`` have passed.
    running: tuple[str, ...] = ()

    def __init__(self, state: BatchState) -> None:
        self.state = state

    @abstractmethod
    def routes(self) -> list[tuple[str, str, Handler]]:
        """``(method, path, handler)`` of each endpoint."""

    @abstractmethod
    def add_answer(self, batch: Batch, custom_id: str, body: dict[str, Any]) -> None:
        """Append the successful result of one request."""

    @abstractmethod
    def add_error(
        self, batch: Batch, custom_id: str, exc: StubRequestError, body: dict[str, Any]
    ) -> None:
        """Append the errored result of one request."""

    @abstractmethod
    def add_expired(self, batch: Batch, custom_id: str) -> None:
        """Append the result of a request the batch did not reach in time."""

    @abstractmethod
    def add_canceled(self, batch: Batch, custom_id: str) -> None:
        """Append the result of a request whose batch was canceled first."""

    @abstractmethod
    def end(self, batch: Batch, *, canceled: bool, expired: bool) -> None:
        """Set the status of a batch whose requests were all processed."""

    def body(self, line: dict[str, Any]) -> dict[str, Any]:
        """The request body of a request line."""
        return dict(line.get("body") or {})

    def find(self, request: web.Request) -> Batch | None:
        """The batch of this vendor named in the request's path."""
        batch = self.state.batches.get(request.match_info["id"])
        return batch if batch is not None and batch.vendor == self.vendor else None

    def cancel(self, batch: Batch) -> None:
        """Start canceling a batch that is still running."""
        if batch.status in ("validating", "in_progress", "finalizing"):
            batch.status = "cancelling" if self.vendor == "openai" else "canceling"
            batch.cancel_at = time.time()

    def advance(self, batch: Batch) -> None:
        """Move the batch along: cancellation, or processing after ``seconds``."""
        if batch.status in ("cancelling", "canceling"):
            self.finish(batch, canceled=True)
            return
        due = time.time() - batch.created >= self.state.behaviour.seconds
        if due and batch.status in self.running:
            self.finish(batch, canceled=False)

    def finish(self, batch: Batch, *, canceled: bool) -> None:
        """Process every request of the batch (or cancel it), then end it."""
        expired = False
        for line in batch.lines:
            custom_id = str(line.get("custom_id"))
            if canceled:
                self.add_canceled(batch, custom_id)
                continue
            fault = self.state.next_fault()
            body = self.body(line)
            if fault == "expired":
                expired = True
                self.add_expired(batch, custom_id)
            elif fault is not None:
                self.add_error(batch, custom_id, StubRequestError(fault), body)
            elif str(body.get("model", "")) in ERROR_MODELS:
                self.add_error(batch, custom_id, StubRequestError(str(body["model"])), body)
            else:
                self.add_answer(batch, custom_id, body)
        batch.ended_at = time.time()
        self.end(batch, canceled=canceled, expired=expired)
