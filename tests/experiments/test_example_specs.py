"""Few-shot ``examples`` specs in experiment files: similar selection, MMR, retrievers, errors."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from promptlab.errors import ConfigurationError
from promptlab.experiments.config import SpecError, build_strategy
from promptlab.experiments.experiment import Experiment
from promptlab.strategies import FewShot, SimilarExamples
from promptlab.testing.stub_server import StubServer
from tests.providers.stub_setup import STUB_KEY

SHOTS = [
    {"id": "basket", "question": "How many apples are in the basket?", "answer": "12"},
    {"id": "basket-now", "question": "How many apples are in the basket now?", "answer": "9"},
    {"id": "tree", "question": "How many apples grow on one tree?", "answer": "300"},
    {"id": "train", "question": "When does the train to Oslo leave?", "answer": "9"},
]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "shots.jsonl").write_text("\n".join(json.dumps(s) for s in SHOTS) + "\n")
    return tmp_path


def build(spec: dict[str, Any], folder: Path) -> FewShot:
    strategy = build_strategy(spec, ("arms", "similar"), folder, None)
    assert isinstance(strategy, FewShot)
    return strategy


def test_similar_selection_with_mmr_and_a_bm25_retriever(folder: Path) -> None:
    spec = {
        "strategy": "few_shot",
        "examples": {
            "path": "shots.jsonl",
            "select": "similar",
            "k": 2,
            "mmr": True,
            "lambda_mult": 0.3,
            "fetch_k": 10,
            "retriever": {"type": "bm25", "k1": 1.2},
        },
    }
    strategy = build(spec, folder)
    assert isinstance(strategy.selector, SimilarExamples)
    assert (strategy.k, strategy.selector.mmr, strategy.selector.fetch_k) == (2, True, 10)
    assert strategy.selector.lambda_mult == 0.3
    description = strategy.describe()["selection"]
    assert description["retriever"]["k1"] == 1.2  # the spec's setting, in the fingerprint
    shown = strategy.select_examples({"question": "How many apples fit in the basket?"})
    assert [e["id"] for e in shown] == ["basket", "tree"]  # diverse: not both basket questions


def test_similar_defaults_to_bm25_and_inline_items(folder: Path) -> None:
    spec = {"strategy": "few_shot", "examples": {"items": SHOTS, "select": "similar", "k": 1}}
    strategy = build(spec, folder)
    assert strategy.describe()["selection"]["retriever"]["class"].endswith("BM25Retriever")
    assert [e["id"] for e in strategy.select_examples({"question": "the train?"})] == ["train"]


def test_selection_similar_at_the_strategy_level(folder: Path) -> None:
    spec = {"strategy": "few_shot", "examples": "shots.jsonl", "k": 1, "selection": "similar"}
    strategy = build(spec, folder)
    assert isinstance(strategy.selector, SimilarExamples)
    assert [e["id"] for e in strategy.select_examples({"question": "Oslo train"})] == ["train"]


def test_fixed_and_random_in_the_mapping_form(folder: Path) -> None:
    fixed = build({"strategy": "few_shot", "examples": {"path": "shots.jsonl", "k": 2}}, folder)
    assert [e["id"] for e in fixed.select_examples({"question": "x"})] == ["basket", "basket-now"]
    spec = {"strategy": "few_shot", "examples": {"path": "shots.jsonl", "select": "random"}}
    assert type(build(spec, folder).selector).__name__ == "RandomSelector"


@pytest.mark.parametrize(
    ("examples", "where", "message"),
    [
        ({"select": "similar"}, "arms.similar.examples", "give the examples as path"),
        (
            {"path": "shots.jsonl", "items": SHOTS},
            "arms.similar.examples",
            "not both",
        ),
        ({"path": "missing.jsonl"}, "arms.similar.examples.path", "no examples file"),
        ({"path": "shots.jsonl", "colour": 1}, "arms.similar.examples.colour", "unknown key"),
        ({"path": "shots.jsonl", "select": "best"}, "arms.similar.examples.select", "one of"),
        ({"path": "shots.jsonl", "mmr": True}, "arms.similar.examples.mmr", "select: similar"),
        (
            {"path": "shots.jsonl", "select": "similar", "mmr": "yes"},
            "arms.similar.examples.mmr",
            "true or false",
        ),
        (
            {"path": "shots.jsonl", "select": "similar", "lambda_mult": 2},
            "arms.similar.examples.lambda_mult",
            "from 0 to 1",
        ),
        (
            {
                "path": "shots.jsonl",
                "select": "similar",
                "retriever": {"type": "bm25", "corpus": "x"},
            },
            "arms.similar.examples.retriever.corpus",
            "the examples are the corpus",
        ),
        (
            {"path": "shots.jsonl", "select": "similar", "retriever": {"type": "bm25", "k": 3}},
            "arms.similar.examples.retriever.k",
            "k goes under examples",
        ),
        (
            {"path": "shots.jsonl", "select": "similar", "retriever": {"type": "tfidf"}},
            "arms.similar.examples.retriever.type",
            "unknown retriever type",
        ),
        ({"items": [], "select": "similar"}, "arms.similar", "at least one example"),
        (
            {"path": "shots.jsonl", "select": "similar", "k": 5},
            "arms.similar",
            "k=5 is more than the 4 example",
        ),
        (
            {"path": "shots.jsonl", "select": "similar", "input_keys": ["prompt"]},
            "arms.similar",
            "has no 'prompt' field",
        ),
    ],
)
def test_bad_example_specs_name_the_key(
    folder: Path, examples: dict[str, Any], where: str, message: str
) -> None:
    with pytest.raises(SpecError, match=message) as caught:
        build({"strategy": "few_shot", "examples": examples}, folder)
    assert caught.value.path[: len(where.split("."))] == tuple(where.split("."))


def test_k_given_twice_is_an_error(folder: Path) -> None:
    spec = {"strategy": "few_shot", "k": 2, "examples": {"path": "shots.jsonl", "k": 2}}
    with pytest.raises(SpecError, match="set both here and under examples") as caught:
        build(spec, folder)
    assert caught.value.path == ("arms", "similar", "k")


def test_an_experiment_file_with_similar_examples_runs(folder: Path) -> None:
    (folder / "tasks.jsonl").write_text(
        json.dumps({"id": "q1", "question": "How many apples fit in the basket?", "answer": 12})
    )
    (folder / "experiment.yaml").write_text(
        textwrap.dedent(
            """\
            tasks: tasks.jsonl
            providers: {fake: "fake:Answer: 12"}
            scorers: [numeric]
            arms:
              similar:
                strategy: few_shot
                extractor: numeric
                examples: {path: shots.jsonl, select: similar, k: 2, mmr: true, lambda_mult: 0.3}
            """
        )
    )
    run = Experiment.from_yaml(folder / "experiment.yaml").run(
        folder / "run", progress=False, cache=False
    )
    (record,) = run.records
    assert record.answer == "12" and record.shots == ["basket", "tree"]
    definition = json.loads((folder / "run" / "experiment.json").read_text())
    assert definition["arms"]["similar"]["strategy"]["selection"]["mmr"] is True


def test_missing_examples_key(folder: Path) -> None:
    with pytest.raises(ConfigurationError, match="examples: missing required key"):
        build({"strategy": "few_shot"}, folder)


async def test_an_embedding_retriever_spec_over_the_stub_endpoint(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXAMPLES_TEST_KEY", STUB_KEY)
    async with StubServer() as srv:
        retriever = {
            "type": "embedding",
            "cache": False,
            "embedder": {
                "type": "openai",
                "model": "stub-embed",
                "base_url": srv.base_url,
                "api_key_env": "EXAMPLES_TEST_KEY",
            },
        }
        examples = {"path": "shots.jsonl", "select": "similar", "k": 1, "retriever": retriever}
        strategy = build({"strategy": "few_shot", "examples": examples}, folder)
        description = strategy.describe()["selection"]["retriever"]
        assert description["class"].endswith("EmbeddingRetriever")
        assert description["embedder"]["name"].endswith("stub-embed")
        shown = await strategy.aselect_examples({"question": "When does the Oslo train leave?"})
        assert [e["id"] for e in shown] == ["train"]
        assert srv.stats.requests  # the examples and the query were embedded there
