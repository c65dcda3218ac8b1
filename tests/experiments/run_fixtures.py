"""Hand-written run directories with known answers, shared by the Run and report tests.

The main run: 10 tasks (t01..t10, expected answer = the task number) on two providers.

On ``local`` (cost 0), per task, 1 = right::

    task   t01 t02 t03 t04 t05 t06 t07 t08 t09 t10
    plain   1   1   1   0   0   0   0   0   0   0      accuracy 0.3
    cot     1   1   0   1   1   1   1   1   0   0      accuracy 0.7

so plain-only right = 1 (t03), cot-only right = 5 (t04..t08): McNemar exact
p = 2 * (1 + 6) / 2**6 = 0.21875. Both wrong on t09 with the same answer "0" (no
disagreement), on t10 with different answers "1" / "2" (a disagreement). ``plain`` also
has an errored cell on t11, and ``cot`` on t09 was first recorded as an error, then
retried successfully (last record wins). plain's latencies are 1..10 s; cot's are 1..10 s
with the 1 s cell (t01) a cache hit. Every successful cell used 10 + 5 tokens.

On ``api`` (an OpenAI-like provider): plain is right on t01..t05 (0.5) at $0.001 per
cell; cot is right on t01..t08 (0.8) at $0.002 per cell, except t10 whose cost is unknown.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from promptlab.experiments.store import CellRecord

TASKS = [f"t{i:02d}" for i in range(1, 11)]
MALICIOUS = "<script>alert(1)</script>"


def cell(task: str, arm: str, provider: str, right: bool | None, **fields: Any) -> CellRecord:
    """A cell whose answer is right (the task number) or wrong ("0"), or errored (None)."""
    expected = str(int(task[1:]))
    base: dict[str, Any] = {
        "task_id": task,
        "arm": arm,
        "provider": provider,
        "model": "smollm2" if provider == "local" else "gpt-test",
        "repeat": 0,
        "expected": expected,
        "input_tokens": 10,
        "output_tokens": 5,
        "cost_usd": 0.0,
        "latency_s": 1.0,
        "calls": 1,
    }
    if right is None:
        base.update(
            error={"type": "ServerError", "message": "boom", "status": 500},
            input_tokens=0,
            output_tokens=0,
            cost_usd=None,
            calls=1,
        )
    else:
        answer = expected if right else "0"
        base.update(
            answer=answer,
            answers=[answer],
            outputs=[f"Answer: {answer}"],
            scores={"numeric": 1.0 if right else 0.0},
        )
    base.update(fields)
    return CellRecord(**base)


def main_records() -> list[CellRecord]:
    """The main run's records in the order a runner could have written them."""
    plain_right = {"t01", "t02", "t03"}
    cot_right = {"t01", "t02", "t04", "t05", "t06", "t07", "t08"}
    records = [cell("t09", "cot", "local", None)]  # errored first, retried below
    for i, task in enumerate(TASKS, start=1):
        plain = cell(task, "plain", "local", task in plain_right, latency_s=float(i))
        cot = cell(task, "cot", "local", task in cot_right, latency_s=float(i), cached=(i == 1))
        if task == "t10":
            wrong = {"latency_s": float(i), "outputs": ["?"]}
            plain = cell(task, "plain", "local", False, answer="1", answers=["1"], **wrong)
            cot = cell(task, "cot", "local", False, answer="2", answers=["2"], **wrong)
        if task == "t03":
            plain.outputs = [f"{MALICIOUS} Answer: 3"]
        records += [plain, cot]
        records.append(cell(task, "plain", "api", i <= 5, cost_usd=0.001))
        cost = None if task == "t10" else 0.002
        records.append(cell(task, "cot", "api", i <= 8, cost_usd=cost))
    records.append(cell("t11", "plain", "local", None))
    return records


def main_experiment() -> dict[str, Any]:
    """The experiment.json the runner would write for the main run."""
    return {
        "name": "fixture",
        "tasks": {"name": "fixture", "count": 11},
        "arms": {
            "plain": {"strategy": {"type": "ZeroShot", "extractor": "NumericAnswer"}},
            "cot": {"strategy": {"type": "ChainOfThought", "extractor": "NumericAnswer"}},
        },
        "providers": {
            "local": {"provider": "local", "model": "smollm2"},
            "api": {"provider": "openai", "model": "gpt-test"},
        },
        "scorers": [{"name": "numeric", "binary": True, "class": "NumericMatch"}],
        "repeats": 1,
        "seed": 7,
    }


def sc_records() -> list[CellRecord]:
    """A self-consistency arm with known sample pools (and a single-sample arm).

    t01: pool 42, 42, 41 (expected 42) -> maj@k = 2/3, 2/3, 1.
    t02: pool 7, None, 8 (expected 7)  -> maj@k = 1/3, 1/2, 1/2.
    """
    pools = {"t01": (["42", "42", "41"], 42, "42", 2 / 3), "t02": (["7", None, "8"], 7, "7", 1 / 3)}
    records = []
    for task, (pool, expected, winner, share) in pools.items():
        records.append(
            CellRecord(
                task_id=task,
                arm="sc",
                provider="local",
                model="smollm2",
                repeat=0,
                expected=expected,
                outputs=[f"Answer: {a}" for a in pool],
                answers=pool,
                answer=winner,
                votes={a: pool.count(a) for a in pool if a is not None},
                confidence=share,
                scores={"numeric": 1.0},
            )
        )
        records.append(
            CellRecord(
                task_id=task,
                arm="single",
                provider="local",
                model="smollm2",
                repeat=0,
                expected=expected,
                outputs=["Answer: 1"],
                answers=["1"],
                answer="1",
                scores={"numeric": 0.0},
            )
        )
    return records


def write_run(
    directory: Path, records: list[CellRecord], experiment: dict[str, Any] | None = None
) -> Path:
    """Write ``cells.jsonl`` (and ``experiment.json`` if given) like the runner does."""
    directory.mkdir(parents=True, exist_ok=True)
    text = "".join(record.to_json() + "\n" for record in records)
    (directory / "cells.jsonl").write_text(text, encoding="utf-8")
    if experiment is not None:
        (directory / "experiment.json").write_text(json.dumps(experiment), encoding="utf-8")
    return directory


def lopsided_run(directory: Path) -> Path:
    """One provider, 20 tasks: ``good`` right on all, ``bad`` on none, ``half`` on t01..t10.

    Every pair differs after Holm (McNemar p ~ 2e-6 for good vs bad, ~ 0.002 for the
    others). Mean tokens per cell: good 45, bad 15, half 25; every cell costs $0.
    """
    tasks = [f"t{i:02d}" for i in range(1, 21)]
    records = [
        cell(task, arm, "local", right, input_tokens=tokens)
        for task in tasks
        for arm, right, tokens in (
            ("good", True, 40),
            ("bad", False, 10),
            ("half", task <= "t10", 20),
        )
    ]
    experiment = {
        **main_experiment(),
        "name": "lopsided",
        "arms": {"good": {}, "bad": {}, "half": {}},
        "providers": {"local": {"provider": "local"}},
        "cells": 60,
    }
    return write_run(directory, records, experiment)
