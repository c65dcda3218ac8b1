"""RAG in experiment files and on the command line: the spec builds the strategy and its
retriever, a run records the passages and scores retrieval, and every bad spec names its key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from promptlab.errors import ConfigurationError
from promptlab.experiments.analysis import UnscoredWarning
from promptlab.experiments.config import retriever_from_spec
from promptlab.experiments.experiment import Experiment
from promptlab.experiments.store import CellRecord, definition_fingerprint
from promptlab.retrieval import BM25Retriever, EmbeddingRetriever, LlamaCppEmbedder, OpenAIEmbedder
from promptlab.strategies import RAG, ChainOfThought, FewShot, SelfConsistency
from promptlab.testing.stub_server import StubServer
from tests.retrieval.town_corpus import PASSAGES, QUERIES

ROOT = Path(__file__).resolve().parents[2]

EXPERIMENT = """\
name: rag_demo
tasks: tasks.jsonl
providers:
  fake: "fake:Answer: x"
scorers: [exact, {type: recall_at_k, k: 1}, mrr]
arms:
  rag:
    strategy: rag
    k: 2
    retriever: {type: bm25, corpus: corpus.jsonl, chunk_size: null, index_dir: .index/town}
  rag_few:
    strategy: rag
    base: {strategy: few_shot, examples: shots.jsonl, k: 1}
    retriever: {type: bm25, corpus: corpus.jsonl, k: 3}
  sc_cot_rag:
    strategy: self_consistency
    n: 2
    base:
      strategy: chain_of_thought
      base:
        strategy: rag
        query: "{{ question }}"
        retriever: {type: bm25, corpus: corpus.jsonl, k1: 1.2, b: 0.7, stopwords: en}
  zero_shot: {strategy: zero_shot}
