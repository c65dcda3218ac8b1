"""DeepLakeRetriever as a drop-in: for RAG (passages in the prompt, identity in the
description, no credential in any run file, cache or log) and for similar-example
few-shot selection."""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import pytest

pytest.importorskip("deeplake")  # the "deeplake" extra, installed by `make test`

from promptlab.experiments.experiment import Experiment
from promptlab.retrieval import DeepLakeRetriever, Document, EmbeddingRetriever
from promptlab.strategies import RAG, ChainOfThought, FewShot, SimilarExamples, ZeroShot
from promptlab.testing import FakeProvider
from tests.retrieval.deeplake_support import SeededEmbedder
from tests.retrieval.town_corpus import PASSAGES

SECRETS = {"aws_access_key_id": "AKIAFAKESECRET1234", "aws_secret_access_key": "s3cr3t-value-xyz"}
TOKEN = "al-token-very-secret-42"
QUESTION = "When does the steam train depart to Ostmark?"
_names = itertools.count()


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("deeplake") / "town"
    DeepLakeRetriever.from_corpus(PASSAGES, path, SeededEmbedder(256), progress=False)
    return path


def test_rag_shows_the_deeplake_passages_and_describes_the_dataset(town: Path) -> None:
    retriever = DeepLakeRetriever(town, SeededEmbedder(256))
    fake = FakeProvider(["Answer: twice a day"])
    result = ChainOfThought(RAG(ZeroShot(), retriever, k=2)).run({"question": QUESTION}, fake)
    expected = retriever.retrieve_sync(QUESTION, k=2)
    assert [d.id for d in result.retrieved] == [d.id for d in expected]
    assert result.retrieved[0].id == "railway"
    prompt = fake.requests[0].messages[-1].content
    assert "narrow-gauge railway links Varnholm to Ostmark" in prompt
    assert fake.requests[0].retrieved == tuple((d.id, d.score) for d in expected)
    described = RAG(ZeroShot(), retriever, k=2).describe()["retriever"]
    assert described == retriever.fingerprint()
    assert described["location"] == str(town.resolve()) and described["version"]


def test_no_credential_reaches_run_files_the_cache_or_the_logs(
    town: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    retriever = DeepLakeRetriever(town, SeededEmbedder(256), creds=SECRETS, token=TOKEN)
    tasks = [{"id": "t1", "question": QUESTION, "answer": "twice a day"}]
    experiment = Experiment(
        {"rag": RAG(ZeroShot(), retriever, k=2)},
        {"fake": FakeProvider(["Answer: twice a day"], cycle=True)},
        tasks,
        ["exact"],
    )
    cache_dir = tmp_path / "cache"
    run = experiment.run(tmp_path / "run", progress=False, cache=cache_dir)
    assert run.records[0].retrieved[0]["id"] == "railway"
    written = b"".join(
        path.read_bytes()
        for folder in (tmp_path / "run", cache_dir)
        for path in folder.rglob("*")
        if path.is_file()
    )
    assert str(town.resolve()).encode() in written  # the identity is recorded...
    for secret in [*SECRETS.values(), TOKEN]:
        assert secret.encode() not in written  # ...the credentials are not
        assert secret not in caplog.text


def test_similar_examples_can_search_a_deeplake_pool() -> None:
    pool = [{"id": p["id"], "question": p["text"], "answer": p["title"]} for p in PASSAGES]
    embedder = SeededEmbedder(256)

    def deeplake_pool(documents: list[Document]) -> DeepLakeRetriever:
        return DeepLakeRetriever.from_corpus(
            documents, f"mem://examples-{next(_names)}", embedder, chunk_size=None,
            progress=False,
        )  # fmt: skip

    def in_memory(documents: list[Document]) -> EmbeddingRetriever:
        return EmbeddingRetriever(documents, SeededEmbedder(256), chunk_size=None)

    task = {"question": "Which bread does the bakery bake, and when is it closed?"}
    on_deeplake = FewShot(pool, selection=SimilarExamples(3, retriever=deeplake_pool))
    in_numpy = FewShot(pool, selection=SimilarExamples(3, retriever=in_memory))
    chosen = [e["id"] for e in on_deeplake.select_examples(task)]
    assert chosen == [e["id"] for e in in_numpy.select_examples(task)]
    assert chosen[0] == "bakery"
