"""The response cache reads ahead: a re-run's lookups in stored order cost few queries.

See :mod:`promptlab.providers.cache`: a lookup answered from the file also reads the
responses stored after it. These tests check that every lookup still returns what is
stored, in any order, that this process's own writes and clears are seen at once, and
that another process's overwrite is seen once the read-ahead window has passed (at once
with ``flush_interval=0``).
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from pathlib import Path

from promptlab.completion import Choice, Completion, CompletionRequest, Usage
from promptlab.messages import Message
from promptlab.params import GenerationParams
from promptlab.providers.cache import READ_AHEAD, ResponseCache, completion_to_dict

FINGERPRINT = {"class": "tests.Fake", "name": "fake", "model": "fake-model"}


def request(i: int) -> CompletionRequest:
    return CompletionRequest((Message("user", f"What is {i} + 1?"),), GenerationParams(seed=i))


def answer(i: int, text: str = "") -> Completion:
    return Completion((Choice(text or f"Answer: {i + 1}", "stop"),), Usage(5, 3), calls=1)


def stored(path: Path, count: int) -> list[str]:
    """``count`` responses written to the cache file at ``path``, keys in stored order."""
    cache = ResponseCache(path)
    keys = [f"k{i}" for i in range(count)]
    for i, key in enumerate(keys):
        cache.put(key, FINGERPRINT, request(i), answer(i))
    cache.close()
    return keys


def counting_queries(cache: ResponseCache) -> list[str]:
    statements: list[str] = []
    cache._db.set_trace_callback(statements.append)
    return statements


def test_lookups_in_stored_order_are_served_with_few_queries(tmp_path: Path) -> None:
    keys = stored(tmp_path, 5 * READ_AHEAD)
    cache = ResponseCache(tmp_path, flush_interval=3600)
    queries = counting_queries(cache)
    for i, key in enumerate(keys):
        hit = cache.get(key)
        assert hit is not None and hit.text == f"Answer: {i + 1}" and hit.calls == 0
    assert len(queries) <= 2 * (len(keys) // READ_AHEAD + 1)  # one lookup and one read-ahead
    cache.close()


def test_lookups_in_any_order_return_what_is_stored(tmp_path: Path) -> None:
    keys = stored(tmp_path, 3 * READ_AHEAD)
    order: list[tuple[int | None, str]] = [*enumerate(keys), (None, "missing")]
    random.Random(7).shuffle(order)
    cache = ResponseCache(tmp_path, flush_interval=3600)
    for i, key in order + order:  # twice: the second pass meets what the first read ahead
        hit = cache.get(key)
        assert (hit is None) if i is None else (hit is not None and hit.text == f"Answer: {i + 1}")
    cache.close()


def test_a_put_or_clear_after_reading_ahead_is_seen_at_once(tmp_path: Path) -> None:
    keys = stored(tmp_path, 10)
    cache = ResponseCache(tmp_path, flush_interval=3600)
    assert cache.get(keys[0]) is not None  # reads keys[1:] ahead
    cache.put(keys[5], FINGERPRINT, request(5), answer(5, "Answer: new"))
    cache.flush()  # written: no longer waiting in memory
    assert cache.get(keys[5]).text == "Answer: new"  # type: ignore[union-attr]
    cache.clear()
    assert cache.get(keys[6]) is None
    cache.close()


def overwrite_elsewhere(path: Path, key: str, text: str) -> None:
    """Another connection (another process, say) replaces a stored response."""
    data = json.dumps(completion_to_dict(answer(0, text)), ensure_ascii=False)
    with sqlite3.connect(path) as other:
        other.execute("UPDATE responses SET completion = ? WHERE key = ?", (data, key))


def test_another_writer_is_seen_after_the_read_ahead_window(tmp_path: Path) -> None:
    keys = stored(tmp_path, 10)
    cache = ResponseCache(tmp_path, flush_interval=0.05)
    assert cache.get(keys[0]) is not None  # reads keys[1:] ahead
    overwrite_elsewhere(cache.path, keys[1], "Answer: elsewhere")
    time.sleep(0.1)  # past the window (0.05 s)
    assert cache.get(keys[1]).text == "Answer: elsewhere"  # type: ignore[union-attr]
    cache.close()


def test_with_no_write_window_every_lookup_reads_the_file(tmp_path: Path) -> None:
    keys = stored(tmp_path, 10)
    cache = ResponseCache(tmp_path, flush_interval=0)
    assert cache.get(keys[0]) is not None
    overwrite_elsewhere(cache.path, keys[1], "Answer: elsewhere")
    assert cache.get(keys[1]).text == "Answer: elsewhere"  # type: ignore[union-attr]
    cache.close()