"""


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMPTLAB_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    rows = [
        {"id": answer, "question": query, "answer": "x", "gold_ids": [answer]}
        for query, answer in QUERIES[:4]
    ]
    (tmp_path / "tasks.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "corpus.jsonl").write_text("".join(json.dumps(p) + "\n" for p in PASSAGES))
    shot = {"question": "What colour is the sky?", "answer": "blue"}
    (tmp_path / "shots.jsonl").write_text(json.dumps(shot) + "\n")
    (tmp_path / "exp.yaml").write_text(EXPERIMENT)
    return tmp_path


def write(folder: Path, text: str) -> Path:
    path = folder / "exp.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_the_file_builds_rag_arms_and_their_retrievers(folder: Path) -> None:
    experiment = Experiment.from_yaml(folder / "exp.yaml")
    rag = experiment.arms["rag"].strategy
    assert isinstance(rag, RAG) and rag.k == 2 and rag.template.name == "zero_shot_context"
    assert isinstance(rag.retriever, BM25Retriever) and rag.retriever.settings["chunk_size"] is None
    assert (folder / ".index/town/promptlab-index.json").is_file()  # index_dir: relative
    few = experiment.arms["rag_few"].strategy
    assert isinstance(few, RAG) and isinstance(few.base, FewShot)
    assert few.template.name == "few_shot_context" and few.k == 3  # the retriever's k
    sc = experiment.arms["sc_cot_rag"].strategy
    assert isinstance(sc, SelfConsistency) and isinstance(sc.base, ChainOfThought)
    assert isinstance(sc.base.base, RAG) and sc.template.name == "chain_of_thought_context"
    assert sc.base.base.retriever.settings["k1"] == 1.2
    assert sc.base.base.k == 4  # neither the arm nor the retriever says: 4


def test_a_run_records_the_passages_and_scores_retrieval(folder: Path) -> None:
    run = Experiment.from_yaml(folder / "exp.yaml").run(folder / "out", progress=False)
    cells = [json.loads(line) for line in (folder / "out/cells.jsonl").read_text().splitlines()]
    rag_cells = [c for c in cells if c["arm"] == "rag"]
    assert len(rag_cells) == 4 and all(c["error"] is None for c in cells)
    for cell in rag_cells:
        top = cell["retrieved"][0]
        assert set(top) == {"id", "score", "text"} and top["id"] == cell["task_id"]
        assert top["text"] == next(p["text"] for p in PASSAGES if p["id"] == top["id"])
        assert cell["scores"]["recall@1"] == 1.0 and cell["scores"]["mrr"] == 1.0
    zero = [c for c in cells if c["arm"] == "zero_shot"]
    assert all(c["retrieved"] == [] and c["scores"]["mrr"] is None for c in zero)
    assert "not a RAG arm" in zero[0]["score_notes"]["mrr"]
    with pytest.warns(UnscoredWarning, match="not a RAG arm"):
        summary = run.summary(scorer="mrr").set_index("arm")
    assert summary.loc["rag", "accuracy"] == 1.0 and summary.loc["zero_shot", "unscored"] == 4


def test_adding_a_retrieval_scorer_rescores_the_stored_passages_without_calls(
    folder: Path,
) -> None:
    only_exact = EXPERIMENT.replace(
        "scorers: [exact, {type: recall_at_k, k: 1}, mrr]", "scorers: [exact]"
    )
    (folder / "first.yaml").write_text(only_exact)
    Experiment.from_yaml(folder / "first.yaml").run(folder / "out", cache=False, progress=False)
    again = Experiment.from_yaml(folder / "exp.yaml")
    again.run(folder / "out", cache=False, progress=False)
    assert again.providers["fake"].requests == []  # type: ignore[attr-defined]
    cells = [json.loads(line) for line in (folder / "out/cells.jsonl").read_text().splitlines()]
    rag_cells = [c for c in cells if c["arm"] == "rag"]
    assert len(rag_cells) == 4 and all(c["scores"]["mrr"] == 1.0 for c in rag_cells)


def test_a_changed_corpus_changes_the_definition_fingerprint(folder: Path) -> None:
    before = definition_fingerprint(Experiment.from_yaml(folder / "exp.yaml"))
    edited = [{**PASSAGES[0], "text": "The harbour was rebuilt."}, *PASSAGES[1:]]
    (folder / "corpus.jsonl").write_text("".join(json.dumps(p) + "\n" for p in edited))
    after = definition_fingerprint(Experiment.from_yaml(folder / "exp.yaml"))
    assert before["arms"]["rag"] != after["arms"]["rag"]
    assert before["arms"]["zero_shot"] == after["arms"]["zero_shot"]


def test_records_written_before_retrieval_still_load() -> None:
    old = {"task_id": "t", "arm": "a", "provider": "p", "model": "m", "repeat": 0, "scores": {}}
    record = CellRecord.from_json(json.dumps(old))
    assert record.retrieved == []


async def test_an_embedding_retriever_spec_runs_against_the_stub_server(folder: Path) -> None:
    async with StubServer() as srv:
        spec = {
            "type": "embedding",
            "corpus": "corpus.jsonl",
            "k": 1,
            "cache": "vectors.sqlite",
            "embedder": {
                "type": "openai",
                "model": "stub-embed",
                "base_url": srv.base_url,
                "dimensions": 512,
                "batch_size": 4,
            },
        }
        retriever = retriever_from_spec(spec, ("arms", "rag", "retriever"), folder)
        assert isinstance(retriever, EmbeddingRetriever)
        assert isinstance(retriever.embedder, OpenAIEmbedder)
        assert retriever.embedder.dimensions == 512
        found = await retriever.retrieve(PASSAGES[4]["text"])
    assert [d.id for d in found] == ["lighthouse"]
    assert (folder / "vectors.sqlite").is_file()


def test_a_llama_cpp_embedder_spec_builds_without_loading_the_model(folder: Path) -> None:
    spec = {
        "type": "embedding",
        "corpus": "corpus.jsonl",
        "embedder": {"type": "llama-cpp", "pooling": "mean", "n_ctx": 256},
    }
    retriever = retriever_from_spec(spec, ("retriever",), folder)
    assert isinstance(retriever, EmbeddingRetriever)
    assert isinstance(retriever.embedder, LlamaCppEmbedder) and retriever.embedder.n_ctx == 256


BAD_RETRIEVERS: list[tuple[Any, str]] = [
    ("bm25", "arms.r.retriever: expected a retriever spec"),
    ({"corpus": "corpus.jsonl"}, "arms.r.retriever.type: missing required key"),
    ({"type": "faiss", "corpus": "c"}, "arms.r.retriever.type: unknown retriever type 'faiss'"),
    ({"type": "bm25"}, "arms.r.retriever.corpus: missing required key"),
    ({"type": "bm25", "corpus": "nope.jsonl"}, "arms.r.retriever.corpus: no corpus file"),
    ({"type": "bm25", "corpus": 3}, "arms.r.retriever.corpus: expected the path"),
    ({"type": "bm25", "corpus": "corpus.jsonl", "chunk_size": "big"}, "chunk_size: expected an"),
    ({"type": "bm25", "corpus": "corpus.jsonl", "embedder": {}}, "arms.r.retriever.embedder: "),
    ({"type": "bm25", "corpus": "corpus.jsonl", "method": "bm99"}, "method='bm99' is not"),
    ({"type": "bm25", "corpus": "corpus.jsonl", "k": 0}, "arms.r.retriever.k: expected an"),
    ({"type": "bm25", "corpus": "empty.jsonl"}, "the corpus has nothing to index"),
    ({"type": "bm25", "corpus": "corpus.jsonl", "text_field": "body"}, "no text field"),
    ({"type": "embedding", "corpus": "corpus.jsonl"}, "arms.r.retriever.embedder: missing"),
    (
        {"type": "embedding", "corpus": "corpus.jsonl", "embedder": {"type": "openai"}},
        "arms.r.retriever.embedder.model: missing required key",
    ),
    (
        {"type": "embedding", "corpus": "corpus.jsonl", "embedder": {"type": "sbert"}},
        "arms.r.retriever.embedder.type: unknown embedder type 'sbert'",
    ),
    (
        {
            "type": "embedding",
            "corpus": "corpus.jsonl",
            "embedder": {"type": "openai", "model": "m", "api_key": "sk-secret"},
        },
        "arms.r.retriever.embedder.api_key: an API key never goes in an experiment file",
    ),
    (
        {
            "type": "embedding",
            "corpus": "corpus.jsonl",
            "embedder": {"type": "llama_cpp", "model_path": "missing.gguf"},
        },
        "arms.r.retriever.embedder.model_path: no model file",
    ),
    (
        {
            "type": "embedding",
            "corpus": "corpus.jsonl",
            "embedder": {"type": "llama_cpp"},
            "cache": 3,
        },
        "arms.r.retriever.cache: expected true, false or the path",
    ),
]


@pytest.mark.parametrize(("spec", "message"), BAD_RETRIEVERS)
def test_bad_retriever_specs_name_the_key(folder: Path, spec: Any, message: str) -> None:
    (folder / "empty.jsonl").write_text("")
    with pytest.raises(ConfigurationError) as info:
        retriever_from_spec(spec, ("arms", "r", "retriever"), folder)
    assert message in str(info.value)


BM25 = "retriever: {type: bm25, corpus: corpus.jsonl}"
BAD_ARMS: list[tuple[str, str]] = [
    ("{strategy: rag}", "arms.r.retriever: missing required key for strategy rag"),
    (
        "{strategy: rag, retriever: {type: bm25, corpus: corpus.jsonl}, top: 3}",
        "arms.r.top: unknown key",
    ),
    (
        "{strategy: rag, retriever: {type: bm25, corpus: corpus.jsonl}, query: '{{ oops'}",
        "arms.r: The retrieval query '{{ oops' has a syntax error",
    ),
    (
        f"{{strategy: rag, {BM25}, template: '{{% user %}}{{{{ question }}}}{{% enduser %}}'}}",
        "does not use the variable 'context'",
    ),
    (
        f"{{strategy: rag, {BM25}, base: {{strategy: sc, base: {{strategy: cot}}}}}}",
        "RAG cannot wrap SelfConsistency",
    ),
    (
        f"{{strategy: cot, base: {{strategy: rag, params: {{temperature: 0}}, {BM25}}}}}",
        "arms.r.base.params: a nested rag takes no params",
    ),
    (
        "{strategy: rag, retriever: {type: bm25, corpus: nowhere.jsonl}}",
        "bad.yaml, line 5: arms.r.retriever.corpus: no corpus file",
    ),
]


@pytest.mark.parametrize(("arm", "message"), BAD_ARMS)
def test_bad_rag_arms_name_the_file_and_key(folder: Path, arm: str, message: str) -> None:
    text = (
        "tasks: tasks.jsonl\nproviders: {fake: 'fake:Answer: x'}\nscorers: [exact]\n"
        f"arms:\n  r: {arm}\n"
    )
    (folder / "bad.yaml").write_text(text)
    with pytest.raises(ConfigurationError) as info:
        Experiment.from_yaml(folder / "bad.yaml")
    assert message in str(info.value)


def promptlab(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {"PYTHONPATH": str(ROOT), "PROMPTLAB_CACHE_DIR": str(cwd / "cache")}
    return subprocess.run(
        [sys.executable, "-m", "promptlab.cli", *args],
        cwd=cwd,
        env={**os.environ, **environment, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_cli_runs_a_rag_experiment_and_summarises_its_retrieval(folder: Path) -> None:
    # MRR first, so the summary the run prints is the retrieval score.
    text = EXPERIMENT.replace("scorers: [exact, {type: recall_at_k, k: 1}, mrr]", "scorers: [mrr]")
    (folder / "cli.yaml").write_text(text)
    summary = promptlab("run", "cli.yaml", "--out", "out", cwd=folder)
    assert summary.returncode == 0, summary.stderr
    cells = [json.loads(line) for line in (folder / "out/cells.jsonl").read_text().splitlines()]
    assert {c["arm"] for c in cells if c["retrieved"]} == {"rag", "rag_few", "sc_cot_rag"}
    lines = summary.stdout.splitlines()
    header = [cell.strip() for cell in next(x for x in lines if "accuracy" in x).split("┃")]
    column = header.index("accuracy")  # the mean of the first scorer: here the MRR
    rows = {x.split("│")[1].strip(): x.split("│") for x in lines if "fake-model" in x}
    assert rows["rag"][column].strip() == "1.000"
    assert not rows["zero_shot"][column].strip()[:1].isdigit()  # unscored, not 0
