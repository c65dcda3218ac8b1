"""Keyword search with BM25, on the ``bm25s`` package: :class:`BM25Retriever`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from promptlab.errors import ConfigurationError, DataError, MissingDependencyError
from promptlab.retrieval._chunking import DEFAULT_CHUNK_SIZE, chunk_documents, resolve_chunking
from promptlab.retrieval._corpus import CorpusSource, load_corpus
from promptlab.retrieval._document import Document
from promptlab.retrieval._index_store import IndexDirectory, index_fingerprint
from promptlab.retrieval._retriever import DEFAULT_K, Retriever

_METHODS = ("robertson", "lucene", "atire", "bm25l", "bm25+")


def _bm25s() -> Any:
    try:
        import bm25s
    except ImportError:
        raise MissingDependencyError("bm25s", "retrieval", "BM25Retriever") from None
    return bm25s


class BM25Retriever(Retriever):
    """BM25 keyword search over a corpus, the default retriever: no model, no network.

    Built on `bm25s <https://github.com/xhluca/bm25s>`_ (NumPy and SciPy only), as in
    LlamaIndex's and DSPy's tutorials. Text is lowercased and split into words of two or
    more letters or digits; English stop words are dropped by default. A chunk that shares
    no word with the query scores 0 and is never returned, so fewer than ``k`` passages
    can come back.

    The corpus is read with :func:`~promptlab.retrieval.load_corpus` (a ``.jsonl``/``.csv``
    file, a folder of ``.txt``/``.md`` files, or a list of strings, dicts or documents)
    and split with :func:`~promptlab.retrieval.chunk_documents` (sizes in words). With
    ``index_dir`` the index is saved there and, next time, loaded instead of rebuilt,
    unless the corpus or a setting changed (see ``loaded_from_disk``).

    Args:
        corpus: The documents to search.
        k: Passages returned when a call does not say.
        chunk_size: Words per chunk; ``None`` indexes each document whole.
        chunk_overlap: Words shared by neighbouring chunks of one document; a tenth of
            ``chunk_size`` when None.
        index_dir: A directory to save the index to and load it from.
        text_field: The field holding the text in JSONL/CSV rows and dicts.
        id_field: The field holding the id in JSONL/CSV rows and dicts.
        stopwords: ``"en"`` (default), another language code bm25s knows (``"de"``,
            ``"fr"``...), a list of words, or None to keep every word.
        k1: BM25 term-frequency saturation.
        b: BM25 length normalisation.
        method: The BM25 variant: ``"lucene"`` (default), ``"robertson"``, ``"atire"``,
            ``"bm25l"`` or ``"bm25+"``.

    Attributes:
        chunks: The indexed chunks, in index order.
        loaded_from_disk: True when the index came from ``index_dir`` unchanged.

    Example:
        >>> faq = BM25Retriever("faq.jsonl", chunk_size=150, index_dir=".index/faq")
        >>> for doc in faq.retrieve_sync("How do I return a parcel?", k=2):
        ...     print(doc.id, round(doc.score, 2), doc.text[:40])
    """

    def __init__(
        self,
        corpus: CorpusSource,
        *,
        k: int = DEFAULT_K,
        chunk_size: int | None = DEFAULT_CHUNK_SIZE,
        chunk_overlap: int | None = None,
        index_dir: str | os.PathLike[str] | None = None,
        text_field: str = "text",
        id_field: str = "id",
        stopwords: str | Sequence[str] | None = "en",
        k1: float = 1.5,
        b: float = 0.75,
        method: str = "lucene",
    ) -> None:
        super().__init__(k=k)
        chunk_overlap = resolve_chunking(chunk_size, chunk_overlap)
        if method not in _METHODS:
            raise ConfigurationError(
                f"method={method!r} is not allowed: use one of {', '.join(map(repr, _METHODS))}."
            )
        self.settings: dict[str, Any] = {
            "chunk_size": chunk_size,
            "chunk_overlap": chunk_overlap,
            "stopwords": stopwords
            if stopwords is None or isinstance(stopwords, str)
            else list(stopwords),
            "k1": k1,
            "b": b,
            "method": method,
        }
        documents = load_corpus(corpus, text_field=text_field, id_field=id_field)
        self.chunks = chunk_documents(documents, chunk_size, chunk_overlap)
        self.index_fingerprint = index_fingerprint(self.chunks, self.settings)
        self.loaded_from_disk = False
        store = IndexDirectory(index_dir) if index_dir is not None else None
        if store is not None and store.matches(self.index_fingerprint):
            self._bm25 = _bm25s().BM25.load(str(store.path), show_progress=False)
            self.loaded_from_disk = True
            return
        self._bm25 = self._build()
        if store is not None:
            self.save(store.path)

    @classmethod
    def load(cls, index_dir: str | os.PathLike[str], *, k: int = DEFAULT_K) -> BM25Retriever:
        """A retriever over an index saved earlier, without reading the corpus again.

        Raises:
            DataError: ``index_dir`` holds no complete BM25 index.
        """
        store = IndexDirectory(index_dir)
        manifest = store.manifest()
        if manifest is None or manifest.get("kind") != "bm25":
            raise DataError(
                "no complete BM25 index here. Build one with "
                "BM25Retriever(corpus, index_dir=...) first.",
                source=str(store.path),
            )
        self = cls.__new__(cls)
        Retriever.__init__(self, k=k)
        self.settings = dict(manifest["settings"])
        self.chunks = store.read_chunks()
        self.index_fingerprint = str(manifest["fingerprint"])
        self._bm25 = _bm25s().BM25.load(str(store.path), show_progress=False)
        self.loaded_from_disk = True
        return self

    def save(self, index_dir: str | os.PathLike[str]) -> None:
        """Save the index, its chunks and its manifest to ``index_dir``."""
        store = IndexDirectory(index_dir)
        store.begin_save()
        self._bm25.save(str(store.path), show_progress=False)
        store.write_chunks(self.chunks)
        store.commit(
            self.index_fingerprint,
            {"kind": "bm25", "settings": self.settings, "chunks": len(self.chunks)},
        )

    def _build(self) -> Any:
        bm25s = _bm25s()
        try:
            tokens = bm25s.tokenize(
                [chunk.text for chunk in self.chunks],
                stopwords=self._stopwords(),
                show_progress=False,
            )
        except ValueError as exc:  # bm25s's only ValueError here: an unknown stop-word language
            raise ConfigurationError(
                f"stopwords={self.settings['stopwords']!r} is not allowed ({exc}). Use a "
                "language code bm25s knows ('en', 'de', 'fr', ...), a list of words, or None."
            ) from exc
        settings = self.settings
        index = bm25s.BM25(k1=settings["k1"], b=settings["b"], method=settings["method"])
        index.index(tokens, show_progress=False)
        return index

    def _stopwords(self) -> Any:
        stopwords = self.settings["stopwords"]
        return [] if stopwords is None else stopwords

    async def _retrieve(self, query: str, k: int) -> list[Document]:
        # A few milliseconds of NumPy even for large corpora: not worth a thread hop.
        query_tokens = _bm25s().tokenize(
            [query], stopwords=self._stopwords(), return_ids=False, show_progress=False
        )
        k = min(k, len(self.chunks))
        indices, scores = self._bm25.retrieve(query_tokens, k=k, show_progress=False)
        return [
            self.chunks[int(index)].with_score(float(score))
            for index, score in zip(indices[0], scores[0], strict=True)
            if score > 0
        ]

    def fingerprint(self) -> dict[str, Any]:
        """The class, the index fingerprint (chunks and settings) and the settings."""
        return {**super().fingerprint(), "index": self.index_fingerprint, **self.settings}

    def __repr__(self) -> str:
        return f"BM25Retriever(chunks={len(self.chunks)}, k={self.k})"
