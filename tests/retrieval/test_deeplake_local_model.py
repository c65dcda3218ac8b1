"""DeepLakeRetriever with the bundled model's own embeddings (llama.cpp in-process), and RAG
over it on the bundled model. Kept short: six passages, three queries, one generation of a
few tokens.

Needs the ``local`` and ``deeplake`` extras. In CI (CI=true) a model that cannot load
fails the suite.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("deeplake")  # the "deeplake" extra, installed by `make test`
import deeplake

from promptlab.params import GenerationParams
from promptlab.retrieval import DeepLakeRetriever, LlamaCppEmbedder
from promptlab.strategies import RAG, ZeroShot
from promptlab.sync import run_sync
from tests.conftest import require
from tests.retrieval.deeplake_support import exact_top_k
from tests.retrieval.town_corpus import PASSAGES, QUERIES

pytestmark = pytest.mark.local_model

TOWN = PASSAGES[:6]
ASKED = [question for question, answer in QUERIES if answer in {p["id"] for p in TOWN}][:3]


@pytest.fixture(scope="module")
def embedder() -> LlamaCppEmbedder:
    def build() -> LlamaCppEmbedder:
        embedder = LlamaCppEmbedder(batch_size=4)
        embedder.embed_documents_sync(["warm up"])
        return embedder

    return require("The bundled local model (LlamaCppEmbedder)", build)


@pytest.fixture(scope="module")
def retriever(embedder: LlamaCppEmbedder, tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("deeplake") / "town-smollm2"
    return DeepLakeRetriever.from_corpus(
        TOWN, path, embedder, batch_size=4, progress=False, cache=False
    )


def test_deeplake_search_equals_exact_numpy_search_on_the_models_vectors(
    retriever: DeepLakeRetriever, embedder: LlamaCppEmbedder
) -> None:
    # The same vectors, read straight from the dataset; the search is NumPy's own.
    dataset = deeplake.open_read_only(retriever.location.url)
    vectors = np.asarray(dataset["embedding"][:])
    ids = [str(i) for i in dataset["id"][:]]
    assert ids == [p["id"] for p in TOWN]
    for question in ASKED:
        query = run_sync(embedder.embed_query(question))
        expected = exact_top_k(vectors, ids, query, 3)
        found = retriever.retrieve_sync(question, k=3)
        assert [d.id for d in found] == [i for i, _ in expected]
        assert [d.score for d in found] == pytest.approx([s for _, s in expected], abs=1e-5)


def test_rag_over_deeplake_on_the_bundled_model(
    retriever: DeepLakeRetriever, local_provider: object
) -> None:
    question = ASKED[0]
    result = RAG(ZeroShot(), retriever, k=2).run(
        {"question": question}, local_provider, params=GenerationParams(max_tokens=12)
    )
    top = retriever.retrieve_sync(question, k=2)
    assert [d.id for d in result.retrieved] == [d.id for d in top]
    prompt = result.messages[-1].content
    for doc in top:
        assert doc.text in prompt
    assert result.text.strip()  # the model answered something, whatever its quality
