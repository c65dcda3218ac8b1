"""The stub server's request handlers: fault policy, counters, and the aiohttp routes.

:class:`StubEndpoints` decides what each request gets (a reply, a fixed error, or an
injected fault) and records what arrived. Bodies are built by
:mod:`promptlab.testing.stub_payloads`; starting, stopping and the command line live in
:mod:`promptlab.testing.stub_server`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from promptlab.errors import ConfigurationError, MissingDependencyError
from promptlab.testing.stub_batches import BatchBehaviour, StubBatches
from promptlab.testing.stub_payloads import (
    DEFAULT_MODELS,
    ERROR_MODELS,
    ReplyFn,
    StubRequestError,
    anthropic_message,
    content_text,
    count_tokens,
    default_reply,
    error_body,
    models_list,
    openai_completion,
)
from promptlab.testing.stub_text_completions import prompt_text, text_completion

try:
    from aiohttp import web
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise MissingDependencyError("aiohttp", "dev", "promptlab.testing.stub_server") from exc

FAULT_KINDS: tuple[str, ...] = ("429", "500", "503", "slow", "malformed", "drop")
_VENDOR_BY_PATH: dict[str, Literal["openai", "anthropic"]] = {
    "/v1/chat/completions": "openai",
    "/v1/messages": "anthropic",
}
_MALFORMED = '{"id": "stub", "choices": [{"index": 0, "message": {"role": "assist'
_CACHE_LIMIT = 10_000


def _check(ok: bool, name: str, value: object, allowed: str) -> None:
    if not ok:
        raise ConfigurationError(f"StubServer {name}={value!r} is invalid; use {allowed}.")


@dataclass(frozen=True)
class StubBehaviour:
    """How the stub answers. See :class:`~promptlab.testing.stub_server.StubServer`."""

    reply: ReplyFn = default_reply
    latency: float = 0.0
    fault_rate: float = 0.0
    faults: tuple[str, ...] = ("429", "500", "503")
    fail_first_n: int = 0
    retry_after: float = 0.2
    slow_seconds: float = 30.0
    seed: int = 0
    context_window: int | None = None
    prompt_cache: bool = True
    models: tuple[str, ...] = DEFAULT_MODELS

    def __post_init__(self) -> None:
        _check(self.latency >= 0, "latency", self.latency, "seconds >= 0")
        _check(0 <= self.fault_rate <= 1, "fault_rate", self.fault_rate, "a number in [0, 1]")
        known = bool(self.faults) and all(f in FAULT_KINDS for f in self.faults)
        _check(known, "faults", self.faults, f"a non-empty subset of {FAULT_KINDS}")
        _check(self.fail_first_n >= 0, "fail_first_n", self.fail_first_n, "an integer >= 0")
        _check(self.retry_after >= 0, "retry_after", self.retry_after, "seconds >= 0")
        _check(self.slow_seconds > 0, "slow_seconds", self.slow_seconds, "seconds > 0")
        window = self.context_window
        _check(window is None or window > 0, "context_window", window, "None or an int > 0")


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received. API key values are never kept, only presence."""

    endpoint: str
    body: Any
    had_api_key: bool
    status: int | None  # None when the connection was dropped or the client gave up
    fault: str | None


@dataclass(frozen=True)
class StubStats:
    """A snapshot of the counters: every request except ``GET /_stub/stats`` counts."""

    total_requests: int = 0
    by_endpoint: dict[str, int] = field(default_factory=dict)
    by_status: dict[int, int] = field(default_factory=dict)
    by_fault: dict[str, int] = field(default_factory=dict)
    requests: tuple[RecordedRequest, ...] = ()

    def summary(self, bodies: bool = False) -> dict[str, Any]:
        """The counters as JSON-ready data (what ``GET /_stub/stats`` returns)."""
        data: dict[str, Any] = {
            "total_requests": self.total_requests,
            "by_endpoint": self.by_endpoint,
            "by_status": {str(k): v for k, v in self.by_status.items()},
            "by_fault": self.by_fault,
        }
        if bodies:
            data["bodies"] = [r.body for r in self.requests]
        return data


