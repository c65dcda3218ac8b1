"""One small experiment on the real bundled model: 3 tasks x 2 arms, then again from the cache.

In CI a model that cannot load fails this test (``local_provider`` uses ``require``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from promptlab.experiments.analysis import Run
from promptlab.experiments.arm import ArmSpec
from promptlab.experiments.experiment import Experiment
from promptlab.strategies import ChainOfThought, ZeroShot

pytestmark = pytest.mark.local_model

TASKS = [
    {"id": "a", "question": "Tom has 3 apples and buys 2 more. How many apples does he have?",
     "answer": 5},
    {"id": "b", "question": "What is 4 + 4?", "answer": 8},
    {"id": "c", "question": "A box has 7 pens. 4 are taken out. How many pens are left?",
     "answer": 3},
]  # fmt: skip


def build(provider: Any) -> Experiment:
    return Experiment(
        arms={
            "zero_shot": ArmSpec(
                ZeroShot(extractor="numeric"), {"temperature": 0, "max_tokens": 24}
            ),
            "cot": ArmSpec(
                ChainOfThought(extractor="numeric"), {"temperature": 0, "max_tokens": 48}
            ),
        },
        providers={"local": provider},
        tasks=TASKS,
        scorers=["numeric"],
        concurrency=2,
    )


def cells(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "cells.jsonl").read_text().splitlines()]


def test_a_small_experiment_on_the_bundled_model(local_provider: Any, tmp_path: Path) -> None:
    run = build(local_provider).run(tmp_path / "run", cache=tmp_path / "cache", progress=False)
    assert isinstance(run, Run)
    first = cells(tmp_path / "run")
    assert len(first) == 6
    assert all(cell["error"] is None for cell in first), [c["error"] for c in first]
    assert all(cell["outputs"][0].strip() for cell in first)  # the model wrote something
    assert all(cell["calls"] == 1 and not cell["cached"] for cell in first)
    assert all(cell["model"] == "SmolLM2-135M-Instruct" for cell in first)
    assert all(cell["output_tokens"] > 0 and cell["cost_usd"] == 0.0 for cell in first)
    assert all(cell["scores"]["numeric"] in (0.0, 1.0) for cell in first)
    summary = run.summary()
    assert list(summary["arm"]) == ["zero_shot", "cot"] and list(summary["n"]) == [3, 3]

    # The same experiment into a new directory: everything comes from the cache.
    build(local_provider).run(tmp_path / "again", cache=tmp_path / "cache", progress=False)
    again = cells(tmp_path / "again")
    assert all(cell["cached"] and cell["calls"] == 0 for cell in again)
    by_id = {(c["task_id"], c["arm"]): c["outputs"] for c in first}
    assert {(c["task_id"], c["arm"]): c["outputs"] for c in again} == by_id
