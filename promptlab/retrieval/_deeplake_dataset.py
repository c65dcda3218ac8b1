"""Opening a Deep Lake dataset for search and checking that it can serve one.

:func:`open_for_search` opens a dataset read-only and checks the columns a retriever
names: that each exists and holds the right kind of data (text for the text, text or
integers for the ids, an embedding or float array for the vectors, a dict for metadata),
and finds the size of its vectors, from the column's type or else from its first row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from promptlab.errors import CorpusNotFoundError, DataError
from promptlab.retrieval._deeplake_access import (
    DatasetLocation,
    Secrets,
    deeplake_module,
    translated,
)
from promptlab.retrieval._deeplake_build import COLUMNS

#: The kinds of Deep Lake column (``TypeKind`` names) each role accepts.
_KINDS = {
    "text": ("Text",),
    "id": ("Text", "Generic", "Serial"),
    "embedding": ("Embedding", "Generic"),
    "metadata": ("Dict",),
}


@dataclass(frozen=True)
class SearchColumns:
    """The columns a retriever reads, checked; ``metadata`` is None when there is none."""

    text: str
    id: str
    embedding: str
    metadata: str | None


@dataclass(frozen=True)
class OpenedDataset:
    """A dataset open for search.

    Attributes:
        dataset: The read-only ``deeplake`` dataset.
        columns: Every column name it has, in schema order.
        search: The columns the retriever reads.
        dimensions: The size of its vectors.
    """

    dataset: Any
    columns: tuple[str, ...]
    search: SearchColumns
    dimensions: int


def open_for_search(
    location: DatasetLocation, secrets: Secrets, wanted: SearchColumns
) -> OpenedDataset:
    """Open the dataset at ``location`` read-only and check ``wanted`` against it.

    A ``metadata`` column of the default name that the dataset lacks is dropped (no
    metadata); any other missing column is an error.

    Raises:
        CorpusNotFoundError: No dataset there.
        DataError: A column is missing or of the wrong kind, or the vector size cannot be
            told (an empty dataset whose column type has no size).
    """
    deeplake = deeplake_module()
    with translated(location, secrets, "opening the dataset"):
        exists = deeplake.exists(location.url, **secrets.kwargs())
        dataset = deeplake.open_read_only(location.url, **secrets.kwargs()) if exists else None
    if dataset is None:
        raise CorpusNotFoundError(
            "no Deep Lake dataset here. Check the path or URL, or build one with "
            "DeepLakeRetriever.from_corpus(corpus, path, embedder).",
            source=location.shown,
        )
    columns = tuple(column.name for column in dataset.schema.columns)
    metadata = wanted.metadata
    if metadata == COLUMNS["metadata"] and metadata not in columns:
        metadata = None  # the default name, absent: no metadata
    search = SearchColumns(wanted.text, wanted.id, wanted.embedding, metadata)
    for role in ("text", "id", "embedding", "metadata"):
        name = getattr(search, role)
        if name is not None:
            _check_column(dataset, columns, location, role, name)
    size = _vector_size(dataset, location, secrets, search.embedding)
    return OpenedDataset(dataset, columns, search, size)


def _check_column(
    dataset: Any, columns: tuple[str, ...], location: DatasetLocation, role: str, name: str
) -> None:
    argument = f"{role}_column"
    if name not in columns:
        raise DataError(
            f"the dataset has no column {name!r} (its columns: {', '.join(columns)}). Name "
            f"the right one with {argument}=...",
            source=location.shown,
            field=name,
        )
    dtype = dataset.schema[name].dtype
    if dtype.kind.name not in _KINDS[role]:
        raise DataError(
            f"column {name!r} holds {dtype}, which cannot be the {role} column. Name another "
            f"with {argument}=...",
            source=location.shown,
            field=name,
        )


def _vector_size(dataset: Any, location: DatasetLocation, secrets: Secrets, column: str) -> int:
    shape = list(dataset.schema[column].dtype.shape or [])
    if len(shape) == 1 and 0 < shape[0] < 2**31:  # an unsized column reports 0 or 2**64 - 1
        return int(shape[0])
    if len(dataset) == 0:
        raise DataError(
            "the dataset is empty: there is nothing to search. Build it with "
            "DeepLakeRetriever.from_corpus(corpus, path, embedder).",
            source=location.shown,
        )
    with translated(location, secrets, "reading a vector"):
        first = np.asarray(dataset[column][0])
    if first.ndim != 1 or first.size == 0 or not np.issubdtype(first.dtype, np.number):
        raise DataError(
            f"column {column!r} holds {first.dtype} values of shape {first.shape}, not "
            "vectors. Name the embedding column with embedding_column=...",
            source=location.shown,
            field=column,
        )
    return int(first.size)
