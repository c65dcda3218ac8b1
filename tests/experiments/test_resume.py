"""Resume: after kill -9, a re-run calls only the missing cells; nothing is duplicated or lost."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from promptlab.experiments.analysis import Run
from promptlab.experiments.store import DamagedCellsWarning

ROOT = Path(__file__).resolve().parents[2]
N_TASKS = 60
ARMS = ("zero_shot", "cot")

# The experiment, shared by the killed subprocess and the in-process re-run.
DEFINITION = f"""
import sys
from promptlab.experiments.experiment import Experiment
from promptlab.strategies import ChainOfThought, ZeroShot
from promptlab.testing import FakeProvider


def build(provider):
    return Experiment(
        arms={{
            "zero_shot": ZeroShot(extractor="numeric"),
            "cot": ChainOfThought(extractor="numeric"),
        }},
        providers={{"fake": provider}},
        tasks=[
            {{"id": f"t{{i}}", "question": f"What is {{i}} + 0?", "answer": i}}
            for i in range({N_TASKS})
        ],
        scorers=["numeric"],
        concurrency=4,
    )


if __name__ == "__main__":
    slow = FakeProvider(["Answer: 7"], cycle=True, latency=0.05)
    build(slow).run(sys.argv[1], cache=False, progress=False)
"""


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMPTLAB_CACHE_DIR", str(tmp_path / "default-cache"))


def load_definition(tmp_path: Path) -> ModuleType:
    script = tmp_path / "experiment_definition.py"
    script.write_text(DEFINITION, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("experiment_definition", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cell_lines(run_dir: Path) -> list[str]:
    path = run_dir / "cells.jsonl"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def successful_ids(run_dir: Path) -> list[str]:
    ids = []
    for line in cell_lines(run_dir):
        cell = json.loads(line)
        if cell["error"] is None:
            ids.append(f"{cell['task_id']}|{cell['arm']}|{cell['provider']}|{cell['repeat']}")
    return ids


def all_ids() -> set[str]:
    return {f"t{i}|{arm}|fake|0" for i in range(N_TASKS) for arm in ARMS}


def test_resume_after_sigkill_calls_only_missing_cells(tmp_path: Path) -> None:
    from promptlab.testing import FakeProvider

    module = load_definition(tmp_path)
    run_dir = tmp_path / "run"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    process = subprocess.Popen(
        [sys.executable, str(tmp_path / "experiment_definition.py"), str(run_dir)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while len(cell_lines(run_dir)) < 20:
            if process.poll() is not None:
                pytest.fail(f"the run ended before it was killed: {process.stderr.read()!r}")
            if time.monotonic() > deadline:
                pytest.fail("the subprocess wrote no cells within 60 s")
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL

    # Simulate the worst moment for a kill: in the middle of writing a line.
    with (run_dir / "cells.jsonl").open("a", encoding="utf-8") as cells:
        cells.write('{"task_id": "t59", "arm": "cot", "provi')
    survived = set(successful_ids_tolerant(run_dir))
    assert 20 <= len(survived) < len(all_ids())

    counter = FakeProvider(["Answer: 7"], cycle=True)
    run = module.build(counter).run(run_dir, cache=False, progress=False)
    assert counter.calls == len(all_ids()) - len(survived)
    ids = successful_ids(run_dir)  # every line parses: the partial one was cut off
    assert len(ids) == len(set(ids)), "a cell was recorded twice"
    assert set(ids) == all_ids(), "a cell is missing"
    assert isinstance(run, Run) and len(run.records) == len(all_ids())

    again = FakeProvider(["Answer: 7"], cycle=True)
    module.build(again).run(run_dir, cache=False, progress=False)
    assert again.calls == 0
    assert len(cell_lines(run_dir)) == len(all_ids())


def successful_ids_tolerant(run_dir: Path) -> list[str]:
    """Successful ids in a file whose last line may be partial."""
    ids = []
    for line in cell_lines(run_dir):
        try:
            cell: dict[str, Any] = json.loads(line)
        except json.JSONDecodeError:
            continue
        if cell["error"] is None:
            ids.append(f"{cell['task_id']}|{cell['arm']}|{cell['provider']}|{cell['repeat']}")
    return ids


def test_damaged_lines_are_skipped_by_the_runner_and_the_reader_alike(tmp_path: Path) -> None:
    """A damaged line in the middle: reported once, moved aside, its cell runs again."""
    from promptlab.testing import FakeProvider

    module = load_definition(tmp_path)
    run_dir = tmp_path / "run"
    module.build(FakeProvider(["Answer: 7"], cycle=True)).run(run_dir, cache=False, progress=False)
    lines = cell_lines(run_dir)
    lost = json.loads(lines[5])
    lines[5] = lines[5][:40]  # a cut-off write in the middle of the file
    (run_dir / "cells.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    with pytest.warns(DamagedCellsWarning, match="line 6"):
        assert len(Run.load(run_dir).records) == len(all_ids()) - 1

    again = FakeProvider(["Answer: 7"], cycle=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = module.build(again).run(run_dir, cache=False, progress=False)
    notes = [w for w in caught if issubclass(w.category, DamagedCellsWarning)]
    assert len(notes) == 1 and "cells.damaged.jsonl" in str(notes[0].message)
    assert again.calls == 1, "exactly the damaged cell runs again"
    assert len(run.records) == len(all_ids())
    assert (run_dir / "cells.damaged.jsonl").read_text(encoding="utf-8") == lines[5] + "\n"
    rerun = [json.loads(line) for line in cell_lines(run_dir)][-1]
    assert (rerun["task_id"], rerun["arm"]) == (lost["task_id"], lost["arm"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Run.load(run_dir)  # nothing damaged is left to report


def test_experiment_json_is_rewritten_only_when_its_content_changes(tmp_path: Path) -> None:
    from promptlab.experiments.store import RunDirectory

    directory = RunDirectory(tmp_path / "run")
    directory.path.mkdir()
    fingerprint = {"format": 1, "arms": {}, "providers": {}, "tasks": {"t": "abc"}}
    directory.write_definition({"name": "x", "n": 1}, fingerprint, [])
    written = directory.definition_path.stat().st_ino
    directory.write_definition({"n": 1, "name": "x"}, fingerprint, [])  # same JSON
    assert directory.definition_path.stat().st_ino == written
    directory.write_definition({"name": "x", "n": True}, fingerprint, [])  # 1 -> true
    assert directory.definition_path.stat().st_ino != written
    assert json.loads(directory.definition_path.read_text())["n"] is True
