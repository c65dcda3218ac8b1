"""Vector search in an Activeloop Deep Lake dataset: :class:`DeepLakeRetriever`."""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from promptlab._checks import is_int
from promptlab.errors import ConfigurationError, EmbeddingDimensionError
from promptlab.providers.cache import ResponseCache
from promptlab.retrieval._chunking import DEFAULT_CHUNK_SIZE, chunk_documents, resolve_chunking
from promptlab.retrieval._corpus import CorpusSource, load_corpus
from promptlab.retrieval._deeplake_access import (
    Secrets,
    check_credentials,
    dataset_location,
    tql_filter,
    tql_identifier,
    tql_value,
    tql_vector,
    translated,
)
from promptlab.retrieval._deeplake_build import (
    COLUMNS,
    BuildReport,
    build_dataset,
    read_manifest,
)
from promptlab.retrieval._deeplake_dataset import SearchColumns, open_for_search
from promptlab.retrieval._document import Document
from promptlab.retrieval._embedder import Embedder, normalised
from promptlab.retrieval._index_store import index_fingerprint
from promptlab.retrieval._langchain_embedder import LangChainEmbedder
from promptlab.retrieval._retriever import DEFAULT_K, Retriever
from promptlab.retrieval._vector_cache import (
    CacheOption,
    check_cache_option,
    embed_cached,
    open_cache,
)
from promptlab.sync import run_sync

#: Rows written (embedded, appended, committed) per batch when building.
DEFAULT_WRITE_BATCH = 1000
_SCORE = "promptlab_score"
#: The metric Activeloop's managed service evaluates for Deep Memory (as deeplake 3.x named it).
DEEP_MEMORY_METRIC = "DEEPMEMORY_DISTANCE"


