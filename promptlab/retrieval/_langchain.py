"""Any LangChain retriever as a promptlab retriever: :class:`LangChainRetriever`."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from promptlab._checks import is_number
from promptlab.errors import ConfigurationError, PromptlabError
from promptlab.providers.error_mapping import translate_error
from promptlab.retrieval._document import Document
from promptlab.retrieval._retriever import DEFAULT_K, Retriever

#: Metadata keys where LangChain integrations put a relevance score, in order of preference.
SCORE_KEYS = ("relevance_score", "score", "similarity_score", "_score")


class LangChainRetriever(Retriever):
    """Wraps a LangChain ``BaseRetriever``, so every LangChain vector store and retriever
    (``vectorstore.as_retriever()``, ``BM25Retriever``, ``EnsembleRetriever``...) works
    wherever promptlab takes a retriever.

    A query goes to ``ainvoke(query, k=k)``: retrievers that take search arguments
    (vector-store retrievers do) return ``k`` documents; others return their own number,
    cut to ``k``. Each LangChain ``Document`` becomes a promptlab
    :class:`~promptlab.retrieval.Document`:

    - ``id``: the document's ``id``, else its metadata ``"id"``, else ``"sha256:"`` and
      the first 16 hex digits of the SHA-256 of its text (stable across runs);
    - ``text``: ``page_content``; ``metadata``: a copy of ``metadata``;
    - ``score``: the first of the metadata keys ``relevance_score``, ``score``,
      ``similarity_score``, ``_score`` that holds a number, else None (most
      vector-store retrievers do not return scores).

    Errors from the retriever are translated like the LangChain provider's.

    Args:
        retriever: The LangChain retriever.
        k: Passages returned when a call does not say.
        name: Identifies it in fingerprints; by default its class name.

    Example:
        >>> from langchain_core.vectorstores import InMemoryVectorStore
        >>> store = InMemoryVectorStore.from_texts(texts, embeddings)
        >>> retriever = LangChainRetriever(store.as_retriever())
    """

    def __init__(self, retriever: Any, *, k: int = DEFAULT_K, name: str | None = None) -> None:
        super().__init__(k=k)
        if not hasattr(retriever, "ainvoke"):
            raise ConfigurationError(
                f"retriever={type(retriever).__name__} is not a LangChain retriever: it needs "
                "ainvoke(query). Pass a BaseRetriever, e.g. vectorstore.as_retriever()."
            )
        self.retriever = retriever
        self.name = name or f"langchain:{type(retriever).__name__}"

    async def _retrieve(self, query: str, k: int) -> list[Document]:
        try:
            found = await self.retriever.ainvoke(query, k=k)
        except PromptlabError:
            raise
        except Exception as exc:
            raise translate_error(exc, provider=self.name) from exc
        return [_document(item) for item in list(found)[:k]]

    def fingerprint(self) -> dict[str, Any]:
        """The adapter's class and ``name`` (a LangChain retriever cannot describe its index)."""
        return {**super().fingerprint(), "name": self.name}

    def __repr__(self) -> str:
        return f"LangChainRetriever({self.name!r}, k={self.k})"


def _document(item: Any) -> Document:
    text = str(getattr(item, "page_content", ""))
    raw_metadata = getattr(item, "metadata", None)
    metadata = dict(raw_metadata) if isinstance(raw_metadata, Mapping) else {}
    doc_id = getattr(item, "id", None) or metadata.get("id")
    if not doc_id:
        doc_id = "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return Document(str(doc_id), text, metadata, _score(metadata))


def _score(metadata: Mapping[str, Any]) -> float | None:
    for key in SCORE_KEYS:
        value = metadata.get(key)
        if is_number(value):
            return float(value)
    return None
