"""Dense search over embedding vectors, exact, with NumPy: :class:`EmbeddingRetriever`."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import numpy as np

from promptlab.errors import EmbeddingDimensionError
from promptlab.retrieval._chunking import DEFAULT_CHUNK_SIZE, chunk_documents, resolve_chunking
from promptlab.retrieval._corpus import CorpusSource, load_corpus
from promptlab.retrieval._document import Document
from promptlab.retrieval._embedder import Embedder, normalised
from promptlab.retrieval._index_store import IndexDirectory, index_fingerprint
from promptlab.retrieval._langchain_embedder import LangChainEmbedder
from promptlab.retrieval._retriever import DEFAULT_K, Retriever
from promptlab.sync import run_sync

VECTORS_FILE = "vectors.npy"


class EmbeddingRetriever(Retriever):
    """Semantic search: the chunks whose embeddings are closest to the query's.

    Every chunk is embedded once, in batches, and the vectors are scaled to unit length,
    so a score is the cosine similarity (in [-1, 1]). The search is exact: one NumPy
    matrix product over all chunks, which takes milliseconds up to about a million
    vectors; beyond that, use a vector store through
    :class:`~promptlab.retrieval.LangChainRetriever`. Ties keep corpus order.

    The chunks are embedded on the first query, or when you call :meth:`build` (or
    ``await`` :meth:`abuild`). With ``index_dir`` the vectors are saved there and loaded
    next time, so a second build makes no embedding calls, unless the corpus, the
    chunking or the embedding backend changed (see ``loaded_from_disk``).

    Args:
        corpus: The documents to search (see :func:`~promptlab.retrieval.load_corpus`).
        embedder: An :class:`~promptlab.retrieval.Embedder` (:class:`OpenAIEmbedder`,
            :class:`LlamaCppEmbedder`, :class:`LangChainEmbedder`), or any LangChain
            ``Embeddings`` object, which is wrapped for you.
        k: Passages returned when a call does not say.
        chunk_size: Words per chunk; ``None`` embeds each document whole.
        chunk_overlap: Words shared by neighbouring chunks of one document; a tenth of
            ``chunk_size`` when None.
        index_dir: A directory to save the vectors to and load them from.
        text_field: The field holding the text in JSONL/CSV rows and dicts.
        id_field: The field holding the id in JSONL/CSV rows and dicts.

    Attributes:
        chunks: The indexed chunks, in index order.
        loaded_from_disk: True when the vectors came from ``index_dir`` unchanged.

    Example:
        >>> embedder = OpenAIEmbedder("nomic-embed", base_url="http://127.0.0.1:8080/v1")
        >>> retriever = EmbeddingRetriever("handbook/", embedder, index_dir=".index/handbook")
        >>> retriever.retrieve_sync("parental leave", k=3)[0].id
    """

    def __init__(
        self,
        corpus: CorpusSource,
        embedder: Embedder | Any,
        *,
        k: int = DEFAULT_K,
        chunk_size: int | None = DEFAULT_CHUNK_SIZE,
        chunk_overlap: int | None = None,
        index_dir: str | os.PathLike[str] | None = None,
        text_field: str = "text",
        id_field: str = "id",
    ) -> None:
        super().__init__(k=k)
        chunk_overlap = resolve_chunking(chunk_size, chunk_overlap)
        self.embedder = embedder if isinstance(embedder, Embedder) else LangChainEmbedder(embedder)
        self.settings: dict[str, Any] = {
            "chunk_size": chunk_size,
            "chunk_overlap": chunk_overlap,
            "embedder": self.embedder.fingerprint(),
        }
        documents = load_corpus(corpus, text_field=text_field, id_field=id_field)
        self.chunks = chunk_documents(documents, chunk_size, chunk_overlap)
        self.index_fingerprint = index_fingerprint(self.chunks, self.settings)
        self._store = IndexDirectory(index_dir) if index_dir is not None else None
        self._vectors: np.ndarray | None = None
        self._locks: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Lock]] = {}
        self.loaded_from_disk = False
        if self._store is not None and self._store.matches(self.index_fingerprint):
            vectors = np.load(self._store.path / VECTORS_FILE, allow_pickle=False)
            if vectors.shape[0] == len(self.chunks):  # else the directory is damaged: rebuild
                self._vectors = vectors
                self.loaded_from_disk = True

    @property
    def built(self) -> bool:
        """True once every chunk has its vector."""
        return self._vectors is not None

    async def abuild(self) -> None:
        """Embed every chunk now (once; later calls return at once)."""
        if self._vectors is not None:
            return
        async with self._lock():
            if self._vectors is not None:  # another task built it while this one waited
                return
            vectors = await self.embedder.embed_documents([chunk.text for chunk in self.chunks])
            self._vectors = normalised(vectors)
            if self._store is not None:
                self.save(self._store.path)

    def build(self) -> None:
        """Blocking :meth:`abuild`."""
        run_sync(self.abuild())

    def save(self, index_dir: str | os.PathLike[str]) -> None:
        """Save the vectors, the chunks and the manifest to ``index_dir`` (builds first)."""
        if self._vectors is None:
            self.build()
        vectors = self._built_vectors()
        store = IndexDirectory(index_dir)
        store.begin_save()
        np.save(store.path / VECTORS_FILE, vectors, allow_pickle=False)
        store.write_chunks(self.chunks)
        info = {
            "kind": "embedding",
            "settings": self.settings,
            "chunks": len(self.chunks),
            "dimensions": int(vectors.shape[1]),
        }
        store.commit(self.index_fingerprint, info)

    async def _retrieve(self, query: str, k: int) -> list[Document]:
        await self.abuild()
        vectors = self._built_vectors()
        query_vector = normalised(await self.embedder.embed_query(query))
        if query_vector.shape != (vectors.shape[1],):
            raise EmbeddingDimensionError(
                f"the query's vector has {query_vector.size} numbers but the index was built "
                f"with vectors of {vectors.shape[1]}. Use the same embedding model (and "
                "dimensions) for the corpus and the queries; delete index_dir if the model "
                "changed in a way its fingerprint cannot see.",
                embedder=self.embedder.name,
                expected=int(vectors.shape[1]),
                got=int(query_vector.size),
            )
        scores = vectors @ query_vector
        # A stable sort on the negated scores: the best first, ties in corpus order.
        best = np.argsort(-scores, kind="stable")[:k]
        return [self.chunks[int(i)].with_score(float(scores[i])) for i in best]

    def _built_vectors(self) -> np.ndarray:
        if self._vectors is None:  # callers build first; this keeps the type checker informed
            raise RuntimeError("EmbeddingRetriever: the index was not built")
        return self._vectors

    def _lock(self) -> asyncio.Lock:
        # An asyncio.Lock belongs to one event loop; sync calls may come from several.
        loop = asyncio.get_running_loop()
        entry = self._locks.get(id(loop))
        if entry is None or entry[0] is not loop:
            entry = (loop, asyncio.Lock())
            self._locks[id(loop)] = entry
        return entry[1]

    def fingerprint(self) -> dict[str, Any]:
        """The class, the index fingerprint (chunks, chunking, embedder) and the settings."""
        return {**super().fingerprint(), "index": self.index_fingerprint, **self.settings}

    def __repr__(self) -> str:
        return (
            f"EmbeddingRetriever(chunks={len(self.chunks)}, embedder={self.embedder!r}, k={self.k})"
        )
