"""Embeddings kept in the response cache: a second build makes no embedding calls, the key
follows the embedder's identity (never its API key), and cached vectors are checked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from promptlab.errors import ConfigurationError, EmbeddingDimensionError, PromptlabError
from promptlab.providers.cache import ResponseCache
from promptlab.retrieval import EmbeddingRetriever, LangChainEmbedder, OpenAIEmbedder
from promptlab.testing.stub_server import StubServer
from tests.providers.stub_setup import FAST_RETRY, STUB_KEY
from tests.retrieval.fakes import BagOfWords
from tests.retrieval.town_corpus import PASSAGES


def embedder_on(srv: StubServer, model: str = "stub-embed", **options: object) -> OpenAIEmbedder:
    return OpenAIEmbedder(
        model, base_url=srv.base_url, api_key=STUB_KEY, retry=FAST_RETRY, **options
    )


async def test_a_second_build_on_the_stub_server_makes_no_embedding_calls(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    async with StubServer() as srv:
        first = EmbeddingRetriever(PASSAGES, embedder_on(srv, batch_size=4), cache=cache)
        found_first = await first.retrieve("Varnholm Rovers stadium supporters", k=2)
        calls_after_first = srv.stats.total_requests
        # A fresh retriever and a fresh embedder object: only the cache can save the calls.
        second = EmbeddingRetriever(PASSAGES, embedder_on(srv, batch_size=4), cache=cache)
        found_second = await second.retrieve("Varnholm Rovers stadium supporters", k=2)
        calls_after_second = srv.stats.total_requests
    assert calls_after_first == 4  # three batches of passages (4, 4, 2) and the query
    assert calls_after_second == calls_after_first
    assert not second.loaded_from_disk  # no index_dir: the vectors came from the cache
    assert [(d.id, d.score) for d in found_second] == [(d.id, d.score) for d in found_first]
    assert found_second[0].id == "football"


def test_the_shared_cache_is_the_default_and_false_turns_it_off() -> None:
    fake = BagOfWords()
    EmbeddingRetriever(PASSAGES, fake).build()
    EmbeddingRetriever(PASSAGES, fake).build()
    assert fake.document_calls == [len(PASSAGES)]  # the second build read the shared cache

    uncached = BagOfWords()
    EmbeddingRetriever(PASSAGES, uncached, cache=False).build()
    EmbeddingRetriever(PASSAGES, uncached, cache=False).build()
    assert uncached.document_calls == [len(PASSAGES), len(PASSAGES)]


def test_a_grown_corpus_embeds_only_its_new_passages(tmp_path: Path) -> None:
    fake = BagOfWords()
    EmbeddingRetriever(PASSAGES[:6], fake, cache=tmp_path).build()
    grown = EmbeddingRetriever(PASSAGES, fake, cache=tmp_path)
    grown.build()
    assert fake.document_calls == [6, len(PASSAGES) - 6]
    assert grown.retrieve_sync("brass bell", k=1)[0].id == "harbour"


def test_cached_vectors_equal_fresh_ones(tmp_path: Path) -> None:
    fresh = EmbeddingRetriever(PASSAGES, BagOfWords(), cache=False, index_dir=tmp_path / "a")
    fresh.build()
    EmbeddingRetriever(PASSAGES, BagOfWords(), cache=tmp_path).build()
    cached = EmbeddingRetriever(PASSAGES, BagOfWords(), cache=tmp_path, index_dir=tmp_path / "b")
    cached.build()
    assert np.array_equal(np.load(tmp_path / "a/vectors.npy"), np.load(tmp_path / "b/vectors.npy"))


async def test_the_key_follows_model_endpoint_and_dimensions_never_the_key(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    async with StubServer() as srv:
        base = embedder_on(srv, dimensions=32)
        same = OpenAIEmbedder(
            "stub-embed", base_url=srv.base_url, api_key="sk-another-key", dimensions=32
        )
        others = [
            embedder_on(srv, "other-embed", dimensions=32),
            embedder_on(srv, dimensions=16),
            OpenAIEmbedder("stub-embed", base_url="http://127.0.0.1:9/v1", dimensions=32),
        ]
        keys = {
            ResponseCache.vector_key(e.fingerprint(), "harbour", query=False)
            for e in [base, *others]
        }
        assert len(keys) == 4
        assert ResponseCache.vector_key(
            base.fingerprint(), "harbour", query=False
        ) == ResponseCache.vector_key(same.fingerprint(), "harbour", query=False)
        # A query and a passage with the same text are different entries.
        assert ResponseCache.vector_key(
            base.fingerprint(), "harbour", query=True
        ) != ResponseCache.vector_key(base.fingerprint(), "harbour", query=False)
        await EmbeddingRetriever(PASSAGES, base, cache=cache).retrieve("bell")
    cache.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert STUB_KEY.encode() not in stored


def test_cached_vectors_of_another_size_are_a_clear_error(tmp_path: Path) -> None:
    # Same fingerprint, different sizes: a backend that changed its model under one name.
    EmbeddingRetriever(PASSAGES[:5], BagOfWords(size=64), cache=tmp_path).build()
    mixed = EmbeddingRetriever(PASSAGES, BagOfWords(size=32), cache=tmp_path)
    with pytest.raises(EmbeddingDimensionError, match="but 32 were expected"):
        mixed.build()


def test_a_bad_cache_option_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="cache=3 is not allowed"):
        EmbeddingRetriever(PASSAGES, LangChainEmbedder(BagOfWords()), cache=3)  # type: ignore[arg-type]


class FlakyBag(BagOfWords):
    """Fails on its third call when ``fail`` is set."""

    def __init__(self, fail: bool) -> None:
        super().__init__()
        self.fail = fail

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if self.fail and len(self.document_calls) == 2:
            self.document_calls.append(len(texts))
            raise RuntimeError("the endpoint went away")
        return super().embed_documents(texts)


def test_a_build_that_fails_half_way_keeps_the_batches_it_paid_for(tmp_path: Path) -> None:
    failing, resumed = FlakyBag(fail=True), FlakyBag(fail=False)
    with pytest.raises(PromptlabError, match="the endpoint went away"):
        EmbeddingRetriever(
            PASSAGES, LangChainEmbedder(failing, batch_size=4), cache=tmp_path
        ).build()
    EmbeddingRetriever(PASSAGES, LangChainEmbedder(resumed, batch_size=4), cache=tmp_path).build()
    assert failing.document_calls == [4, 4, 2] and resumed.document_calls == [2]
