"""run_sync: results, errors, tasks, timeouts and cancellation as under a plain event loop."""

import asyncio
import sys

import pytest

from promptlab import ZeroShot
from promptlab.sync import run_sync
from promptlab.testing import FakeProvider


def test_run_sync_outside_a_loop_reuses_one_loop():
    async def loop_id():
        return id(asyncio.get_running_loop())

    assert run_sync(loop_id()) == run_sync(loop_id())


def test_sync_run_works_inside_a_running_loop_like_jupyter():
    async def notebook_cell():
        # In Jupyter a loop is already running; the blocking .run must still work.
        return ZeroShot(extractor="numeric").run({"question": "q"}, FakeProvider(["Answer: 5"]))

    assert asyncio.run(notebook_cell()).answer == "5"


def test_a_coroutine_that_never_waits_runs_inside_a_real_task_on_a_running_loop():
    async def inspect():
        loop = asyncio.get_running_loop()
        return asyncio.current_task() is not None, loop.is_running()

    assert run_sync(inspect()) == (True, True)
    # Nothing is left looking like a running loop afterwards.
    with pytest.raises(RuntimeError, match="no running event loop"):
        asyncio.get_running_loop()


def test_a_coroutine_that_waits_keeps_its_task_across_the_wait():
    async def same_task_after_sleep():
        before = asyncio.current_task()
        await asyncio.sleep(0.01)
        return before is asyncio.current_task()

    assert run_sync(same_task_after_sleep()) is True


@pytest.mark.parametrize("wait_first", [False, True])
def test_errors_propagate_unchanged_before_and_after_a_wait(wait_first):
    class Boom(Exception):
        pass

    async def fail():
        if wait_first:
            await asyncio.sleep(0)
        raise Boom("no")

    with pytest.raises(Boom, match="no"):
        run_sync(fail())


def test_a_task_cancelling_itself_raises_cancelled_error():
    async def cancel_self():
        asyncio.current_task().cancel()
        await asyncio.sleep(1)

    with pytest.raises(asyncio.CancelledError):
        run_sync(cancel_self())


def test_timeouts_fire():
    async def too_slow():
        await asyncio.wait_for(asyncio.sleep(10), timeout=0.01)

    with pytest.raises(asyncio.TimeoutError):
        run_sync(too_slow())


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout is new in 3.11")
def test_asyncio_timeout_needs_and_finds_the_current_task():
    async def too_slow():
        async with asyncio.timeout(0.01):  # raises at once if there is no current task
            await asyncio.sleep(10)

    with pytest.raises(TimeoutError):
        run_sync(too_slow())


def test_tasks_started_without_waiting_still_get_to_run():
    started = []

    async def side():
        started.append(True)

    async def fire_and_forget():
        asyncio.get_running_loop().create_task(side())
        return "done"

    assert run_sync(fire_and_forget()) == "done"
    assert started == [True]


def test_awaitables_that_are_not_coroutines_still_work():
    class Seven:
        def __await__(self):
            yield from asyncio.sleep(0).__await__()
            return 7

    assert run_sync(Seven()) == 7
