"""``type: deeplake`` retriever specs in experiment files: build, reopen, and bad specs."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("deeplake")  # the "deeplake" extra, installed by `make test`

from promptlab.experiments.config import SpecError
from promptlab.experiments.config._retriever_specs import retriever_from_spec
from promptlab.retrieval import DeepLakeRetriever
from promptlab.testing.stub_server import StubServer
from tests.retrieval.town_corpus import PASSAGES

WHERE = ("arms", "rag", "retriever")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    rows = [{**row, "source": "odd" if i % 2 else "even"} for i, row in enumerate(PASSAGES)]
    text = "\n".join(json.dumps(row) for row in rows) + "\n"
    (tmp_path / "corpus.jsonl").write_text(text, encoding="utf-8")
    return tmp_path


def embedder(base_url: str) -> dict[str, Any]:
    return {"type": "openai", "model": "stub-embed", "base_url": base_url, "dimensions": 64}


async def test_a_deeplake_spec_builds_from_a_corpus_and_reopens_the_dataset(folder: Path) -> None:
    async with StubServer() as srv:
        build = {"type": "deeplake", "path": "store", "corpus": "corpus.jsonl", "k": 1,
                 "chunk_size": None, "embedder": embedder(srv.base_url)}  # fmt: skip
        # A build blocks until it ends; the stub server answers on this loop, so build
        # in a thread, as a script (not inside a running loop) would.
        built = await asyncio.to_thread(retriever_from_spec, build, WHERE, folder)
        assert isinstance(built, DeepLakeRetriever) and (folder / "store").is_dir()
        query = PASSAGES[4]["text"]
        assert [d.id for d in await built.retrieve(query)] == [PASSAGES[4]["id"]]
        reopen = {"type": "deeplake", "path": str(folder / "store"), "k": 3,
                  "embedder": embedder(srv.base_url)}  # fmt: skip
        reopened = await asyncio.to_thread(retriever_from_spec, reopen, WHERE, folder)
        assert [d.id for d in await reopened.retrieve(query, k=1)] == [PASSAGES[4]["id"]]


async def test_a_deeplake_spec_filter_reaches_the_search(folder: Path) -> None:
    async with StubServer() as srv:
        spec = {"type": "deeplake", "path": "store", "corpus": "corpus.jsonl",
                "chunk_size": None, "filter": {"source": "odd"},
                "embedder": embedder(srv.base_url)}  # fmt: skip
        retriever = await asyncio.to_thread(retriever_from_spec, spec, WHERE, folder)
        found = await retriever.retrieve(PASSAGES[4]["text"], k=len(PASSAGES))
    odd = {row["id"] for i, row in enumerate(PASSAGES) if i % 2}
    assert found and {d.id for d in found} <= odd


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"creds": {"aws_access_key_id": "AKIA"}}, "retriever.creds: credentials never go"),
        ({"token_env": "PROMPTLAB_TEST_UNSET_TOKEN"}, "is not set"),
        ({"vector_index": True}, "retriever.vector_index: only used when building"),
        ({"path": 3}, "retriever.path: expected a string"),
        ({"embedding_col": "v"}, "unknown key"),
    ],
)
def test_bad_deeplake_specs_name_the_key(folder: Path, extra: dict[str, Any], message: str) -> None:
    spec = {"type": "deeplake", "path": "store", "embedder": embedder("http://127.0.0.1:9/v1")}
    with pytest.raises(SpecError, match=message):
        retriever_from_spec({**spec, **extra}, WHERE, folder)


def test_a_deeplake_spec_without_a_dataset_or_corpus_says_so(folder: Path) -> None:
    spec = {"type": "deeplake", "path": "missing", "embedder": embedder("http://127.0.0.1:9/v1")}
    with pytest.raises(SpecError, match=r"arms\.rag\.retriever: .*missing"):
        retriever_from_spec(spec, WHERE, folder)
