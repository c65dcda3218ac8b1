"""LangChain's Deep Lake vector store, wrapped by LangChainRetriever, finds the same top
passages on the same data as DeepLakeRetriever.

``langchain-deeplake`` 0.1.0 (the only release) works with ``deeplake`` 4.x, but its
``vectorstores`` module ends by patching ``langchain.retrievers.self_query.base``, a module
of ``langchain`` < 1.0 that LangChain 1.x moved to ``langchain-classic``; and
``langchain`` < 1.0 needs ``langchain-core`` < 1.0, which cannot sit beside the
``langchain-core`` 1.x that promptlab's ``langchain`` extra installs. So, when that module
is missing, this test puts a stand-in for it in ``sys.modules`` before importing the
integration. The stand-in only receives that patch (it serves LangChain's self-query
retriever, which this test does not use); every search below runs the integration's own
code on ``deeplake`` 4.x.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("deeplake")  # the "deeplake" extra, installed by `make test`
pytest.importorskip("langchain_core")
from langchain_core.embeddings import Embeddings

from promptlab.retrieval import DeepLakeRetriever, LangChainRetriever
from tests.retrieval.deeplake_support import SeededEmbedder, generated_corpus

CORPUS = generated_corpus(150, seed=11)
SEARCHES = ["steam train ticket", "rye bread oven", "goal stadium shirt", "whale skeleton"]
_SELF_QUERY = "langchain.retrievers.self_query.base"


class SeededEmbeddings(Embeddings):
    """The same vectors as the tests' SeededEmbedder, as a LangChain ``Embeddings``."""

    def __init__(self) -> None:
        self.seeded = SeededEmbedder(48)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.seeded.vector(text).tolist() for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.seeded.vector(text).tolist()


@pytest.fixture
def langchain_deeplake(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    try:
        importlib.import_module(_SELF_QUERY)
    except ImportError:
        _stand_in_for_self_query(monkeypatch)
    for name in [m for m in sys.modules if m.startswith("langchain_deeplake")]:
        monkeypatch.delitem(sys.modules, name)
    module = pytest.importorskip("langchain_deeplake")
    yield module
    for name in [m for m in sys.modules if m.startswith("langchain_deeplake")]:
        monkeypatch.delitem(sys.modules, name)


def _stand_in_for_self_query(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_translator(vectorstore: Any) -> Any:
        raise NotImplementedError("LangChain's self-query retriever is not part of this test")

    parts = _SELF_QUERY.split(".")
    parent: types.ModuleType | None = None
    for depth in range(1, len(parts) + 1):
        name = ".".join(parts[:depth])
        module = sys.modules.get(name)
        if module is None or depth > 1:
            module = types.ModuleType(name)
            module.__path__ = []  # a package, so that submodules can be imported
            monkeypatch.setitem(sys.modules, name, module)
        if parent is not None:
            monkeypatch.setattr(parent, parts[depth - 1], module, raising=False)
        parent = module
    monkeypatch.setattr(parent, "_get_builtin_translator", no_translator, raising=False)


def test_langchains_deeplake_store_and_deeplake_retriever_agree(
    langchain_deeplake: Any, tmp_path: Path
) -> None:
    embeddings = SeededEmbeddings()
    texts = [str(row["text"]) for row in CORPUS]
    ids = [str(row["id"]) for row in CORPUS]
    store = langchain_deeplake.DeeplakeVectorStore(
        dataset_path=str(tmp_path / "langchain"), embedding_function=embeddings, overwrite=True
    )
    store.add_texts(texts, metadatas=[{"id": i} for i in ids], ids=ids)
    through_langchain = LangChainRetriever(store.as_retriever())

    ours = DeepLakeRetriever.from_corpus(
        CORPUS, tmp_path / "ours", embeddings, chunk_size=None, progress=False, cache=False
    )
    # The same dataset LangChain wrote, opened by its column names.
    theirs = DeepLakeRetriever(
        tmp_path / "langchain",
        embeddings,
        text_column="documents",
        id_column="ids",
        embedding_column="embeddings",
        cache=False,
    )
    for query in SEARCHES:
        expected = [doc.id for doc in ours.retrieve_sync(query, k=5)]
        assert [doc.id for doc in through_langchain.retrieve_sync(query, k=5)] == expected
        assert [doc.id for doc in theirs.retrieve_sync(query, k=5)] == expected
        scored = store.similarity_search_with_score(query, k=5)
        assert [float(score) for _, score in scored] == pytest.approx(
            [doc.score for doc in ours.retrieve_sync(query, k=5)], abs=1e-5
        )
