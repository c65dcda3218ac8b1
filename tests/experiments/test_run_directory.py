"""One run directory, one writer: the lock, the holder's pid, atomic experiment.json."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

import promptlab.experiments.store._run_directory as run_directory_module
from promptlab.errors import PromptlabError, RunLockedError
from promptlab.experiments.experiment import Experiment
from promptlab.experiments.store import RunDirectory
from promptlab.strategies import ZeroShot
from promptlab.testing import FakeProvider

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMPTLAB_CACHE_DIR", str(tmp_path / "default-cache"))


def build(provider: FakeProvider, **kwargs: Any) -> Experiment:
    return Experiment(
        arms={"zs": ZeroShot(extractor="numeric")},
        providers={"fake": provider},
        tasks=[{"id": f"t{i}", "question": f"q{i}", "answer": 7} for i in range(20)],
        scorers=["numeric"],
        **kwargs,
    )


async def test_a_second_concurrent_arun_on_the_same_directory_fails_fast(tmp_path: Path) -> None:
    out = tmp_path / "run"
    slow = FakeProvider(["Answer: 7"], cycle=True, latency=0.02)
    first = asyncio.ensure_future(build(slow, concurrency=2).arun(out, cache=False, progress=False))
    while not (out / "cells.jsonl").exists():
        await asyncio.sleep(0.005)
    other = FakeProvider(["Answer: 7"], cycle=True)
    with pytest.raises(RunLockedError) as info:
        await build(other).arun(out, cache=False, progress=False)
    assert isinstance(info.value, PromptlabError)
    assert info.value.pid == os.getpid()
    assert str(out) in str(info.value) and str(os.getpid()) in str(info.value)
    assert other.calls == 0, "the second run made no call"
    run = await first
    assert slow.calls == 20 and len(run.records) == 20
    lines = (out / "cells.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 20, "no cell was run or written twice"
    assert not (out / run_directory_module.PID_FILE).exists()
    # Released at the end: the next run on the directory goes ahead.
    again = FakeProvider(["Answer: 7"], cycle=True)
    await build(again).arun(out, cache=False, progress=False)
    assert again.calls == 0


HOLD_LOCK = """
import sys
from promptlab.experiments.store import RunDirectory

directory = RunDirectory(sys.argv[1])
directory.lock()
print("locked", flush=True)
sys.stdin.read()  # hold the lock until the test closes stdin
directory.unlock()
"""


def test_a_run_in_another_process_holding_the_directory_is_named(tmp_path: Path) -> None:
    out = tmp_path / "run"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        provider = FakeProvider(["Answer: 7"], cycle=True)
        with pytest.raises(RunLockedError) as info:
            build(provider).run(out, cache=False, progress=False)
        assert info.value.pid == holder.pid
        assert f"process {holder.pid}" in str(info.value) and str(out) in str(info.value)
        assert provider.calls == 0
    finally:
        holder.communicate("", timeout=30)
    assert holder.returncode == 0
    assert (
        len(build(FakeProvider(["Answer: 7"], cycle=True)).run(out, progress=False).records) == 20
    )


def test_the_lock_is_released_when_a_run_fails(tmp_path: Path) -> None:
    out = tmp_path / "run"
    build(FakeProvider(["Answer: 7"], cycle=True)).run(out, cache=False, progress=False)
    with pytest.raises(PromptlabError):
        build(FakeProvider(["Answer: 7"], cycle=True), seed=5).run(out, cache=False, progress=False)
    directory = RunDirectory(out)
    directory.lock()  # would raise RunLockedError if the failed run had kept it
    directory.unlock()


def test_experiment_json_is_replaced_atomically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    build(FakeProvider(["Answer: 7"], cycle=True)).run(out, cache=False, progress=False)
    before = (out / "experiment.json").read_text(encoding="utf-8")

    def crash(source: Any, target: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(run_directory_module.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        build(FakeProvider(["Answer: 7"], cycle=True), concurrency=3).run(
            out, cache=False, progress=False
        )
    monkeypatch.undo()
    # The old file is whole (never half-written), and no temporary file is left behind.
    assert (out / "experiment.json").read_text(encoding="utf-8") == before
    assert json.loads(before)["concurrency"] == 8
    assert sorted(p.name for p in out.iterdir() if p.name.endswith(".tmp")) == []


def test_a_reply_holding_a_unicode_line_separator_is_one_record(tmp_path: Path) -> None:
    out = tmp_path / "run"
    reply = "Line one\u2028Line two. Answer: 7"
    first = build(FakeProvider([reply], cycle=True)).run(out, cache=False, progress=False)
    assert len(first.records) == 20 and first.records[0].outputs == [reply]
    again = FakeProvider([reply], cycle=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no line is taken for damaged
        assert len(build(again).run(out, cache=False, progress=False).records) == 20
    assert again.calls == 0