class StubEndpoints:
    """Answers requests according to a :class:`StubBehaviour` and counts them.

    Args:
        behaviour: Replies, latency and faults to apply.
    """

    def __init__(
        self, behaviour: StubBehaviour, batch_behaviour: BatchBehaviour | None = None
    ) -> None:
        self.behaviour = behaviour
        self.batches = StubBatches(
            behaviour.reply,
            batch_behaviour or BatchBehaviour(),
            lambda request, body, status: self._record(request, body, status, None),
        )
        self._rng = random.Random(behaviour.seed)
        self._fault_draws = 0  # completion requests that went through fault selection
        self._request_count = 0
        self._seen_prefixes: set[bytes] = set()
        self._lock = threading.Lock()  # tests read the counters from another thread
        self._by_endpoint: Counter[str] = Counter()
        self._by_status: Counter[int] = Counter()
        self._by_fault: Counter[str] = Counter()
        self._requests: list[RecordedRequest] = []

    def application(self) -> web.Application:
        """Returns an aiohttp application with the stub's routes."""
        # Batch input files and Message Batches bodies reach hundreds of MB (256 MB limit).
        app = web.Application(client_max_size=300 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._handle_completion)
        app.router.add_post("/v1/messages", self._handle_completion)
        app.router.add_get("/v1/models", self._handle_models)
        app.router.add_post("/v1/embeddings", self._handle_embeddings)
        app.router.add_post("/v1/completions", self._handle_text_completion)
        app.router.add_get("/_stub/stats", self._handle_stats)
        self.batches.routes(app)
        return app

    async def serve(self, port: int) -> tuple[web.AppRunner, int]:
        """Starts serving on 127.0.0.1 in the running loop.

        Args:
            port: The port to bind; 0 picks a free one.

        Returns:
            The runner (``await runner.cleanup()`` stops it) and the bound port.
        """
        # handler_cancellation: a client that gives up on a "slow" reply frees its handler.
        runner = web.AppRunner(
            self.application(), handler_cancellation=True, shutdown_timeout=0.5, access_log=None
        )
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        return runner, runner.addresses[0][1]

    @property
    def stats(self) -> StubStats:
        """The current counters (an immutable snapshot)."""
        with self._lock:
            return StubStats(
                len(self._requests),
                dict(self._by_endpoint),
                dict(self._by_status),
                dict(self._by_fault),
                tuple(self._requests),
            )

    def reset_stats(self) -> None:
        """Zeroes the counters; the fault sequence carries on where it was."""
        with self._lock:
            for counter in (self._by_endpoint, self._by_status, self._by_fault):
                counter.clear()
            self._requests.clear()

    def _record(
        self, request: web.Request, body: Any, status: int | None, fault: str | None
    ) -> None:
        # Only whether a key was sent is kept: its value must never reach logs or test output.
        had_key = bool(request.headers.get("Authorization") or request.headers.get("x-api-key"))
        entry = RecordedRequest(request.path, body, had_key, status, fault)
        with self._lock:
            self._requests.append(entry)
            self._by_endpoint[request.path] += 1
            if status is not None:
                self._by_status[status] += 1
            if fault is not None:
                self._by_fault[fault] += 1

    async def _handle_models(self, request: web.Request) -> web.Response:
        self._record(request, None, 200, None)
        anthropic = "anthropic-version" in request.headers
        return web.json_response(models_list(self.behaviour.models, anthropic=anthropic))

    async def _handle_embeddings(self, request: web.Request) -> web.Response:
        """``POST /v1/embeddings``: deterministic bag-of-words vectors (see :func:`stub_embedding`).

        Vectors have ``dimensions`` numbers (default 32). Two models misbehave on purpose:
        ``embed-ignores-dimensions`` always returns 32, like a server without the
        ``dimensions`` parameter, and ``ragged-embeddings`` returns one number fewer for
        every second input. ``ERROR_MODELS`` get their error, as for completions.
        """
        body: Any = None
        try:
            body = _parse_body(await request.read())
            model = str(body.get("model", ""))
            if model in ERROR_MODELS:
                raise StubRequestError(model)
            inputs = body.get("input")
            inputs = [inputs] if isinstance(inputs, str) else inputs
            if not isinstance(inputs, list) or not all(isinstance(t, str) for t in inputs):
                raise StubRequestError("invalid", "input must be a string or a list of strings.")
            size = body.get("dimensions") or 32
            if not isinstance(size, int) or size < 2:
                raise StubRequestError("invalid", "dimensions must be an integer >= 2.")
            if model == "embed-ignores-dimensions":
                size = 32
            shrink = 1 if model == "ragged-embeddings" else 0
            data = [
                {
                    "object": "embedding",
                    "index": i,
                    "embedding": stub_embedding(t, size - shrink * (i % 2)),
                }
                for i, t in enumerate(inputs)
            ]
        except StubRequestError as exc:
            response = self._error_response("openai", exc, body, "stub-embeddings")
            self._record(request, body, response.status, None)
            return response
        self._record(request, body, 200, None)
        tokens = sum(count_tokens(text) for text in inputs)
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        return web.json_response({"object": "list", "data": data, "model": model, "usage": usage})

    async def _handle_text_completion(self, request: web.Request) -> web.Response:
        """``POST /v1/completions``: legacy text completions, with ``echo`` and ``logprobs``.

        See :mod:`promptlab.testing.stub_text_completions`. ``ERROR_MODELS`` get their
        error; faults are not injected on this route.
        """
        self._request_count += 1
        request_id = f"stub{self._request_count:08d}"
        body: Any = None
        try:
            body = _parse_body(await request.read())
            model = str(body.get("model", ""))
            if model in ERROR_MODELS:
                raise StubRequestError(model)
            window = self.behaviour.context_window
            if window is not None and count_tokens(prompt_text(body)) > window:
                raise StubRequestError("context-exceeded")
            payload = text_completion(body, self.behaviour.reply, request_id)
        except StubRequestError as exc:
            response = self._error_response("openai", exc, body, request_id)
            self._record(request, body, response.status, None)
            return response
        self._record(request, body, 200, None)
        return web.json_response(payload)

    async def _handle_stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats.summary(bodies=bool(request.query.get("bodies"))))

    async def _handle_completion(self, request: web.Request) -> web.StreamResponse:
        vendor = _VENDOR_BY_PATH[request.path]
        self._request_count += 1
        request_id = f"stub{self._request_count:08d}"
        body: Any = None
        fault: str | None = None
        response: web.StreamResponse | None = None
        try:
            body = _parse_body(await request.read())
            if self.behaviour.latency:
                await asyncio.sleep(self.behaviour.latency)
            model = str(body.get("model", ""))
            if model in ERROR_MODELS:
                raise StubRequestError(model)
            fault = self._choose_fault(model)
            response = await self._answer(request, vendor, body, fault, request_id)
        except StubRequestError as exc:
            response = self._error_response(vendor, exc, body, request_id)
        finally:
            # Also runs when the client gave up on a "slow" reply and the handler was cancelled.
            status = None if response is None or fault == "drop" else response.status
            self._record(request, body, status, fault)
        response.headers["x-request-id"] = request_id
        response.headers["request-id"] = f"req_{request_id}"
        return response

    def _choose_fault(self, model: str) -> str | None:
        if model.startswith("fault-") and model[6:] in FAULT_KINDS:
            return model[6:]
        b = self.behaviour
        self._fault_draws += 1
        if self._fault_draws <= b.fail_first_n:
            return b.faults[(self._fault_draws - 1) % len(b.faults)]
        if b.fault_rate and self._rng.random() < b.fault_rate:
            return b.faults[self._rng.randrange(len(b.faults))]
        return None

    async def _answer(
        self,
        request: web.Request,
        vendor: Literal["openai", "anthropic"],
        body: dict[str, Any],
        fault: str | None,
        request_id: str,
    ) -> web.StreamResponse:
        if fault in ("429", "500", "503"):
            raise StubRequestError(fault)
        if fault == "drop":
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=204)  # never sent: the connection is already closed
        if fault == "malformed":
            return web.Response(text=_MALFORMED, content_type="application/json")
        if fault == "slow":
            await asyncio.sleep(self.behaviour.slow_seconds)
        if body.get("stream"):
            detail = "stream=true is not supported by the stub server; send stream=false."
            raise StubRequestError("invalid", detail, "stream")
        window = self.behaviour.context_window
        if window is not None and _prompt_tokens(body) > window:
            raise StubRequestError("context-exceeded")
        if vendor == "anthropic":
            return web.json_response(anthropic_message(body, self.behaviour.reply, request_id))
        cached = self._cached_tokens(body.get("messages"))
        return web.json_response(openai_completion(body, self.behaviour.reply, request_id, cached))

    def _error_response(
        self, vendor: Literal["openai", "anthropic"], exc: StubRequestError, body: Any, rid: str
    ) -> web.Response:
        window = self.behaviour.context_window or 128_000
        model = str(body.get("model", "")) if isinstance(body, dict) else ""
        status, payload = error_body(
            vendor,
            exc,
            model=model,
            request_id=rid,
            window=window,
            tokens=max(_prompt_tokens(body), window + 1),
        )
        response = web.json_response(payload, status=status)
        if exc.kind == "429":
            retry_after = self.behaviour.retry_after
            response.headers["Retry-After"] = f"{retry_after:g}"
            response.headers["retry-after-ms"] = str(round(retry_after * 1000))
        return response

    def _cached_tokens(self, messages: Any) -> int:
        """Tokens in the longest message prefix that an earlier request already sent.

        This mimics OpenAI's automatic prompt caching closely enough for cost accounting.
        """
        if not self.behaviour.prompt_cache or not isinstance(messages, list):
            return 0
        keys = [
            hashlib.sha256(json.dumps(messages[: k + 1], sort_keys=True).encode()).digest()
            for k in range(len(messages))
        ]
        hit = max((k + 1 for k, key in enumerate(keys) if key in self._seen_prefixes), default=0)
        if len(self._seen_prefixes) > _CACHE_LIMIT:
            self._seen_prefixes.clear()
        self._seen_prefixes.update(keys)
        return _prompt_tokens({"messages": messages[:hit]})


def _prompt_tokens(body: Any) -> int:
    if not isinstance(body, dict):
        return 0
    messages = body.get("messages")
    if not isinstance(messages, list):
        messages = []
    texts = [content_text(body.get("system"))]
    texts += [content_text(m.get("content")) for m in messages if isinstance(m, dict)]
    return sum(count_tokens(t) for t in texts)


def stub_embedding(text: str, size: int) -> list[float]:
    """A deterministic embedding: each lowercased word adds 1 to a bucket chosen by its hash.

    Texts that share words get similar vectors, so retrieval over the stub is meaningful.
    """
    vector = [0.0] * size
    for word in re.findall(r"\w+", text.lower()):
        bucket = int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], "big") % size
        vector[bucket] += 1.0
    return vector


def _parse_body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise StubRequestError("invalid", "The request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise StubRequestError("invalid", "The request body must be a JSON object.")
    return body
