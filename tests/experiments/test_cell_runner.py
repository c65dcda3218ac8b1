"""One cell's record: every sample's finish reason, and cut-off samples without an answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from promptlab.experiments.arm import ArmSpec
from promptlab.experiments.experiment import Experiment
from promptlab.strategies import ChainOfThought, SelfConsistency
from promptlab.testing import FakeProvider

# The fake cuts a reply to `max_tokens` words and reports finish_reason "length".
LONG = "First 12 + 7 = 19, then 19 + 5 = 24 and some checking. Answer: 24"
SHORT = "12 + 12 = 24. Answer: 24"


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMPTLAB_CACHE_DIR", str(tmp_path / "default-cache"))


def cut_off_experiment() -> Experiment:
    """Two tasks; the self-consistency arm gets 3 samples, the first of which is cut off."""
    fake = FakeProvider([LONG, SHORT, SHORT], cycle=True)
    sc = SelfConsistency(ChainOfThought(extractor="numeric"), n=3)
    return Experiment(
        arms={"sc": ArmSpec(sc, {"max_tokens": 10})},
        providers={"fake": fake},
        tasks=[{"id": f"t{i}", "question": "12 + 12?", "answer": 24} for i in range(2)],
        scorers=["numeric"],
    )


def read_cells(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "cells.jsonl").read_text().splitlines()]


def test_every_samples_finish_reason_is_recorded(tmp_path: Path) -> None:
    cut_off_experiment().run(tmp_path / "run", cache=False, progress=False)
    for cell in read_cells(tmp_path / "run"):
        assert cell["finish_reasons"] == ["length", "stop", "stop"]
        assert cell["answers"] == [None, "24", "24"]  # not "5": the cut-off ends "19 + 5"
        assert cell["no_answer"] == 1


def test_finish_reasons_survive_the_response_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache.sqlite"
    cut_off_experiment().run(tmp_path / "first", cache=cache, progress=False)
    run = cut_off_experiment().run(tmp_path / "second", cache=cache, progress=False)
    assert all(record.cached for record in run.records)
    assert [r.finish_reasons for r in run.records] == [["length", "stop", "stop"]] * 2


def test_the_summary_counts_truncated_samples(tmp_path: Path) -> None:
    run = cut_off_experiment().run(tmp_path / "run", cache=False, progress=False)
    summary = run.summary()
    assert summary["truncated"].tolist() == [2]  # one of three samples in each of two cells
    assert summary["accuracy"].tolist() == [1.0]
