"""Dense search over embedding vectors, exact, with NumPy: :class:`EmbeddingRetriever`."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from promptlab.errors import ConfigurationError, EmbeddingDimensionError
from promptlab.providers.cache import ResponseCache
from promptlab.retrieval._chunking import DEFAULT_CHUNK_SIZE, chunk_documents, resolve_chunking
from promptlab.retrieval._corpus import CorpusSource, load_corpus
from promptlab.retrieval._document import Document
from promptlab.retrieval._embedder import Embedder, normalised
from promptlab.retrieval._index_store import IndexDirectory, index_fingerprint
from promptlab.retrieval._langchain_embedder import LangChainEmbedder
from promptlab.retrieval._retriever import DEFAULT_K, Retriever
from promptlab.retrieval._vector_cache import (
    CacheOption,
    check_cache_option,
    embed_cached,
    open_cache,
)
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
    ``await`` :meth:`abuild`). Every vector, of a passage or of a query, is kept in the
    response cache (the one experiments use, unless ``cache`` says otherwise), keyed by
    the embedder's fingerprint and the text, so a second build of the same corpus makes
    no embedding calls, and a changed corpus embeds only its new chunks. With
    ``index_dir`` the vectors are also saved there and loaded next time, without
    reading the cache, unless the corpus, the chunking or the embedding backend changed
    (see ``loaded_from_disk``).

    The cache key holds what the embedder's fingerprint holds: for a LangChain
    ``Embeddings`` that is its class and model name, so give
    :class:`~promptlab.retrieval.LangChainEmbedder` a ``name`` when two differently
    configured objects of one class would otherwise look the same.

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
        cache: Where vectors are cached: True (default) for the shared response cache
            (``$PROMPTLAB_CACHE_DIR/responses.sqlite``), False for no cache, a path, or a
            :class:`~promptlab.providers.cache.ResponseCache`.

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
        cache: CacheOption = True,
    ) -> None:
        super().__init__(k=k)
        chunk_overlap = resolve_chunking(chunk_size, chunk_overlap)
        self._cache_option = check_cache_option(cache)
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
            texts = [chunk.text for chunk in self.chunks]
            vectors = await embed_cached(self.embedder, texts, self._vector_cache())
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
        query_vector = normalised(
            (await embed_cached(self.embedder, [query], self._vector_cache(), query=True))[0]
        )
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

    async def vectors_of(self, ids: Sequence[str]) -> np.ndarray:
        """The unit-length vectors of the indexed chunks with these ids, in that order.

        Builds the index first. Maximal-marginal-relevance selection uses it to compare
        candidates with each other, without embedding them a second time.

        Raises:
            ConfigurationError: An id is not one of the indexed chunks.
        """
        await self.abuild()
        vectors = self._built_vectors()
        positions = {chunk.id: position for position, chunk in enumerate(self.chunks)}
        unknown = [chunk_id for chunk_id in ids if chunk_id not in positions]
        if unknown:
            raise ConfigurationError(
                f"no indexed chunk has the id {unknown[0]!r}; give ids of this retriever's "
                "chunks (Document.id of what it returned)."
            )
        return vectors[[positions[chunk_id] for chunk_id in ids]]

    def _vector_cache(self) -> ResponseCache | None:
        # Opened on first use: building a retriever object never touches the disk cache.
        if self._cache_option is not None and not isinstance(self._cache_option, ResponseCache):
            self._cache_option = open_cache(self._cache_option)
        return self._cache_option

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
