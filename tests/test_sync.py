import asyncio

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
