"""examples/ladder.yaml (make demo): its data, its arms on a fake, one task on the model.

The data checks are what make the demo's comparison fair: every question is answered by
its gold passage, the few-shot pool never states a test answer, and every id resolves.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from promptlab.completion import CompletionRequest
from promptlab.experiments.analysis import UnscoredWarning
from promptlab.experiments.experiment import Experiment
from promptlab.providers import registry
from promptlab.strategies import RAG, ChainOfThought, FewShot, SimilarExamples, ZeroShot
from promptlab.testing import FakeProvider

LADDER = Path(__file__).resolve().parents[2] / "examples" / "ladder"


def rows(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (LADDER / name).read_text().splitlines()]


def test_every_question_is_answered_by_its_gold_passage() -> None:
    corpus = {row["id"]: row["text"] for row in rows("corpus.jsonl")}
    questions = rows("questions.jsonl")
    assert len(corpus) == len(rows("corpus.jsonl")) >= 60  # ids are unique
    assert len({q["id"] for q in questions}) == len(questions) >= 40
    for question in questions:
        assert question["gold_ids"] and set(question["gold_ids"]) <= corpus.keys(), question
        gold = " ".join(corpus[i] for i in question["gold_ids"]).lower()
        assert question["answer"].lower() in gold, question


def test_the_few_shot_pool_never_states_a_test_answer() -> None:
    shots = rows("shots.jsonl")
    questions = rows("questions.jsonl")
    assert len(shots) >= 10
    assert not {s["question"] for s in shots} & {q["question"] for q in questions}
    shown = " ".join(f"{s['question']} {s['answer']}" for s in shots).lower()
    leaked = [
        q["answer"]
        for q in questions
        if re.search(rf"\b{re.escape(q['answer'].lower())}\b", shown) is not None
    ]
    assert leaked == []


def test_gold_answers_are_short_and_free_of_punctuation() -> None:
    # The scorers normalise punctuation away; an answer that needs it could never match.
    for question in rows("questions.jsonl"):
        assert re.fullmatch(r"[A-Za-z0-9 ]{1,30}", question["answer"]), question


@pytest.fixture
def ladder(monkeypatch: pytest.MonkeyPatch) -> Experiment:
    """examples/ladder.yaml with 'local' built as a fake, so it loads without the model."""

    def fake_local(rest: str, **kwargs: Any) -> FakeProvider:
        return FakeProvider(["Answer: 1"], cycle=True, model="SmolLM2-135M-Instruct")

    monkeypatch.setitem(registry.SCHEMES, "local", fake_local)
    return Experiment.from_yaml(LADDER.parent / "ladder.yaml")


def test_the_ladder_file_has_every_rung(ladder: Experiment) -> None:
    strategies = {name: arm.strategy for name, arm in ladder.arms.items()}
    assert list(strategies) == ["zero_shot", "few_shot", "similar_few_shot", "rag", "rag_cot"]
    assert type(strategies["zero_shot"]) is ZeroShot
    fixed, similar = strategies["few_shot"], strategies["similar_few_shot"]
    assert isinstance(fixed, FewShot) and isinstance(similar, FewShot)
    assert fixed.k == similar.k == 3
    assert not isinstance(fixed.selector, SimilarExamples)
    assert isinstance(similar.selector, SimilarExamples)
    rag, rag_cot = strategies["rag"], strategies["rag_cot"]
    assert isinstance(rag, RAG) and type(rag.base) is ZeroShot and rag.k == 2
    assert isinstance(rag_cot, ChainOfThought) and isinstance(rag_cot.base, RAG)
    assert [s.name for s in ladder.scorers] == ["contains", "normalized", "recall@2", "mrr"]
    assert len(ladder.tasks) >= 40 and ladder.provider_limit("local") == 1


def reader(request: CompletionRequest) -> str:
    """A fake model that knows nothing: it answers only from passages shown in the prompt."""
    prompt = request.messages[-1].content
    question = prompt.rsplit("Question:", 1)[-1]
    for task in rows("questions.jsonl"):
        if task["question"] in question and task["answer"] in prompt.replace(question, ""):
            return f"Answer: {task['answer']}"
    return "Answer: I do not know"


def test_only_the_rag_rungs_see_the_gold_passages(ladder: Experiment, tmp_path: Path) -> None:
    ladder.providers = {"local": FakeProvider(reader)}
    ladder.tasks = ladder.tasks[:4]
    run = ladder.run(tmp_path / "run", cache=False, progress=False)
    summary = run.summary().set_index("arm")["accuracy"]
    assert summary.to_dict() == {
        "zero_shot": 0.0, "few_shot": 0.0, "similar_few_shot": 0.0, "rag": 1.0, "rag_cot": 1.0,
    }  # fmt: skip
    with pytest.warns(UnscoredWarning, match="does not retrieve"):  # the other three arms
        recall = run.summary("recall@2").set_index("arm")
    assert recall.loc[["rag", "rag_cot"], "accuracy"].tolist() == [1.0, 1.0]
    # The similar examples differ from task to task; the fixed ones do not.
    shown = {
        arm: {tuple(m["content"] for m in r.messages[:-1]) for r in run.records if r.arm == arm}
        for arm in ("few_shot", "similar_few_shot")
    }
    assert len(shown["few_shot"]) == 1 and len(shown["similar_few_shot"]) == 4


@pytest.mark.local_model
def test_the_ladder_runs_on_the_bundled_model(
    ladder: Experiment, local_provider: Any, tmp_path: Path
) -> None:
    ladder.providers = {"local": local_provider}
    ladder.tasks = ladder.tasks[:1]
    run = ladder.run(tmp_path / "run", cache=False, progress=False)
    assert len(run.records) == 5
    assert all(r.error is None and r.outputs[0].strip() for r in run.records)
    assert {r.model for r in run.records} == {"SmolLM2-135M-Instruct"}
    # The RAG rungs showed the model the passage that answers the question.
    gold = next(row["text"] for row in rows("corpus.jsonl") if row["id"] == "p01")
    retrieved = [r for r in run.records if r.arm in ("rag", "rag_cot")]
    assert all(r.scores["recall@2"] == 1.0 for r in retrieved)
    assert all(gold in r.messages[-1]["content"] for r in retrieved)
    assert set(run.summary()["arm"]) == set(ladder.arms)
