"""LangChainRetriever: a LangChain vector store and a custom BaseRetriever as promptlab
retrievers."""

from __future__ import annotations

import hashlib

import pytest
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from langchain_core.vectorstores import InMemoryVectorStore

from promptlab.errors import ConfigurationError, EmptyQueryError, ProviderError
from promptlab.retrieval import LangChainRetriever
from tests.retrieval.fakes import BagOfWords
from tests.retrieval.town_corpus import PASSAGES, QUERIES


@pytest.fixture(scope="module")
def store() -> InMemoryVectorStore:
    return InMemoryVectorStore.from_texts(
        [p["text"] for p in PASSAGES],
        BagOfWords(),
        metadatas=[{"title": p["title"]} for p in PASSAGES],
        ids=[p["id"] for p in PASSAGES],
    )


@pytest.mark.parametrize(("query", "answer_id"), QUERIES[:4])
def test_a_vector_store_finds_the_right_passage(
    store: InMemoryVectorStore, query: str, answer_id: str
) -> None:
    retriever = LangChainRetriever(store.as_retriever())
    assert [d.id for d in retriever.retrieve_sync(query, k=1)] == [answer_id]


async def test_k_reaches_the_vector_store_and_documents_are_mapped(
    store: InMemoryVectorStore,
) -> None:
    retriever = LangChainRetriever(store.as_retriever(search_kwargs={"k": 1}))
    docs = await retriever.retrieve("brass bell harbour master", k=3)
    assert len(docs) == 3  # k=3 overrode the retriever's own k=1
    assert docs[0].id == "harbour"
    assert docs[0].text == PASSAGES[0]["text"]
    assert docs[0].metadata["title"] == "The harbour"
    assert docs[0].score is None  # vector-store retrievers report no score


class Scored(BaseRetriever):
    """Returns fixed documents without ids, with scores in their metadata."""

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[LCDocument]:
        if query == "explode":
            raise ValueError("index offline")
        return [
            LCDocument("first passage", metadata={"relevance_score": 0.9}),
            LCDocument("second passage", metadata={"score": 0.4, "id": "given"}),
            LCDocument("third passage"),
        ]


def test_ids_and_scores_come_from_the_documents_or_their_text() -> None:
    docs = LangChainRetriever(Scored()).retrieve_sync("anything", k=2)
    digest = hashlib.sha256(b"first passage").hexdigest()[:16]
    assert [(d.id, d.score) for d in docs] == [(f"sha256:{digest}", 0.9), ("given", 0.4)]


def test_errors_are_translated_and_queries_checked() -> None:
    retriever = LangChainRetriever(Scored(), name="my-index")
    with pytest.raises(ProviderError, match="my-index: ValueError: index offline"):
        retriever.retrieve_sync("explode")
    with pytest.raises(EmptyQueryError):
        retriever.retrieve_sync("")
    with pytest.raises(ConfigurationError, match="is not a LangChain retriever"):
        LangChainRetriever(object())
