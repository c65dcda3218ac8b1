"""Run async code from sync code, including inside notebooks.

:func:`run_sync` is the one bridge every sync method goes through (``Strategy.run``,
``Provider.complete_sync``...). With no event loop running in this thread it reuses a
per-thread loop, so async clients made on the first call stay usable on later calls.
Inside Jupyter, where a loop is already running, it runs the coroutine on a single
background loop thread and blocks until it is done.

Eager first step: a blocking call on a fast backend (a cache hit, the fake provider)
often finishes without ever waiting on I/O, yet ``loop.run_until_complete`` costs two
turns of the event loop (each a ``select`` system call), about 10-20 µs: more than the
rest of a strategy call. So on the per-thread loop, :func:`run_sync` creates the task as
usual and runs its first step at once, like Python 3.12's eager tasks. If that step
finishes the coroutine, its result is returned straight away; if the coroutine waits on
something, the same task continues under ``run_until_complete``. The step runs inside the
real task, with the loop set as running, so ``asyncio.current_task()``, timeouts,
cancellation and libraries that look for the running task (anyio, aiohttp) behave exactly
as they do under ``run_until_complete``.
"""

from __future__ import annotations

import asyncio
import atexit
import sys
import threading
from collections import deque
from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar, cast

T = TypeVar("T")

_local = threading.local()
_background_lock = threading.Lock()
_background: tuple[asyncio.AbstractEventLoop, threading.Thread] | None = None


def run_sync(awaitable: Awaitable[T]) -> T:
    """Wait for ``awaitable`` and return its result, from sync code.

    Works both in plain scripts and inside a running event loop (Jupyter).

    Example:
        >>> async def answer() -> int:
        ...     return 42
        >>> run_sync(answer())
        42
    """
    # The low-level getter returns None instead of raising: cheaper on this hot path.
    if asyncio._get_running_loop() is None:
        return _run_on_thread_loop(_thread_loop(), awaitable)
    future = asyncio.run_coroutine_threadsafe(_as_coroutine(awaitable), _background_loop())
    return future.result()


def _run_on_thread_loop(loop: asyncio.AbstractEventLoop, awaitable: Awaitable[T]) -> T:
    # The eager step relies on two details of asyncio's own loops (BaseEventLoop): the
    # queue of ready callbacks `_ready`, and `Handle._run`, both unchanged since 3.4. Other
    # loops (uvloop), debug mode and non-coroutine awaitables take the ordinary path.
    if (
        not asyncio.iscoroutine(awaitable)
        or not isinstance(loop, asyncio.BaseEventLoop)
        or loop.get_debug()
        or _ready(loop)  # something else is queued: let the loop run it in order
    ):
        return loop.run_until_complete(awaitable)
    task = loop.create_task(cast("Coroutine[Any, Any, T]", awaitable))
    # create_task queued exactly one callback, the task's first step; run it now.
    first_step = _ready(loop).popleft()
    _run_step(loop, first_step)
    if task.done() and not _ready(loop):
        return task.result()
    # The coroutine waits on something (or scheduled other callbacks): keep going.
    return loop.run_until_complete(task)


def _run_step(loop: asyncio.BaseEventLoop, step: asyncio.Handle) -> None:
    """Run one callback as ``run_forever`` would: loop running, thread id and
    async-generator hooks set (so generators started here are finalized by this loop)."""
    old_hooks = sys.get_asyncgen_hooks()
    loop._thread_id = threading.get_ident()  # type: ignore[attr-defined]
    sys.set_asyncgen_hooks(
        firstiter=loop._asyncgen_firstiter_hook,  # type: ignore[attr-defined]
        finalizer=loop._asyncgen_finalizer_hook,  # type: ignore[attr-defined]
    )
    asyncio.events._set_running_loop(loop)
    try:
        step._run()  # type: ignore[attr-defined]
    finally:
        asyncio.events._set_running_loop(None)
        loop._thread_id = None  # type: ignore[attr-defined]
        sys.set_asyncgen_hooks(*old_hooks)


def _ready(loop: asyncio.BaseEventLoop) -> deque[asyncio.Handle]:
    """The loop's queue of callbacks to run on its next turn."""
    return loop._ready  # type: ignore[attr-defined,no-any-return]


async def _as_coroutine(awaitable: Awaitable[T]) -> T:
    return await awaitable


def _thread_loop() -> asyncio.AbstractEventLoop:
    loop: asyncio.AbstractEventLoop | None = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        _local.loop = loop
    return loop


def _background_loop() -> asyncio.AbstractEventLoop:
    global _background
    with _background_lock:
        if _background is None or not _background[1].is_alive():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="promptlab-sync", daemon=True)
            thread.start()
            _background = (loop, thread)
            atexit.register(loop.call_soon_threadsafe, loop.stop)
        return _background[0]
