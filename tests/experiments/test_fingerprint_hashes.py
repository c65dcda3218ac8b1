"""Task hashes must never change: run directories store them and resume by comparing them."""

from __future__ import annotations

import enum
import json
from datetime import date
from typing import Any, ClassVar

import pytest

from promptlab.experiments.store import definition_fingerprint
from promptlab.experiments.store._fingerprint import task_hash
from promptlab.experiments.tasks import Task, TaskSet, task_json

PLAIN = Task("t0", {"question": "What is 0 plus 3?"}, 3)
ESCAPED = Task("t1", {"q": "Café « 2+3 »?", "b": 'x"y\\z\n'}, "5")
OTHER = Task("t2", {"n": 1.5, "flag": True}, None)


def test_task_hashes_are_the_ones_stored_in_existing_run_directories() -> None:
    # Taken with the json.dumps-based hash used before the fast path existed.
    assert task_hash(PLAIN) == "c2a7e757ee0083bc"
    assert task_hash(ESCAPED) == "59b45026fc1bf172"
    assert TaskSet([PLAIN, ESCAPED, OTHER]).fingerprint == "718422c0345bb25a"


class Colour(enum.IntEnum):
    RED = 1


class Label(str):
    pass


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({}, 0),
        ({"b": "2", "a": "1", "B": "0"}, "x"),
        ({"q": "\u2028 tab\t nul\x00 emoji 😀"}, "ünï"),
        ({"q": "x"}, -(10**30)),
        ({"q": "x"}, True),
        ({"q": "x"}, 2.5),
        ({"q": "x"}, float("nan")),
        ({"q": "x"}, None),
        ({"q": "x"}, [1, "2"]),
        ({"q": 3, "r": False}, 1),
        ({"q": Colour.RED}, Colour.RED),
        ({"q": Label("x")}, Label("y")),
        ({"q": date(2024, 1, 2)}, date(2024, 1, 3)),
        ({"q": {"z": 1, "a": [None]}}, "x"),
        ({1: "x", 2: "y"}, "x"),
    ],
)
def test_task_json_is_exactly_what_json_dumps_writes(inputs: dict[str, Any], expected: Any) -> None:
    task = Task("t", inputs, expected)
    assert task_json(task) == json.dumps([inputs, expected], sort_keys=True, default=str)


def test_mixed_key_types_fail_as_json_does() -> None:
    with pytest.raises(TypeError):
        task_json(Task("t", {1: "x", "a": "y"}, 1))  # type: ignore[dict-item]


def test_definition_fingerprint_reads_as_from_json_with_the_pinned_hashes() -> None:
    class _Described:
        tasks = TaskSet([OTHER, PLAIN, ESCAPED])
        providers: ClassVar[dict[str, Any]] = {}
        scorers: ClassVar[list[Any]] = []
        repeats = 1
        seed = 0

        def describe(self) -> dict[str, Any]:
            return {"arms": {}}

    fingerprint = definition_fingerprint(_Described())  # type: ignore[arg-type]
    assert list(fingerprint["tasks"].items()) == [
        ("t0", "c2a7e757ee0083bc"),
        ("t1", "59b45026fc1bf172"),
        ("t2", task_hash(OTHER)),
    ]
    assert list(fingerprint) == sorted(fingerprint)
    assert fingerprint == json.loads(json.dumps(fingerprint, sort_keys=True))