class DeepLakeRetriever(Retriever):
    """Vector search in an `Activeloop Deep Lake <https://github.com/activeloopai/deeplake>`_
    dataset, by Deep Lake's own query engine (TQL), embedded or on cloud storage.

    ``DeepLakeRetriever(path, embedder)`` opens a dataset that exists, naming its text, id,
    embedding and (optional) metadata columns; :meth:`from_corpus` builds one from a corpus
    first (resumable; see there). A query is embedded (through the response cache, like
    :class:`~promptlab.retrieval.EmbeddingRetriever`'s) and Deep Lake ranks the rows by
    ``COSINE_SIMILARITY`` in one TQL query with ``ORDER BY ... LIMIT k``: vectors stay in
    the dataset, never loaded into Python. The search is exact unless the embedding
    column has a built vector index (Deep Lake's clustered index, approximate), which
    promptlab builds only when asked (``from_corpus(..., vector_index=True)``). A
    document's ``score`` is the cosine similarity.

    ``path`` is a folder (``./store``, embedded: no server) or a URL: ``s3://``,
    ``gcs://``, ``azure://``, ``al://org/dataset`` (Activeloop), ``mem://`` (in memory).
    Credentials go in ``creds`` (a dict, as ``deeplake.open`` takes) and ``token`` (an
    Activeloop token), or in the cloud's usual environment variables; a cloud URL without
    any is a :class:`~promptlab.errors.MissingCredentialsError` before any network call.
    Credentials never appear in the fingerprint, the repr or an error message.

    The fingerprint (which :class:`~promptlab.strategies.RAG` puts in its description, and
    so in an experiment's definition; the response-cache key holds the ids and scores
    retrieved) holds the location, the dataset's id and version (its commit id), the row
    count, the columns, the filter, whether promptlab built a vector index, and the
    embedder's fingerprint: a new commit is a new index.

    Args:
        path: The dataset's folder or URL.
        embedder: Embeds queries: the model the dataset's vectors came from. Any
            :class:`~promptlab.retrieval.Embedder`, or a LangChain ``Embeddings``.
        k: Passages returned when a call does not say.
        text_column: The column holding each passage's text.
        id_column: The column holding each passage's id (text or integers).
        embedding_column: The column holding the vectors (an embedding or float array).
        metadata_column: A dict column returned as each document's metadata, and searched
            by ``filter``; used only when the dataset has it. None for none.
        filter: Only rows matching every ``{key: value}`` are searched. A key naming a
            column compares that column, any other key that key of the metadata column; a
            list value matches any of its items. Also :meth:`with_filter`.
        creds: Cloud storage credentials (``{"aws_access_key_id": ...}``...), or ``"ENV"``
            to let Deep Lake find them itself (e.g. an instance role).
        token: An Activeloop token, for ``al://`` datasets.
        deep_memory: Rank with Activeloop's Deep Memory (a trained query transformation
            on Activeloop's managed service; ``al://`` datasets only) instead of plain
            cosine similarity. Opt-in; see the README.
        cache: Where query vectors are cached (as for ``EmbeddingRetriever``): True for the
            shared response cache, False for none, a path, or a ``ResponseCache``.

    Raises:
        CorpusNotFoundError: No dataset at ``path``.
        DataError: A named column is missing or of the wrong kind, or the dataset is empty.
        EmbeddingDimensionError: ``embedder.dimensions`` differs from the dataset's vectors
            (otherwise checked on the first query).
        MissingCredentialsError: A cloud URL with no credentials.
        MissingDependencyError: ``deeplake`` is not installed (``promptlab[deeplake]``).

    Example:
        >>> embedder = OpenAIEmbedder("nomic-embed", base_url="http://127.0.0.1:8080/v1")
        >>> docs = DeepLakeRetriever.from_corpus("handbook/", "./handbook.deeplake", embedder)
        >>> docs.retrieve_sync("parental leave", k=3)[0].id
        >>> s3 = DeepLakeRetriever("s3://corp-kb/handbook", embedder, text_column="body")
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        embedder: Embedder | Any,
        *,
        k: int = DEFAULT_K,
        text_column: str = COLUMNS["text"],
        id_column: str = COLUMNS["id"],
        embedding_column: str = COLUMNS["embedding"],
        metadata_column: str | None = COLUMNS["metadata"],
        filter: Mapping[str, Any] | None = None,
        creds: Mapping[str, Any] | str | None = None,
        token: str | None = None,
        deep_memory: bool = False,
        cache: CacheOption = True,
    ) -> None:
        super().__init__(k=k)
        self.location = dataset_location(path)
        self._secrets = Secrets(creds, token)
        check_credentials(self.location, creds, token)
        if not isinstance(deep_memory, bool):
            raise ConfigurationError(f"deep_memory={deep_memory!r} is not allowed: give a bool.")
        if deep_memory and self.location.kind != "activeloop":
            raise ConfigurationError(
                f"deep_memory=True needs a dataset on Activeloop's managed service (an "
                f"al://org/dataset URL) with a trained Deep Memory model, not "
                f"{self.location.shown}. Leave deep_memory off for cosine similarity."
            )
        self.deep_memory = deep_memory
        self.embedder = embedder if isinstance(embedder, Embedder) else LangChainEmbedder(embedder)
        self._cache_option = check_cache_option(cache)
        opened = open_for_search(
            self.location,
            self._secrets,
            SearchColumns(text_column, id_column, embedding_column, metadata_column),
        )
        self.dataset = opened.dataset
        self.columns = list(opened.columns)
        self.text_column, self.id_column = opened.search.text, opened.search.id
        self.embedding_column = opened.search.embedding
        self.metadata_column = opened.search.metadata
        self.dimensions = opened.dimensions
        manifest = read_manifest(self.dataset)
        #: Whether promptlab built a vector index (approximate search); None: not built
        #: by promptlab, so unknown.
        self.vector_index = bool(manifest.get("vector_index")) if manifest else None
        if self.embedder.vector_size is not None:
            self._check_query_size(self.embedder.vector_size)
        self.filter: dict[str, Any] = {}
        self._where = ""
        self._set_filter(filter)

    @classmethod
    def from_corpus(
        cls,
        corpus: CorpusSource,
        path: str | os.PathLike[str],
        embedder: Embedder | Any,
        *,
        k: int = DEFAULT_K,
        chunk_size: int | None = DEFAULT_CHUNK_SIZE,
        chunk_overlap: int | None = None,
        text_field: str = "text",
        id_field: str = "id",
        batch_size: int = DEFAULT_WRITE_BATCH,
        progress: bool = True,
        overwrite: bool = False,
        vector_index: bool = False,
        creds: Mapping[str, Any] | str | None = None,
        token: str | None = None,
        cache: CacheOption = True,
    ) -> DeepLakeRetriever:
        """Build a dataset at ``path`` from a corpus, or finish or reuse one, and open it.

        The corpus is read and chunked as for ``EmbeddingRetriever``; each batch of
        ``batch_size`` chunks is embedded, appended and committed (with a progress bar on a
        terminal), so an interrupted build resumes where it stopped, with no row written
        twice. A finished dataset built from the same chunks and settings is opened as it
        is, with no embedding call; one built from another corpus or other settings is an
        error unless ``overwrite=True``. Passage vectors are not put in the response
        cache: the dataset is where they are kept. ``retriever.build_report`` says what
        this call did. It blocks until the build ends, in scripts, notebooks and async
        code alike (through :func:`promptlab.run_sync`).

        Args:
            corpus: The documents (see :func:`~promptlab.retrieval.load_corpus`).
            path: Where to build (a folder, or any URL ``DeepLakeRetriever`` opens).
            embedder: Embeds passages and queries.
            k: Passages returned when a call does not say.
            chunk_size: Words per chunk; ``None`` keeps documents whole.
            chunk_overlap: Words shared by neighbouring chunks; a tenth of the size by default.
            text_field: The field holding the text in JSONL/CSV rows and dicts.
            id_field: The field holding the id in JSONL/CSV rows and dicts.
            batch_size: Rows embedded and committed together.
            progress: Show a progress bar (on a terminal or in a notebook).
            overwrite: Delete a dataset at ``path`` that was built otherwise (or not by
                promptlab) and build again.
            vector_index: Build Deep Lake's clustered vector index after the rows are
                written (also on a finished dataset without one). Queries on large
                corpora get much faster, but the search becomes approximate (see the
                README for measured recall); off by default, so searches are exact.
            creds: Cloud storage credentials (see the class).
            token: An Activeloop token.
            cache: Where query vectors are cached (see the class).

        Raises:
            ConfigurationError: A dataset built otherwise is at ``path`` and ``overwrite``
                is False.
            DataError: The stored rows are not a prefix of the corpus (cannot resume).
        """
        chunk_overlap = resolve_chunking(chunk_size, chunk_overlap)
        if not is_int(batch_size) or batch_size < 1:
            raise ConfigurationError(
                f"batch_size={batch_size!r} is not allowed: give the rows written per commit, "
                "an integer >= 1."
            )
        location = dataset_location(path)
        check_credentials(location, creds, token)
        wrapped = embedder if isinstance(embedder, Embedder) else LangChainEmbedder(embedder)
        settings = {
            "chunk_size": chunk_size,
            "chunk_overlap": chunk_overlap,
            "embedder": wrapped.fingerprint(),
        }
        documents = load_corpus(corpus, text_field=text_field, id_field=id_field)
        chunks = chunk_documents(documents, chunk_size, chunk_overlap)
        report = run_sync(
            build_dataset(
                location,
                Secrets(creds, token),
                chunks,
                wrapped,
                fingerprint=index_fingerprint(chunks, settings),
                settings=settings,
                batch_size=batch_size,
                progress=progress,
                overwrite=overwrite,
                vector_index=vector_index,
            )
        )
        retriever = cls(location.url, wrapped, k=k, creds=creds, token=token, cache=cache)
        retriever.build_report = report
        return retriever

    #: What :meth:`from_corpus` did; None for a retriever opened directly.
    build_report: BuildReport | None = None

    def with_filter(self, filter: Mapping[str, Any] | None) -> DeepLakeRetriever:
        """A retriever over the same open dataset that searches only rows matching ``filter``.

        Example:
            >>> english = retriever.with_filter({"lang": "en", "year": [2024, 2025]})
        """
        other = copy.copy(self)
        other._set_filter(filter)
        return other

    @property
    def rows(self) -> int:
        """Rows in the dataset (passages that can be returned)."""
        return len(self.dataset)

    async def _retrieve(self, query: str, k: int) -> list[Document]:
        vector = normalised(
            (await embed_cached(self.embedder, [query], self._vector_cache(), query=True))[0]
        )
        self._check_query_size(int(vector.size))
        view = await self._query(self._search_tql(vector, k), "searching")
        if len(view) == 0:
            return []
        ids = view[self.id_column][:]
        texts = view[self.text_column][:]
        scores = view[_SCORE][:]
        metadata = view[self.metadata_column][:] if self.metadata_column else [None] * len(ids)
        return [
            Document(str(doc_id), str(text), _plain(meta), float(score))
            for doc_id, text, meta, score in zip(ids, texts, metadata, scores, strict=True)
        ]

    def _search_tql(self, vector: np.ndarray, k: int) -> str:
        metric = DEEP_MEMORY_METRIC if self.deep_memory else "COSINE_SIMILARITY"
        similarity = f"{metric}({tql_identifier(self.embedding_column)}, {tql_vector(vector)})"
        shown = [self.id_column, self.text_column] + (
            [self.metadata_column] if self.metadata_column else []
        )
        select = ", ".join(tql_identifier(name) for name in shown)
        where = f" WHERE {self._where}" if self._where else ""
        return (
            f"SELECT {select}, {similarity} AS {_SCORE}{where} "
            f"ORDER BY {similarity} DESC LIMIT {int(k)}"
        )

    async def vectors_of(self, ids: Sequence[str]) -> np.ndarray:
        """The stored vectors of the rows with these ids, unit length, in that order.

        Raises:
            ConfigurationError: An id is not in the dataset.
        """
        if not ids:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        wanted = ", ".join(tql_value(str(i), self.id_column) for i in dict.fromkeys(ids))
        view = await self._query(
            f"SELECT {tql_identifier(self.id_column)}, {tql_identifier(self.embedding_column)} "
            f"WHERE {tql_identifier(self.id_column)} IN ({wanted})",
            "reading vectors",
        )
        found = {
            str(doc_id): np.asarray(vector, dtype=np.float32)
            for doc_id, vector in zip(
                view[self.id_column][:], view[self.embedding_column][:], strict=True
            )
        }
        unknown = [doc_id for doc_id in ids if str(doc_id) not in found]
        if unknown:
            raise ConfigurationError(
                f"no row of {self.location.shown} has the id {unknown[0]!r}; give ids of "
                "documents this retriever returned."
            )
        return normalised(np.stack([found[str(doc_id)] for doc_id in ids]))

    def fingerprint(self) -> dict[str, Any]:
        """Location, dataset id and version (commit), columns, filter, embedder; no secrets."""
        return {
            **super().fingerprint(),
            "location": self.location.shown,
            "dataset_id": str(self.dataset.id),
            "version": str(self.dataset.version),
            "rows": len(self.dataset),
            "columns": {
                "text": self.text_column,
                "id": self.id_column,
                "embedding": self.embedding_column,
                "metadata": self.metadata_column,
            },
            "filter": self.filter,
            "vector_index": self.vector_index,
            "deep_memory": self.deep_memory,
            "embedder": self.embedder.fingerprint(),
        }

    def __repr__(self) -> str:
        return f"DeepLakeRetriever({self.location.shown!r}, rows={len(self.dataset)}, k={self.k})"

    def _check_query_size(self, size: int) -> None:
        if size != self.dimensions:
            raise EmbeddingDimensionError(
                f"the query's vector has {size} numbers but the dataset {self.location.shown} "
                f"stores vectors of {self.dimensions} (column {self.embedding_column!r}). Use "
                "the embedding model (and dimensions) the dataset was built with.",
                embedder=self.embedder.name,
                expected=self.dimensions,
                got=size,
            )

    def _set_filter(self, conditions: Mapping[str, Any] | None) -> None:
        if conditions is not None and not isinstance(conditions, Mapping):
            raise ConfigurationError(
                f"filter={conditions!r} is not allowed: give a dict of {{field: value}}."
            )
        self.filter = dict(conditions or {})
        self._where = tql_filter(self.filter, self.columns, self.metadata_column)

    async def _query(self, tql: str, doing: str) -> Any:
        with translated(self.location, self._secrets, doing):
            try:
                return await self.dataset.query_async(tql)
            except RuntimeError as exc:
                if self.deep_memory and DEEP_MEMORY_METRIC in str(exc).upper():
                    raise deep_memory_unavailable(self.location.shown, exc) from exc
                raise

    def _vector_cache(self) -> ResponseCache | None:
        if self._cache_option is not None and not isinstance(self._cache_option, ResponseCache):
            self._cache_option = open_cache(self._cache_option)
        return self._cache_option


def deep_memory_unavailable(shown: str, exc: BaseException) -> ConfigurationError:
    """The error for a Deep Memory search that the dataset's query engine cannot run."""
    return ConfigurationError(
        f"{shown}: Deep Memory is not available for this dataset ({exc}). It needs the "
        "dataset on Activeloop's managed service, a Deep Memory model trained on it, and "
        "a plan that includes Deep Memory. Leave deep_memory off to search by cosine "
        "similarity."
    )


def _plain(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    to_dict = getattr(value, "to_dict", None)
    if to_dict is not None:
        return dict(to_dict(convert_numpy_to_list=True))
    return dict(value) if isinstance(value, Mapping) else {}
