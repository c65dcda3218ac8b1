"""The response cache writes in batches: nothing is lost that the run directory cannot replay.

A response is kept in memory first and written with others in one transaction (see
:mod:`promptlab.providers.cache`). These tests check what that must not change: a get in
the same process sees a put at once, closing or exiting writes everything, a killed
process loses at most the window that was not written yet (and a later run repairs it),
and two processes writing one file at once both land.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from promptlab.completion import Choice, Completion, CompletionRequest, Usage
from promptlab.errors import ConfigurationError
from promptlab.messages import Message
from promptlab.params import GenerationParams
from promptlab.providers.cache import CachedProvider, ResponseCache
from promptlab.testing import FakeProvider

ROOT = Path(__file__).resolve().parents[2]
FINGERPRINT = {"class": "tests.Fake", "name": "fake", "model": "fake-model"}


def request(i: int) -> CompletionRequest:
    return CompletionRequest((Message("user", f"What is {i} + 1?"),), GenerationParams(seed=i))


def answer(i: int) -> Completion:
    return Completion((Choice(f"Answer: {i + 1}", "stop"),), Usage(5, 3), provider="fake")


def rows_on_disk(path: Path) -> int:
    """Rows another connection sees: what is written, not what waits in memory."""
    with sqlite3.connect(path) as other:
        return int(other.execute("SELECT COUNT(*) FROM responses").fetchone()[0])


def run_python(code: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=check,
    )


def test_a_get_after_a_put_sees_the_response_before_it_is_written(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path, flush_interval=3600, flush_size=100)
    cache.put("k1", FINGERPRINT, request(1), answer(1))
    assert rows_on_disk(cache.path) == 0  # waiting in memory
    stored = cache.get("k1")
    assert stored is not None and stored.text == "Answer: 2" and stored.calls == 0
    cache.put("k1", FINGERPRINT, request(1), answer(7))  # an overwrite replaces the waiting one
    assert cache.get("k1").text == "Answer: 8"  # type: ignore[union-attr]
    cache.close()
    assert rows_on_disk(cache.path) == 1
    reopened = ResponseCache(tmp_path)
    assert reopened.get("k1").text == "Answer: 8"  # type: ignore[union-attr]
    reopened.close()


def test_a_full_batch_is_written_in_one_transaction_at_once(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path, flush_interval=3600, flush_size=3)
    for i in range(4):
        cache.put(f"k{i}", FINGERPRINT, request(i), answer(i))
    assert rows_on_disk(cache.path) == 3  # the first three; the fourth waits
    cache.flush()
    assert rows_on_disk(cache.path) == 4
    cache.close()


def test_waiting_responses_are_written_after_the_flush_interval(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path, flush_interval=0.05, flush_size=1000)
    cache.put("k1", FINGERPRINT, request(1), answer(1))
    deadline = time.monotonic() + 30  # the bound is 0.05 s; this only guards a hang
    while rows_on_disk(cache.path) == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert rows_on_disk(cache.path) == 1  # written by the timer, without close or flush
    cache.close()


def test_a_full_batch_leaves_the_running_timer_to_write_the_next(tmp_path: Path) -> None:
    """A busy cache starts one timer thread per interval, not one per batch."""
    cache = ResponseCache(tmp_path, flush_interval=0.05, flush_size=2)
    cache.put("k0", FINGERPRINT, request(0), answer(0))
    timer = cache._timer
    assert timer is not None
    cache.put("k1", FINGERPRINT, request(1), answer(1))  # a full batch: written at once
    assert rows_on_disk(cache.path) == 2
    cache.put("k2", FINGERPRINT, request(2), answer(2))
    assert cache._timer is timer  # the same timer, not a new thread
    deadline = time.monotonic() + 30  # the bound is 0.05 s; this only guards a hang
    while rows_on_disk(cache.path) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert rows_on_disk(cache.path) == 3  # the next batch, written by that timer
    cache.close()


def test_len_and_clear_count_the_waiting_responses(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path, flush_interval=3600)
    cache.put("k1", FINGERPRINT, request(1), answer(1))
    cache.put("k2", FINGERPRINT, request(2), answer(2))
    assert len(cache) == 2
    cache.put("k3", FINGERPRINT, request(3), answer(3))
    cache.clear()
    assert (len(cache), cache.get("k3")) == (0, None)
    cache.close()
    assert rows_on_disk(cache.path) == 0


def test_a_closed_cache_refuses_a_put_and_closes_twice(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    cache.close()
    cache.close()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        cache.put("k1", FINGERPRINT, request(1), answer(1))


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("flush_interval", -1),
        ("flush_interval", float("nan")),
        ("flush_interval", float("inf")),
        ("flush_interval", "1"),
        ("flush_size", 0),
        ("flush_size", 2.5),
        ("flush_size", True),
    ],
)
def test_bad_flush_settings_are_refused_with_the_setting_named(
    tmp_path: Path, option: str, value: object
) -> None:
    with pytest.raises(ConfigurationError, match=option):
        ResponseCache(tmp_path, **{option: value})  # type: ignore[arg-type]


async def test_the_stored_request_is_the_keys_own_text(tmp_path: Path) -> None:
    """The request is serialised once per miss: the key is the hash of what is stored."""
    cache = ResponseCache(tmp_path)
    fake = FakeProvider(["Answer: 4"], cycle=True)
    wrapper = CachedProvider(fake, cache, sample_index=3)
    asked = CompletionRequest((Message("user", "What is 2 + 2? é"),), GenerationParams(seed=9))
    await wrapper.complete(asked)
    await wrapper.complete(asked)  # the same request again in the cell: occurrence 1
    cache.close()
    with sqlite3.connect(cache.path) as db:
        rows = db.execute("SELECT key, request FROM responses").fetchall()
    assert len(rows) == 2
    expected_keys = {ResponseCache.key(fake.fingerprint(), asked, 3, n) for n in (0, 1)}
    assert {key for key, _ in rows} == expected_keys
    for key, text in rows:
        assert hashlib.sha256(text.encode()).hexdigest() == key
        stored = json.loads(text)
        assert stored["provider"] == fake.fingerprint()
        assert stored["messages"] == [{"role": "user", "content": "What is 2 + 2? é"}]
        assert (stored["params"], stored["sample_index"]) == ({"seed": 9}, 3)


def test_an_unclosed_cache_is_written_when_the_interpreter_exits(tmp_path: Path) -> None:
    path = tmp_path / "responses.sqlite"
    run_python(
        """
        import sys
        from promptlab.completion import Choice, Completion, CompletionRequest
        from promptlab.messages import Message
        from promptlab.providers.cache import ResponseCache

        cache = ResponseCache(sys.argv[1], flush_interval=3600, flush_size=1000)
        for i in range(5):
            asked = CompletionRequest((Message("user", str(i)),))
            cache.put(f"k{i}", {"name": "fake"}, asked, Completion((Choice(str(i)),)))
        # no close: exiting writes what waits
        """,
        str(path),
    )
    assert rows_on_disk(path) == 5


def test_a_killed_run_loses_at_most_the_unwritten_window_and_a_rerun_repairs_it(
    tmp_path: Path,
) -> None:
    from tests.providers.killable_run import CELLS, FLUSH_SIZE, run

    cache_path = tmp_path / "responses.sqlite"
    run_dir = tmp_path / "run"
    killed = run_python(
        "import sys; from pathlib import Path; from tests.providers.killable_run import run; "
        "run(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))",
        str(run_dir),
        str(cache_path),
        "10",
        check=False,
    )
    assert killed.returncode == -9, killed.stderr
    # Nine responses came back before the kill; two batches of four were written, the
    # ninth waited in memory and is lost. That is the whole loss.
    assert rows_on_disk(cache_path) == 8

    # Resume: cells in cells.jsonl are done; the rest run (cache hits where written).
    resumed = run(run_dir, cache_path)
    expected = {str(i): str(i + 1) for i in range(CELLS)}
    assert resumed["answers"] == expected  # every cell, each with the right answer
    missing = CELLS - rows_on_disk(cache_path)
    assert 0 <= missing <= FLUSH_SIZE - 1  # at most the lost window

    # A new run on the same cache calls exactly for the lost responses and stores them.
    again = run(tmp_path / "b", cache_path)
    assert (again["answers"], again["calls"]) == (expected, missing)
    assert rows_on_disk(cache_path) == CELLS
    last = run(tmp_path / "c", cache_path)
    assert (last["calls"], last["cached"]) == (0, CELLS)


WRITER = """
    import sys
    from promptlab.completion import Choice, Completion, CompletionRequest
    from promptlab.messages import Message
    from promptlab.providers.cache import ResponseCache

    path, name = sys.argv[1], sys.argv[2]
    cache = ResponseCache(path, flush_interval=0.01, flush_size=16)
    for i in range(200):
        for key in (f"{name}-{i}", f"shared-{i % 20}"):
            asked = CompletionRequest((Message("user", key),))
            cache.put(key, {"name": name}, asked, Completion((Choice(f"{name} {key}"),)))
    cache.close()
"""


def test_two_processes_writing_one_cache_file_both_land(tmp_path: Path) -> None:
    path = tmp_path / "responses.sqlite"
    ResponseCache(path).close()  # the file and its tables exist before both start
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(WRITER), str(path), name],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    for writer in writers:
        _, errors = writer.communicate(timeout=120)
        assert writer.returncode == 0, errors
    cache = ResponseCache(path)
    assert len(cache) == 200 + 200 + 20
    for name in ("a", "b"):
        assert all(cache.get(f"{name}-{i}").text == f"{name} {name}-{i}" for i in range(200))  # type: ignore[union-attr]
    assert cache.get("shared-3").text in ("a shared-3", "b shared-3")  # type: ignore[union-attr]
    cache.close()
