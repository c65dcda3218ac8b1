"""A loopback HTTP server speaking the OpenAI and Anthropic APIs, with fault injection.

Provider tests run the vendors' real SDKs against it on 127.0.0.1, with no SDK mocks. It
answers ``POST /v1/chat/completions``, ``POST /v1/messages``, ``GET /v1/models`` and the
legacy ``POST /v1/completions`` (with ``echo`` and prompt ``logprobs``, see
:mod:`promptlab.testing.stub_text_completions`) deterministically, and can be told to
fail: rate limits with ``Retry-After``, 5xx, replies slower than the client's timeout,
malformed JSON, dropped connections.

Three ways to run it::

    async with StubServer(latency=0.05) as srv:          # inside a running event loop
        client = openai.AsyncOpenAI(base_url=srv.base_url, api_key="sk-test")

    with StubServer.in_thread(fail_first_n=2, faults=("429",)) as srv:   # sync tests
        client = anthropic.Anthropic(base_url=srv.root_url, api_key="sk-test")

    python -m promptlab.testing.stub_server --port 0 --latency 0.2   # prints its URL

Requests for the models ``auth-error``, ``bad-request``, ``not-found`` and
``context-exceeded`` always get that non-retryable error, and ``fault-<kind>`` (e.g.
``fault-429``) always gets that fault. ``GET /_stub/stats`` returns the counters as JSON
(add ``?bodies=1`` for the request bodies), for servers running in another process.
The server binds 127.0.0.1 only and shuts itself down after ``max_lifetime`` seconds, so
a forgotten one cannot hang a run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from promptlab.errors import ConfigurationError
from promptlab.testing.stub_batches import BatchBehaviour, BatchHook, StubBatches
from promptlab.testing.stub_endpoints import (
    FAULT_KINDS,
    RecordedRequest,
    StubBehaviour,
    StubEndpoints,
    StubStats,
)
from promptlab.testing.stub_payloads import DEFAULT_MODELS, ReplyFn, default_reply

if TYPE_CHECKING:
    from aiohttp import web

__all__ = ["FAULT_KINDS", "RecordedRequest", "StubServer", "StubStats"]


class StubServer:
    """A deterministic OpenAI/Anthropic-compatible server on 127.0.0.1 with fault injection.

    Args:
        reply: ``reply(messages, params) -> str`` producing each reply before ``stop`` and
            ``max_tokens`` cut it. ``params`` is the request body without the messages, plus
            ``"choice_index"``. Defaults to echoing the last user message, then
            ``"The answer is 42."``.
        latency: Seconds each completion request waits (``asyncio.sleep``, no CPU).
        fault_rate: Probability in [0, 1] that a completion request gets a random fault.
        faults: The faults to inject, from ``FAULT_KINDS``: ``"429"`` (with ``Retry-After``),
            ``"500"``, ``"503"``, ``"slow"``, ``"malformed"`` (200 with broken JSON),
            ``"drop"`` (connection closed without a response).
        fail_first_n: The first ``k`` completion requests fault, cycling through
            ``faults``; later ones succeed. For deterministic retry tests.
        retry_after: Seconds sent in ``Retry-After`` (and ``retry-after-ms``) with a 429.
        slow_seconds: How long a ``"slow"`` fault waits before answering; set it above
            the client's timeout.
        seed: Seed of the fault RNG: the same sequence of requests meets the same faults.
        context_window: Prompts longer than this many words get a context-length error.
        prompt_cache: Report a repeated message prefix as OpenAI ``cached_tokens``.
        models: Model ids listed by ``GET /v1/models``.
        max_lifetime: Seconds after start when the server shuts itself down.
        port: Port to bind on 127.0.0.1; 0 picks a free one.
        batch_seconds: How long a batch (OpenAI Batch, Anthropic Message Batches) runs
            before its results are ready.
        batch_expire_first_n, batch_error_first_n: The first requests processed in
            batches expire, then the next ones get a 500 error (for retry tests).
        batch_reject_first_n: The first batches are rejected at validation.
        batch_hook: ``hook(event, info)`` called at each batch step (see
            :mod:`promptlab.testing.stub_batches`); it runs in the server's thread.
        batch_api_key: When set, the batch endpoints answer 401 unless the request
            carries this key (a server that needs its own key).

    Example::

        async with StubServer(reply=lambda messages, params: "Paris.") as srv:
            client = openai.AsyncOpenAI(base_url=srv.base_url, api_key="sk-test")
            reply = await client.chat.completions.create(model="stub-model", messages=msgs)
            assert reply.choices[0].message.content == "Paris."
            assert srv.stats.total_requests == 1
    """

    def __init__(
        self,
        *,
        reply: ReplyFn = default_reply,
        latency: float = 0.0,
        fault_rate: float = 0.0,
        faults: Sequence[str] = ("429", "500", "503"),
        fail_first_n: int = 0,
        retry_after: float = 0.2,
        slow_seconds: float = 30.0,
        seed: int = 0,
        context_window: int | None = None,
        prompt_cache: bool = True,
        models: Sequence[str] = DEFAULT_MODELS,
        max_lifetime: float = 600.0,
        port: int = 0,
        batch_seconds: float = 0.0,
        batch_expire_first_n: int = 0,
        batch_error_first_n: int = 0,
        batch_reject_first_n: int = 0,
        batch_hook: BatchHook | None = None,
        batch_api_key: str | None = None,
    ) -> None:
        if not max_lifetime > 0:
            raise ConfigurationError(
                f"StubServer max_lifetime={max_lifetime!r} is invalid; use seconds > 0."
            )
        if not 0 <= port < 65536:
            raise ConfigurationError(
                f"StubServer port={port!r} is invalid; use 0 (any free port) or 1-65535."
            )
        behaviour = StubBehaviour(
            reply=reply,
            latency=latency,
            fault_rate=fault_rate,
            faults=tuple(faults),
            fail_first_n=fail_first_n,
            retry_after=retry_after,
            slow_seconds=slow_seconds,
            seed=seed,
            context_window=context_window,
            prompt_cache=prompt_cache,
            models=tuple(models),
        )
        batches = BatchBehaviour(
            seconds=batch_seconds,
            expire_first_n=batch_expire_first_n,
            error_first_n=batch_error_first_n,
            reject_first_n=batch_reject_first_n,
            hook=batch_hook,
            api_key=batch_api_key,
        )
        self._endpoints = StubEndpoints(behaviour, batches)
        self._max_lifetime = max_lifetime
        self._port = port
        self._runner: web.AppRunner | None = None
        self._lifetime_task: asyncio.Task[None] | None = None
        self._closed: asyncio.Event | None = None
        self.expired = False
        """True once ``max_lifetime`` ran out and the server shut itself down."""

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT``, the base URL for Anthropic clients."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``, the base URL for OpenAI clients."""
        return f"{self.root_url}/v1"

    @property
    def batches(self) -> StubBatches:
        """The batch endpoints' state: files, batches, and every request submitted.

        The vendors' batch APIs are served too (see :mod:`promptlab.testing.stub_batches`).
        """
        return self._endpoints.batches

    @property
    def stats(self) -> StubStats:
        """Counters and received bodies: an immutable snapshot, safe from any thread."""
        return self._endpoints.stats

    def reset_stats(self) -> None:
        """Zeroes the counters; the fault sequence carries on where it was."""
        self._endpoints.reset_stats()

    async def start(self) -> StubServer:
        """Binds 127.0.0.1 and starts serving in the running event loop.

        Returns:
            The server itself, with ``base_url`` and ``root_url`` now valid.
        """
        runner, self._port = await self._endpoints.serve(self._port)
        self._runner = runner
        self._closed = asyncio.Event()
        self._lifetime_task = asyncio.create_task(self._expire_after_lifetime())
        return self

    async def _expire_after_lifetime(self) -> None:
        await asyncio.sleep(self._max_lifetime)
        self.expired = True
        await self._shutdown()

    async def _shutdown(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        if self._closed is not None:
            self._closed.set()

    async def aclose(self) -> None:
        """Stops serving. Safe to call twice, or after the lifetime ran out."""
        task = self._lifetime_task
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._shutdown()

    async def wait_closed(self) -> None:
        """Returns once the server was closed or its lifetime ran out."""
        if self._closed is not None:
            await self._closed.wait()

    async def __aenter__(self) -> StubServer:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @classmethod
    @contextlib.contextmanager
    def in_thread(cls, **options: Any) -> Iterator[StubServer]:
        """Runs a server on its own event loop in a daemon thread, for synchronous tests.

        Args:
            **options: Any ``StubServer`` constructor argument.

        Yields:
            The started server.
        """
        server = cls(**options)
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="stub-server", daemon=True)
        thread.start()
        try:
            asyncio.run_coroutine_threadsafe(server.start(), loop).result(timeout=30)
            yield server
        finally:
            asyncio.run_coroutine_threadsafe(server.aclose(), loop).result(timeout=30)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m promptlab.testing.stub_server",
        description="Stub OpenAI/Anthropic server on 127.0.0.1. Prints its root URL "
        "(append /v1 for OpenAI clients) on the first line of stdout.",
    )
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument(
        "--faults", default="429,500,503", help=f"comma-separated subset of {FAULT_KINDS}"
    )
    parser.add_argument("--fail-first-n", type=int, default=0)
    parser.add_argument("--retry-after", type=float, default=0.2)
    parser.add_argument("--slow-seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--context-window", type=int, default=None)
    parser.add_argument("--max-lifetime", type=float, default=600.0)
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    server = StubServer(
        latency=args.latency,
        fault_rate=args.fault_rate,
        faults=[f.strip() for f in args.faults.split(",") if f.strip()],
        fail_first_n=args.fail_first_n,
        retry_after=args.retry_after,
        slow_seconds=args.slow_seconds,
        seed=args.seed,
        context_window=args.context_window,
        max_lifetime=args.max_lifetime,
        port=args.port,
    )
    await server.start()
    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop_requested.set)
    print(server.root_url, flush=True)
    waiters = {
        asyncio.create_task(stop_requested.wait()),
        asyncio.create_task(server.wait_closed()),
    }
    _, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await server.aclose()


def main(argv: Sequence[str] | None = None) -> None:
    """Runs the stub server until SIGTERM/SIGINT or ``--max-lifetime`` seconds pass."""
    asyncio.run(_serve(_parse_args(argv)))


if __name__ == "__main__":
    main()
