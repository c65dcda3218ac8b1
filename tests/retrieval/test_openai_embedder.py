"""OpenAIEmbedder against the stub server's /v1/embeddings, through the real openai SDK."""

from __future__ import annotations

import json

import pytest

from promptlab.errors import AuthenticationError, EmbeddingDimensionError, MissingAPIKeyError
from promptlab.retrieval import EmbeddingRetriever, OpenAIEmbedder
from promptlab.testing.stub_server import StubServer
from tests.providers.stub_setup import FAST_RETRY, STUB_KEY
from tests.retrieval.town_corpus import PASSAGES


def embedder_on(srv: StubServer, model: str = "stub-embed", **options: object) -> OpenAIEmbedder:
    return OpenAIEmbedder(
        model, base_url=srv.base_url, api_key=STUB_KEY, retry=FAST_RETRY, **options
    )


async def test_retrieval_over_the_endpoint_finds_the_passage() -> None:
    async with StubServer() as srv:
        retriever = EmbeddingRetriever(PASSAGES, embedder_on(srv, dimensions=2048))
        lighthouse = await retriever.retrieve(PASSAGES[4]["text"], k=2)
        assert lighthouse[0].id == "lighthouse"
        assert lighthouse[0].score == pytest.approx(1.0, abs=1e-6)
        assert (await retriever.retrieve("Varnholm Rovers stadium supporters", k=1))[0].id == (
            "football"
        )


async def test_passages_go_in_batches_with_the_model_and_dimensions() -> None:
    async with StubServer() as srv:
        retriever = EmbeddingRetriever(PASSAGES, embedder_on(srv, dimensions=64, batch_size=4))
        await retriever.retrieve("bakery")
        await retriever.retrieve("museum")
        bodies = [r.body for r in srv.stats.requests]
    assert [len(b["input"]) for b in bodies] == [4, 4, 2, 1, 1]  # then one call per query
    assert {(b["model"], b["dimensions"], b["encoding_format"]) for b in bodies} == {
        ("stub-embed", 64, "float")
    }
    assert bodies[0]["input"][0] == PASSAGES[0]["text"]


async def test_the_api_key_is_sent_but_never_shown() -> None:
    async with StubServer() as srv:
        embedder = embedder_on(srv)
        await embedder.embed_query("hello")
        assert srv.stats.requests[-1].had_api_key
    shown = repr(embedder) + json.dumps(embedder.fingerprint()) + str(vars(embedder))
    assert STUB_KEY not in shown


async def test_a_server_ignoring_dimensions_is_a_clear_error() -> None:
    async with StubServer() as srv:
        embedder = embedder_on(srv, "embed-ignores-dimensions", dimensions=16)
        with pytest.raises(EmbeddingDimensionError, match="32 numbers, but 16 were expected"):
            await embedder.embed_documents(["one", "two"])


async def test_vectors_of_mixed_sizes_are_a_clear_error() -> None:
    async with StubServer() as srv:
        retriever = EmbeddingRetriever(PASSAGES, embedder_on(srv, "ragged-embeddings"))
        with pytest.raises(EmbeddingDimensionError, match="text 1 came back as a vector of 31"):
            await retriever.abuild()


async def test_endpoint_errors_become_promptlab_errors_without_retrying() -> None:
    async with StubServer() as srv:
        with pytest.raises(AuthenticationError, match="HTTP 401"):
            await embedder_on(srv, "auth-error").embed_query("hello")
        assert srv.stats.total_requests == 1


def test_the_official_api_needs_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(MissingAPIKeyError, match="OPENAI_API_KEY"):
        OpenAIEmbedder("text-embedding-3-small")
