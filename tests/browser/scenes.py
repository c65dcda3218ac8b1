"""Runs to open in the browser: the arithmetic example before and after, and a hostile run.

The arithmetic runs are real runs of ``examples/arithmetic.jsonl`` through the runner,
with a :class:`~promptlab.testing.FakeProvider` standing in for the model: it reads the
question out of the rendered prompt and answers right or wrong by a fixed rule, so the
reports (and the README's screenshots, which these tests take) come out the same every
time. "after" is the stronger model: the diff of after against before has improvements
and a few regressions.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from promptlab.completion import CompletionRequest
from promptlab.experiments.analysis import Run
from promptlab.experiments.experiment import Experiment
from promptlab.experiments.store import CellRecord
from promptlab.strategies import ChainOfThought, SelfConsistency, ZeroShot
from promptlab.testing import FakeProvider

ROOT = Path(__file__).resolve().parents[2]
TASKS = ROOT / "examples" / "arithmetic.jsonl"
N_TASKS = 30

#: Planted in every place a run holds text: none of it may run in the report.
PAYLOADS = (
    "<script>window.__pwned = 'script'</script>",
    "<img src=x onerror=\"window.__pwned = 'img'\">",
    "</script><script>window.__pwned = 'close'</script>",
    "<svg onload=\"window.__pwned = 'svg'\"></svg>",
)


def _questions() -> dict[str, int]:
    rows = [json.loads(line) for line in TASKS.read_text(encoding="utf-8").splitlines()]
    return {row["question"]: int(row["answer"]) for row in rows[:N_TASKS]}


def _unit(*parts: object) -> float:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def scripted_model(skill: float) -> FakeProvider:
    """A fake model that is right with probability ``skill`` per question (more with CoT)."""
    questions = _questions()

    def reply(request: CompletionRequest) -> list[str]:
        prompt = request.messages[-1].content
        question = next(q for q in questions if q in prompt)
        answer = questions[question]
        reasoning = "step by step" in prompt
        texts = []
        for sample in range(request.params.n or 1):
            seed = (request.params.seed or 0, sample) if (request.params.n or 1) > 1 else ()
            # The question's difficulty decides, except on a few questions where each
            # model has its own luck: a stronger model gets most tasks the weaker one
            # got, but not all.
            right = _unit(question, reasoning, *seed) < skill + (0.15 if reasoning else 0.0)
            if _unit(question, reasoning, skill) < 0.1:
                right = not right
            given = answer if right else answer + (1 if _unit(question, "off") < 0.5 else -2)
            if reasoning:
                texts.append(
                    f"Let's read the question carefully. {question.split('.')[0]}. "
                    f"Working it out one step at a time gives {given}.\nAnswer: {given}"
                )
            else:
                texts.append(f"Answer: {given}")
        return texts

    return FakeProvider(reply, model=f"scripted-{int(skill * 100)}")


def arithmetic_run(directory: Path, skill: float) -> Run:
    """Zero-shot, chain-of-thought and self-consistency on the first 30 arithmetic tasks."""
    experiment = Experiment(
        arms={
            "zero_shot": ZeroShot(extractor="numeric"),
            "chain_of_thought": ChainOfThought(extractor="numeric"),
            "self_consistency": SelfConsistency(ChainOfThought(extractor="numeric"), n=5),
        },
        providers={"model": scripted_model(skill)},
        tasks=[json.loads(line) for line in TASKS.read_text().splitlines()[:N_TASKS]],
        scorers=["numeric"],
        name="arithmetic",
    )
    return experiment.run(directory, cache=False, progress=False)


def hostile_run(directory: Path) -> Run:
    """Two arms whose every text field holds markup and script (see :data:`PAYLOADS`)."""
    records = []
    for number, payload in enumerate(PAYLOADS):
        task = f"t{number}-{payload}"
        for arm in ("plain", "cot"):
            records.append(
                CellRecord(
                    task_id=task,
                    arm=arm,
                    provider="fake",
                    model=payload,
                    repeat=0,
                    expected=payload,
                    outputs=[f"{payload} Answer: {payload}", payload],
                    answers=[payload, None],
                    answer=payload,
                    votes={payload: 1},
                    confidence=0.5,
                    stop_reason=payload,
                    messages=[
                        {"role": "system", "content": payload},
                        {"role": "user", "content": f"Question: {payload}"},
                    ],
                    scores={"judge": 1.0 if arm == "plain" else 0.0},
                    score_notes={"judge": f"reasoning {payload}"},
                    error=None if number else {"type": payload, "message": payload},
                )
            )
            records[-1].retrieved = [{"id": payload, "score": 0.5, "text": payload}]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "cells.jsonl").write_text("".join(r.to_json() + "\n" for r in records))
    return Run.load(directory)


def large_run(directory: Path, tasks: int, reply_words: int = 20) -> Run:
    """``tasks`` generated tasks x 2 arms (plain right on every third task, cot on all).

    Each reply is ``reply_words`` words and an answer line; the last task's replies are
    400 words, longer than the table shows.
    """
    records = [
        CellRecord(
            task_id=f"q{i:05d}",
            arm=arm,
            provider="fake",
            model="m",
            repeat=0,
            expected=str(i % 7),
            outputs=["word " * (400 if i == tasks - 1 else reply_words) + f"Answer: {i % 7}"],
            answers=[str(i % 7)],
            answer=str(i % 7),
            scores={"exact": float(arm == "cot" or i % 3 == 0)},
            messages=[
                {"role": "system", "content": "Answer with a number."},
                {"role": "user", "content": f"Question {i}: what is {i} modulo 7?"},
            ],
            input_tokens=20,
            output_tokens=reply_words,
            latency_s=1.0,
        )
        for i in range(tasks)
        for arm in ("plain", "cot")
    ]
    directory.mkdir(parents=True)
    (directory / "cells.jsonl").write_text("".join(r.to_json() + "\n" for r in records))
    return Run.load(directory)
