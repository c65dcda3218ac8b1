"""Run async code from sync code, including inside notebooks.

:func:`run_sync` is the one bridge every sync method goes through (``Strategy.run``,
``Provider.complete_sync``...). With no event loop running in this thread it reuses a
per-thread loop, so async clients made on the first call stay usable on later calls.
Inside Jupyter, where a loop is already running, it runs the coroutine on a single
background loop thread and blocks until it is done. Only public asyncio API is used.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Awaitable
from typing import TYPE_CHECKING, TypeVar

# asyncio is imported by the functions that use it, on the first sync call: importing it
# costs about as much as importing Jinja, and defining a strategy needs neither.
if TYPE_CHECKING:
    import asyncio

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
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:  # no loop running in this thread: the common, scripted case
        return _thread_loop().run_until_complete(awaitable)
    future = asyncio.run_coroutine_threadsafe(_as_coroutine(awaitable), _background_loop())
    return future.result()


async def _as_coroutine(awaitable: Awaitable[T]) -> T:
    return await awaitable


def _thread_loop() -> asyncio.AbstractEventLoop:
    loop: asyncio.AbstractEventLoop | None = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        import asyncio

        loop = asyncio.new_event_loop()
        _local.loop = loop
    return loop


def _background_loop() -> asyncio.AbstractEventLoop:
    global _background
    with _background_lock:
        if _background is None or not _background[1].is_alive():
            import asyncio

            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="promptlab-sync", daemon=True)
            thread.start()
            _background = (loop, thread)
            atexit.register(loop.call_soon_threadsafe, loop.stop)
        return _background[0]
