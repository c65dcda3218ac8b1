"""Splitting documents into overlapping chunks of words: :func:`chunk_documents`.

Sizes are counted in **words** (runs of non-whitespace), not model tokens, so a chunk's
size does not depend on the embedding model or the tokenizer; an English word is about
1.3 tokens. A document of at most ``chunk_size`` words stays whole and keeps its id.
A longer one becomes chunks of ``chunk_size`` words, each starting
``chunk_size - chunk_overlap`` words after the previous one (the overlap defaults to a
tenth of the size), with the ids
``"<id>#0"``, ``"<id>#1"``, ... . Every chunk's metadata has the original metadata plus
``source_id`` (the document's id) and ``chunk`` (its index), so a hit can always be
traced back to its document. A chunk's text is cut from the original text, so line
breaks and spacing inside it are kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from promptlab._checks import is_int
from promptlab.errors import ConfigurationError
from promptlab.retrieval._document import Document

#: Default chunk size, in words; the default overlap is a tenth of the size.
DEFAULT_CHUNK_SIZE = 200

_WORD = re.compile(r"\S+")


def resolve_chunking(chunk_size: int | None, chunk_overlap: int | None) -> int:
    """The overlap to use (a tenth of ``chunk_size`` when None), after checking both.

    ``chunk_size=None`` turns chunking off; the overlap is then 0.

    Raises:
        ConfigurationError: ``chunk_size < 1``, or the overlap is not in ``[0, chunk_size)``.
    """
    if chunk_size is None:
        return 0
    if not is_int(chunk_size) or chunk_size < 1:
        raise ConfigurationError(
            f"chunk_size={chunk_size!r} is not allowed: give the chunk length in words, an "
            "integer >= 1, or None to index each document whole."
        )
    if chunk_overlap is None:
        return chunk_size // 10
    if not is_int(chunk_overlap) or not 0 <= chunk_overlap < chunk_size:
        raise ConfigurationError(
            f"chunk_overlap={chunk_overlap!r} is not allowed with chunk_size={chunk_size}: "
            f"give the words shared by neighbouring chunks, an integer from 0 to "
            f"{chunk_size - 1} (or None for a tenth of the size)."
        )
    return chunk_overlap


def chunk_documents(
    documents: Iterable[Document],
    chunk_size: int | None = DEFAULT_CHUNK_SIZE,
    chunk_overlap: int | None = None,
) -> list[Document]:
    """Split each document into chunks of at most ``chunk_size`` words.

    Args:
        documents: The documents, e.g. from :func:`~promptlab.retrieval.load_corpus`.
        chunk_size: Words per chunk; ``None`` keeps every document whole.
        chunk_overlap: Words that neighbouring chunks of one document share; a tenth of
            ``chunk_size`` when None.

    Returns:
        The chunks, in document order (see the module docstring for ids and metadata).

    Raises:
        ConfigurationError: ``chunk_size`` or ``chunk_overlap`` is out of range.

    Example:
        >>> doc = Document("a", "one two three four five")
        >>> [(c.id, c.text) for c in chunk_documents([doc], chunk_size=3, chunk_overlap=1)]
        [('a#0', 'one two three'), ('a#1', 'three four five')]
    """
    overlap = resolve_chunking(chunk_size, chunk_overlap)
    chunks: list[Document] = []
    for doc in documents:
        spans = [m.span() for m in _WORD.finditer(doc.text)]
        if chunk_size is None or len(spans) <= chunk_size:
            chunks.append(_chunk(doc, doc.id, doc.text, 0))
            continue
        step = chunk_size - overlap
        for index, start in enumerate(range(0, len(spans), step)):
            end = min(start + chunk_size, len(spans))
            text = doc.text[spans[start][0] : spans[end - 1][1]]
            chunks.append(_chunk(doc, f"{doc.id}#{index}", text, index))
            if end == len(spans):
                break
    return chunks


def _chunk(doc: Document, chunk_id: str, text: str, index: int) -> Document:
    metadata = {**doc.metadata, "source_id": doc.id, "chunk": index}
    return Document(chunk_id, text, metadata)
