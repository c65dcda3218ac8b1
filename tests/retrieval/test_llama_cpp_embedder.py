"""LlamaCppEmbedder on the bundled SmolLM2 GGUF, in-process. Kept small: a few short texts.

Needs the ``local`` extra. In CI (CI=true) a model that cannot load fails the suite.
"""

from __future__ import annotations

import pytest

from promptlab.retrieval import EmbeddingRetriever, LlamaCppEmbedder
from tests.conftest import require

pytestmark = pytest.mark.local_model

PASSAGES = [
    {"id": "bell", "text": "The harbour master rings a brass bell at six each morning."},
    {"id": "bread", "text": "Mott and Daughters bake rye bread with caraway seeds."},
    {"id": "train", "text": "A narrow-gauge steam train runs twice a day to Ostmark."},
]


@pytest.fixture(scope="module")
def embedder() -> LlamaCppEmbedder:
    def build() -> LlamaCppEmbedder:
        embedder = LlamaCppEmbedder(batch_size=2)
        embedder.embed_documents_sync(["warm up"])
        return embedder

    return require("The bundled local model (LlamaCppEmbedder)", build)


def test_one_mean_pooled_vector_per_text_of_the_models_width(embedder: LlamaCppEmbedder) -> None:
    vectors = embedder.embed_documents_sync(["one", "two words", "three words here"])
    assert vectors.shape == (3, 576)  # SmolLM2-135M's hidden size
    assert embedder.fingerprint()["pooling"] == "mean"


def test_a_passage_finds_itself_across_batches(embedder: LlamaCppEmbedder) -> None:
    retriever = EmbeddingRetriever(PASSAGES, embedder)
    # The passages were embedded two per call; the query alone. Same text, same vector.
    [hit] = retriever.retrieve_sync(PASSAGES[2]["text"], k=1)
    assert hit.id == "train"
    assert hit.score == pytest.approx(1.0, abs=1e-3)
