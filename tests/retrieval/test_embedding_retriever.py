"""EmbeddingRetriever over a deterministic fake LangChain Embeddings: quality, batching,
the saved index, and the vector-size errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from promptlab.errors import EmbeddingDimensionError, EmptyQueryError, ResponseFormatError
from promptlab.retrieval import EmbeddingRetriever, LangChainEmbedder
from tests.retrieval.fakes import BagOfWords
from tests.retrieval.town_corpus import PASSAGES, QUERIES


@pytest.mark.parametrize(("query", "answer_id"), QUERIES)
def test_the_right_passage_comes_first(query: str, answer_id: str) -> None:
    retriever = EmbeddingRetriever(PASSAGES, BagOfWords())
    assert [d.id for d in retriever.retrieve_sync(query, k=1)] == [answer_id]


async def test_scores_are_cosine_similarities_best_first() -> None:
    retriever = EmbeddingRetriever(PASSAGES, BagOfWords(), k=3)
    docs = await retriever.retrieve(PASSAGES[4]["text"])  # a passage's own text
    assert docs[0].id == "lighthouse"
    assert docs[0].score == pytest.approx(1.0, abs=1e-6)
    scores = [d.score for d in docs]
    assert len(docs) == 3 and scores == sorted(scores, reverse=True)
    assert all(s is not None and -1.0 <= s < 1.0 for s in scores[1:])


def test_passages_are_embedded_in_batches_once() -> None:
    fake = BagOfWords()
    retriever = EmbeddingRetriever(PASSAGES, LangChainEmbedder(fake, batch_size=4))
    assert not retriever.built and fake.document_calls == []  # lazy until the first query
    retriever.retrieve_sync("bakery")
    retriever.retrieve_sync("museum")
    assert fake.document_calls == [4, 4, 2]


def test_a_second_build_from_the_index_dir_makes_no_embedding_calls(tmp_path: Path) -> None:
    first_fake = BagOfWords()
    first = EmbeddingRetriever(PASSAGES, first_fake, index_dir=tmp_path)
    first.build()
    assert first_fake.document_calls == [len(PASSAGES)]

    second_fake = BagOfWords()
    second = EmbeddingRetriever(PASSAGES, second_fake, index_dir=tmp_path)
    assert second.loaded_from_disk and second.built
    assert second.retrieve_sync("brass bell", k=1)[0].id == "harbour"
    assert second_fake.document_calls == []


def test_a_changed_corpus_or_embedder_rebuilds_the_index(tmp_path: Path) -> None:
    EmbeddingRetriever(PASSAGES, BagOfWords(), index_dir=tmp_path).build()
    changed = EmbeddingRetriever(PASSAGES[:5], BagOfWords(), index_dir=tmp_path)
    assert not changed.loaded_from_disk
    other_model = EmbeddingRetriever(PASSAGES, BagOfWords(), index_dir=tmp_path, chunk_size=50)
    assert not other_model.loaded_from_disk
    renamed = LangChainEmbedder(BagOfWords(), name="another-model")
    assert not EmbeddingRetriever(PASSAGES, renamed, index_dir=tmp_path).loaded_from_disk


def test_a_query_vector_of_another_size_than_the_index_is_a_clear_error() -> None:
    retriever = EmbeddingRetriever(PASSAGES, BagOfWords(size=64, query_size=32))
    with pytest.raises(EmbeddingDimensionError, match="32 numbers, but 64 were expected") as info:
        retriever.retrieve_sync("bakery")
    assert (info.value.expected, info.value.got) == (64, 32)


def test_vectors_of_the_wrong_size_are_a_clear_error() -> None:
    embedder = LangChainEmbedder(BagOfWords(size=16), dimensions=8)
    with pytest.raises(EmbeddingDimensionError, match="16 numbers, but 8 were expected"):
        EmbeddingRetriever(PASSAGES, embedder).build()


def test_vectors_of_mixed_sizes_are_a_clear_error() -> None:
    class Ragged(BagOfWords):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [self.vector(t, self.size - i % 2) for i, t in enumerate(texts)]

    with pytest.raises(EmbeddingDimensionError, match="text 1 came back as a vector of 1023"):
        EmbeddingRetriever(PASSAGES, Ragged()).build()


def test_a_wrong_number_of_vectors_is_a_response_format_error() -> None:
    class Short(BagOfWords):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return super().embed_documents(texts)[:-1]

    with pytest.raises(ResponseFormatError, match="asked for 10 embedding"):
        EmbeddingRetriever(PASSAGES, Short()).build()


def test_an_empty_query_is_a_clear_error() -> None:
    with pytest.raises(EmptyQueryError):
        EmbeddingRetriever(PASSAGES, BagOfWords()).retrieve_sync("")


def test_saved_vectors_are_unit_length(tmp_path: Path) -> None:
    EmbeddingRetriever(PASSAGES, BagOfWords(), index_dir=tmp_path).build()
    vectors = np.load(tmp_path / "vectors.npy")
    assert vectors.shape == (len(PASSAGES), 1024)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
