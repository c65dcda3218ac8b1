"""SimilarExamples: the most similar examples, a diverse set with MMR, never the task's own."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from promptlab.errors import ConfigurationError, DataError
from promptlab.experiments.experiment import Experiment
from promptlab.retrieval import BM25Retriever, Embedder
from promptlab.strategies import (
    ChainOfThought,
    FewShot,
    SelfConsistency,
    SimilarExamples,
)
from promptlab.strategies.examples import running_task
from promptlab.strategies.similar_examples import mmr_order
from promptlab.testing import FakeProvider

# Known nearest neighbours for "How many apples fit in a basket?": three near-duplicate
# basket questions, then two other questions about apples, then unrelated ones.
POOL = [
    {"id": "basket", "question": "How many apples are in the basket?", "answer": "12"},
    {"id": "basket-now", "question": "How many apples are in the basket now?", "answer": "9"},
    {"id": "basket-today", "question": "How many apples are in the basket today?", "answer": "7"},
    {"id": "tree", "question": "How many apples grow on one tree?", "answer": "300"},
    {"id": "price", "question": "What do apples cost at the market?", "answer": "2"},
    {"id": "train", "question": "When does the train to Oslo leave?", "answer": "9"},
    {"id": "ferry", "question": "When does the ferry to the island sail?", "answer": "30"},
]
APPLES = {"question": "How many apples fit in a basket?"}


def ids(examples: Sequence[Any]) -> list[str]:
    return [example["id"] for example in examples]


def test_bm25_shows_the_most_similar_examples_most_similar_first() -> None:
    strategy = FewShot(POOL, selection=SimilarExamples(3))
    assert ids(strategy.select_examples(APPLES)) == ["basket", "basket-today", "basket-now"]
    ferry = strategy.select_examples({"question": "When does the ferry leave for the island?"})
    assert ids(ferry)[:2] == ["ferry", "train"]


def test_selection_similar_by_name_is_bm25_and_takes_few_shots_k() -> None:
    strategy = FewShot(POOL, k=2, selection="similar")
    assert strategy.k == 2
    assert ids(strategy.select_examples(APPLES)) == ["basket", "basket-today"]


def test_examples_sharing_no_word_fill_the_remaining_places_in_file_order() -> None:
    strategy = FewShot(POOL, selection=SimilarExamples(3))
    shown = strategy.select_examples({"question": "Which colour is the door?"})
    assert ids(shown) == ["basket", "basket-now", "basket-today"]


def test_mmr_picks_a_diverse_set_where_top_k_picks_near_duplicates() -> None:
    top_k = FewShot(POOL, selection=SimilarExamples(3))
    diverse = FewShot(POOL, selection=SimilarExamples(3, mmr=True, lambda_mult=0.3))
    assert ids(top_k.select_examples(APPLES)) == ["basket", "basket-today", "basket-now"]
    # One basket question, then the other apple questions; never an unrelated one.
    assert ids(diverse.select_examples(APPLES)) == ["basket", "price", "tree"]
    all_relevance = FewShot(POOL, selection=SimilarExamples(3, mmr=True, lambda_mult=1.0))
    assert ids(all_relevance.select_examples(APPLES)) == ids(top_k.select_examples(APPLES))


class TableEmbedder(Embedder):
    """Vectors looked up in a table: exact, known similarities."""

    def __init__(self, table: dict[str, list[float]], name: str) -> None:
        super().__init__(batch_size=8)
        self.table = table
        self.name = name

    async def _embed_batch(self, texts: list[str], *, query: bool) -> Sequence[Sequence[float]]:
        return [self.table[text] for text in texts]


VECTORS = {
    "near": [1.0, 0.4, 0.0],
    "nearer": [1.0, 0.6, 0.0],  # cosine 0.987 with "near": a near-duplicate
    "other side": [1.0, -0.3, 0.0],  # 0.73 relevant, 0.67 like "nearer"
    "unrelated": [0.0, 0.0, 1.0],
    "query": [1.0, 0.5, 0.0],
}
VECTOR_POOL = [{"id": q, "question": q, "answer": "x"} for q in list(VECTORS)[:4]]


def test_embeddings_top_k_and_mmr_with_known_vectors() -> None:
    embedder = TableEmbedder(VECTORS, "table-mmr-test")
    top_k = FewShot(VECTOR_POOL, selection=SimilarExamples(2, retriever=embedder))
    diverse = FewShot(VECTOR_POOL, selection=SimilarExamples(2, retriever=embedder, mmr=True))
    assert ids(top_k.select_examples({"question": "query"})) == ["nearer", "near"]
    assert ids(diverse.select_examples({"question": "query"})) == ["nearer", "other side"]


def test_mmr_order_by_hand() -> None:
    similarity = np.array([[1.0, 0.99, 0.1], [0.99, 1.0, 0.1], [0.1, 0.1, 1.0]])
    relevance = np.array([1.0, 0.95, 0.6])
    assert mmr_order(relevance, similarity, 2, 0.5) == [0, 2]  # 0.3 - 0.05 beats 0.475 - 0.495
    assert mmr_order(relevance, similarity, 2, 1.0) == [0, 1]
    assert mmr_order(relevance, similarity, 5, 0.5) == [0, 2, 1]


def test_a_tasks_own_example_is_never_shown_by_identical_text() -> None:
    strategy = FewShot(POOL, selection=SimilarExamples(3))
    # FewShot's rule (equal question) and the selector's (same text, any case or spacing).
    for question in (
        "How many apples are in the basket?",
        "  how many APPLES are in the  basket? ",
    ):
        shown = ids(strategy.select_examples({"question": question}))
        assert "basket" not in shown and len(shown) == 3


def test_a_tasks_own_example_is_never_shown_by_task_id() -> None:
    strategy = FewShot(POOL, selection=SimilarExamples(3))
    with running_task("basket"):
        shown = ids(strategy.select_examples(APPLES))
    assert shown == ["basket-today", "basket-now", "tree"]
    assert ids(strategy.select_examples(APPLES))[0] == "basket"  # outside the run: allowed


def test_in_an_experiment_no_task_sees_its_own_example(tmp_path: Path) -> None:
    # The examples are the tasks, reworded: only the task id tells a task's own example.
    tasks = [{**example, "question": f"Tell me: {example['question']}"} for example in POOL]
    fake = FakeProvider(["Answer: 1"], cycle=True)
    experiment = Experiment(
        {"similar": FewShot(POOL, selection=SimilarExamples(2))},
        {"fake": fake},
        tasks,
        ["exact"],
    )
    run = experiment.run(tmp_path / "run", progress=False, cache=False)
    assert len(run.records) == len(POOL)
    for record in run.records:
        assert len(record.shots) == 2 and record.task_id not in record.shots
        prompt = " ".join(m["content"] for m in record.messages)
        own = next(e for e in POOL if e["id"] == record.task_id)["question"]
        assert prompt.count(own) == 1  # only inside the task's own question
    by_task = {record.task_id: record.shots for record in run.records}
    assert by_task["basket-now"] == ["basket", "basket-today"]
    assert by_task["basket"] == ["basket-today", "basket-now"]


async def test_composes_with_cot_and_self_consistency_on_the_async_path() -> None:
    shots = [dict(e, rationale="Count them.") for e in POOL]
    strategy = SelfConsistency(
        ChainOfThought(FewShot(shots, selection=SimilarExamples(2), extractor="numeric")), n=3
    )
    fake = FakeProvider(["Count them. Answer: 12"], cycle=True)
    result = await strategy.arun(APPLES, fake)
    assert result.answer == "12"
    assert result.shots == ("basket", "basket-today")
    sent = fake.requests[0].messages
    assert "How many apples are in the basket?" in sent[0].content
    # The sync path gives the same prompt.
    assert strategy.render(APPLES) == tuple(sent)


def test_the_description_names_the_selector_and_changes_with_it() -> None:
    def describe(**options: Any) -> dict[str, Any]:
        return FewShot(POOL, selection=SimilarExamples(2, **options)).describe()

    plain = describe()
    assert plain["selection"]["type"] == "SimilarExamples"
    assert plain["selection"]["retriever"]["class"].endswith("BM25Retriever")
    assert plain != describe(mmr=True)
    assert describe(mmr=True) != describe(mmr=True, lambda_mult=0.2)
    assert plain != describe(input_keys=["question", "answer"])
    embedded = describe(retriever=TableEmbedder(VECTORS, "table-describe"))
    assert embedded["selection"]["retriever"]["embedder"]["name"] == "table-describe"
    fixed = FewShot(POOL, k=2).describe()
    assert fixed["selection"]["type"].endswith("FixedSelector")  # unchanged for old runs


def test_a_retriever_function_builds_over_the_examples() -> None:
    built: list[int] = []

    def no_stopwords(documents: list[Any]) -> BM25Retriever:
        built.append(len(documents))
        return BM25Retriever(documents, chunk_size=None, stopwords=None)

    strategy = FewShot(POOL, selection=SimilarExamples(1, retriever=no_stopwords))
    assert built == [len(POOL)]
    assert ids(strategy.select_examples({"question": "the train"})) == ["train"]


def test_one_selector_shared_by_two_strategies_indexes_each_pool_apart() -> None:
    selector = SimilarExamples(1)
    apples = FewShot(POOL[:5], selection=selector)
    travel = FewShot(POOL[5:], selection=selector)
    assert ids(apples.select_examples(APPLES)) == ["basket"]
    assert ids(travel.select_examples(APPLES)) == ["train"]  # nothing shared: file order
    assert apples.describe()["selection"] != travel.describe()["selection"]


def test_standalone_select_indexes_the_pool_it_is_given() -> None:
    selector = SimilarExamples(1)
    assert ids(selector.select(POOL[3:], APPLES, 1)) == ["tree"]
    assert ids(selector.select(POOL, APPLES, 1)) == ["basket"]


def test_bad_settings_are_clear_errors() -> None:
    with pytest.raises(ConfigurationError, match="k=8 is more than the 7 example"):
        FewShot(POOL, selection=SimilarExamples(8))
    with pytest.raises(ConfigurationError, match="k=3 and the selector's k=2 disagree"):
        FewShot(POOL, k=3, selection=SimilarExamples(2))
    with pytest.raises(ConfigurationError, match="pool is empty"):
        SimilarExamples(2).prepare([], 2)
    with pytest.raises(ConfigurationError, match=r"lambda_mult=1\.5"):
        SimilarExamples(2, lambda_mult=1.5)
    with pytest.raises(ConfigurationError, match="k=0"):
        SimilarExamples(0)
    with pytest.raises(ConfigurationError, match="fetch_k=0"):
        SimilarExamples(2, fetch_k=0)
    with pytest.raises(ConfigurationError, match="ready-built retriever"):
        SimilarExamples(2, retriever=BM25Retriever(["some text"]))
    with pytest.raises(ConfigurationError, match="retriever='tfidf'"):
        SimilarExamples(2, retriever="tfidf")


def test_missing_fields_are_clear_errors() -> None:
    with pytest.raises(DataError, match="example 2 has no 'question' field"):
        FewShot([POOL[0], {"q": "x", "answer": "1"}], selection=SimilarExamples(1))
    strategy = FewShot(POOL, selection=SimilarExamples(2))
    with pytest.raises(ConfigurationError, match="compares the task's 'question' field"):
        strategy.select_examples({"prompt": "How many apples?"})


def test_mmr_needs_a_retriever_that_can_compare_examples() -> None:
    class Opaque(BM25Retriever.__mro__[1]):  # a bare Retriever: no vectors, no words
        async def _retrieve(self, query: str, k: int) -> list[Any]:
            return []

    with pytest.raises(ConfigurationError, match="mmr=True needs a retriever"):
        FewShot(POOL, selection=SimilarExamples(2, mmr=True, retriever=lambda docs: Opaque()))


def test_a_retriever_that_chunks_the_examples_is_refused() -> None:
    def chunked(documents: list[Any]) -> BM25Retriever:
        return BM25Retriever(documents, chunk_size=3, chunk_overlap=0)

    with pytest.raises(ConfigurationError, match="chunk_size=None"):
        FewShot(POOL, selection=SimilarExamples(2, retriever=chunked))


def test_a_changed_selector_is_a_changed_arm_definition(tmp_path: Path) -> None:
    def experiment(selector: SimilarExamples) -> Experiment:
        return Experiment(
            {"similar": FewShot(POOL, selection=selector)},
            {"fake": FakeProvider(["Answer: 1"], cycle=True)},
            [{"id": "q", "question": "How many apples fit in a basket?", "answer": 1}],
            ["exact"],
        )

    experiment(SimilarExamples(2)).run(tmp_path / "run", progress=False, cache=False)
    with pytest.raises(ConfigurationError, match="arm 'similar' is defined differently"):
        experiment(SimilarExamples(2, mmr=True)).run(tmp_path / "run", progress=False)
