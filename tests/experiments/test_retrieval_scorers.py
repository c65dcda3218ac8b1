"""Recall@k and MRR of the retrieved passages against gold passage ids, computed by hand."""

from __future__ import annotations

import math

import pytest

from promptlab.completion import Usage
from promptlab.errors import ConfigurationError
from promptlab.experiments.config import scorer_from_spec
from promptlab.experiments.scoring import MeanReciprocalRank, RecallAtK, score_result
from promptlab.experiments.tasks import Task
from promptlab.params import GenerationParams
from promptlab.retrieval import BM25Retriever, Document
from promptlab.strategies import RAG, StrategyResult, ZeroShot
from promptlab.testing import FakeProvider
from tests.retrieval.town_corpus import PASSAGES, QUERIES


def result(
    *ids: str, strategy: str = "RAG(ZeroShot(zero_shot), zero_shot_context, k=4)"
) -> StrategyResult:
    return StrategyResult(
        answer=None,
        samples=(),
        messages=(),
        usage=Usage(),
        latency_s=0.0,
        cost_usd=None,
        calls=1,
        strategy=strategy,
        template="zero_shot_context",
        template_hash="",
        params=GenerationParams(),
        retrieved=tuple(Document(i, f"text of {i}", score=1.0) for i in ids),
    )


def task(gold: object = ("a",), field: str = "gold_ids") -> Task:
    inputs: dict[str, object] = {"question": "q"}
    if gold is not None:
        inputs[field] = list(gold) if isinstance(gold, tuple) else gold
    return Task("t1", inputs, "x")


async def value(scorer: object, task_: Task, result_: StrategyResult) -> float:
    return (await scorer.score(task_, result_)).value  # type: ignore[attr-defined]


async def test_recall_at_k_by_hand() -> None:
    retrieved = result("c", "a", "d", "b")
    gold = task(("a", "b"))
    assert await value(RecallAtK(1), gold, retrieved) == 0.0  # c
    assert await value(RecallAtK(2), gold, retrieved) == 0.5  # c, a
    assert await value(RecallAtK(3), gold, retrieved) == 0.5  # c, a, d
    assert await value(RecallAtK(4), gold, retrieved) == 1.0  # c, a, d, b
    assert await value(RecallAtK(), gold, retrieved) == 1.0  # all four
    assert await value(RecallAtK(10), task(("e",)), retrieved) == 0.0


async def test_reciprocal_rank_by_hand_and_its_mean_is_the_mrr() -> None:
    mrr = MeanReciprocalRank()
    ranks = [
        await value(mrr, task(("a",)), result("a", "b")),  # rank 1 -> 1
        await value(mrr, task(("b", "z")), result("a", "b")),  # rank 2 -> 1/2
        await value(mrr, task(("c",)), result("a", "b", "c")),  # rank 3 -> 1/3
        await value(mrr, task(("q",)), result("a", "b")),  # missed -> 0
    ]
    assert ranks == [1.0, 0.5, pytest.approx(1 / 3), 0.0]
    assert sum(ranks) / len(ranks) == pytest.approx((1 + 1 / 2 + 1 / 3 + 0) / 4)


async def test_chunks_count_as_their_document_once() -> None:
    retrieved = result("long#2", "other", "long#0")
    assert await value(RecallAtK(3), task(("long", "other")), retrieved) == 1.0
    assert await value(RecallAtK(1), task(("long", "other")), retrieved) == 0.5
    assert await value(MeanReciprocalRank(), task(("long",)), retrieved) == 1.0
    assert await value(RecallAtK(3), task(("lon",)), retrieved) == 0.0  # a prefix is not a chunk


async def test_a_single_id_or_integer_ids_are_read() -> None:
    assert await value(RecallAtK(2), task("b"), result("a", "b")) == 1.0
    assert await value(MeanReciprocalRank(), task((7,)), result("3", "7")) == 0.5


async def test_a_task_without_gold_ids_is_unscored_never_zero() -> None:
    for gold in (None, [], ""):
        score = await RecallAtK(2).score(task(gold), result("a"))
        assert math.isnan(score.value) and "no gold passage ids (field 'gold_ids')" in score.note


async def test_an_arm_that_does_not_retrieve_is_unscored_but_a_rag_miss_is_zero() -> None:
    not_rag = await RecallAtK(2).score(task(), result(strategy="ZeroShot(zero_shot)"))
    assert math.isnan(not_rag.value) and "not a RAG arm" in not_rag.note
    assert await value(MeanReciprocalRank(), task(), result()) == 0.0  # RAG, found nothing


async def test_the_gold_field_is_configurable_and_a_malformed_one_is_reported() -> None:
    scorer = RecallAtK(1, gold_field="gold_doc_ids")
    assert await value(scorer, task(("a",), field="gold_doc_ids"), result("a")) == 1.0
    scores, notes = await score_result([scorer], task({"a": 1}, field="gold_doc_ids"), result("a"))
    assert math.isnan(scores["recall@1"]) and "must be a list of ids" in notes["recall@1"]


def test_bad_settings_are_clear_errors() -> None:
    with pytest.raises(ConfigurationError, match="k=0 is not allowed"):
        RecallAtK(0)
    with pytest.raises(ConfigurationError, match="gold_field='' is not allowed"):
        MeanReciprocalRank(gold_field="")


def test_yaml_specs_build_the_scorers() -> None:
    recall = scorer_from_spec({"type": "recall_at_k", "k": 3, "gold_field": "gold_doc_ids"})
    assert isinstance(recall, RecallAtK) and (recall.name, recall.k) == ("recall@3", 3)
    assert recall.gold_field == "gold_doc_ids"
    assert scorer_from_spec("recall").name == "recall"
    mrr = scorer_from_spec({"type": "mrr", "name": "rr"})
    assert isinstance(mrr, MeanReciprocalRank) and mrr.name == "rr"
    with pytest.raises(ConfigurationError, match="does not take the field"):
        scorer_from_spec({"type": "mrr", "k": 3})


async def test_bm25_over_the_town_corpus_scores_as_computed_by_hand() -> None:
    # Retrieval quality on a fixed corpus with known answers, through RAG and the scorers.
    rag = RAG(ZeroShot(), BM25Retriever(PASSAGES, chunk_size=None), k=3)
    recall1, recall3, mrr = RecallAtK(1), RecallAtK(3), MeanReciprocalRank()
    totals = {"recall@1": 0.0, "recall@3": 0.0, "mrr": 0.0}
    for query, answer_id in QUERIES:
        done = await rag.arun({"question": query}, FakeProvider(["Answer: x"]))
        gold = Task(answer_id, {"question": query, "gold_ids": [answer_id]})
        scores, _ = await score_result([recall1, recall3, mrr], gold, done)
        ids = [d.id for d in done.retrieved]
        expected_rr = 1 / (ids.index(answer_id) + 1) if answer_id in ids else 0.0
        assert scores["mrr"] == pytest.approx(expected_rr)
        for name, value_ in scores.items():
            totals[name] += value_
    # Every query's passage comes first on this corpus (test_bm25 checks each one).
    assert totals == {"recall@1": len(QUERIES), "recall@3": len(QUERIES), "mrr": len(QUERIES)}
