"""Building a Deep Lake dataset from a corpus, in committed batches, resumable.

The dataset has four columns: ``id`` and ``text`` (text), ``metadata`` (a dict) and
``embedding`` (unit-length float32 vectors). Rows are written ``batch_size`` at a time,
each batch embedded, appended and committed, so an interrupted build (an error, Ctrl-C, a
killed process) keeps every batch committed before it and loses only the one in flight.
Building again with the same corpus and settings checks that the stored ids are the
first ids of the corpus and carries on from there: no row is embedded or written twice.

The dataset's metadata key ``"promptlab"`` holds a manifest (JSON): the fingerprint of
the chunks and settings (chunking, the embedding model), the number of rows it should
hold, and whether the build finished. A different fingerprint means another corpus or
other settings: rebuilt with ``overwrite=True``, an error otherwise, so a dataset is never
silently replaced.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from promptlab.errors import ConfigurationError, DataError, EmbeddingDimensionError
from promptlab.retrieval._deeplake_access import (
    DatasetLocation,
    Secrets,
    deeplake_module,
    translated,
)
from promptlab.retrieval._document import Document
from promptlab.retrieval._embedder import Embedder, normalised

MANIFEST_KEY = "promptlab"
#: Bumped when the layout of a built dataset changes; older ones are rebuilt on request.
FORMAT_VERSION = 1
#: The columns of a dataset promptlab builds.
COLUMNS = {"id": "id", "text": "text", "metadata": "metadata", "embedding": "embedding"}


@dataclass(frozen=True)
class BuildReport:
    """What a build did.

    Attributes:
        rows: Rows in the dataset when the build ended.
        resumed_from: Rows already there from an earlier, interrupted build.
        written: Rows embedded and written by this build.
    """

    rows: int
    resumed_from: int
    written: int


async def build_dataset(
    location: DatasetLocation,
    secrets: Secrets,
    chunks: Sequence[Document],
    embedder: Embedder,
    *,
    fingerprint: str,
    settings: dict[str, Any],
    batch_size: int,
    progress: bool,
    overwrite: bool,
    vector_index: bool = False,
) -> BuildReport:
    """Write ``chunks`` and their vectors to the dataset at ``location`` (see the module).

    With ``vector_index``, Deep Lake's clustered vector index is built once the rows are
    written (and on a finished dataset that lacks it); without it, no index is built, so
    searches stay exact.
    """
    deeplake = deeplake_module()
    with translated(location, secrets, "opening the dataset to build it"):
        exists = deeplake.exists(location.url, **secrets.kwargs())
        dataset = deeplake.open(location.url, **secrets.kwargs()) if exists else None
    done, indexed = 0, False
    if dataset is not None:
        manifest = read_manifest(dataset)
        if manifest is None or manifest.get("fingerprint") != fingerprint:
            if not overwrite:
                raise ConfigurationError(_replace_message(location, manifest))
            with translated(location, secrets, "deleting the dataset to rebuild it"):
                deeplake.delete(location.url, **secrets.kwargs())
            dataset = None
        else:
            done = _resume_point(dataset, chunks, location)
            indexed = bool(manifest.get("vector_index"))
            if manifest.get("complete") and done == len(chunks) and (indexed or not vector_index):
                return BuildReport(rows=done, resumed_from=done, written=0)
    bar = _ProgressBar(len(chunks), done, enabled=progress, label=location.shown)
    try:
        for start in range(done, len(chunks), batch_size):
            batch = chunks[start : start + batch_size]
            vectors = normalised(await embedder.embed_documents([c.text for c in batch]))
            if dataset is None:
                dataset = _create(deeplake, location, secrets, fingerprint, settings, vectors)
            # No index rebuilt at every commit (and none at all unless asked for).
            dataset.indexing_mode = deeplake.IndexingMode.Off
            _check_vector_size(dataset, vectors, embedder, location)
            _append(dataset, batch, vectors, location, secrets, start, len(chunks))
            bar.advance(len(batch))
        if dataset is None:  # an empty chunk list; load_corpus never gives one
            raise DataError("nothing to write: the corpus has no chunks.", source=location.shown)
        if vector_index and not indexed:
            with translated(location, secrets, "building the vector index"):
                dataset.indexing_mode = deeplake.IndexingMode.Always
                dataset.build_indexes()
            indexed = True
        with translated(location, secrets, "marking the build complete"):
            dataset.metadata[MANIFEST_KEY] = _manifest(
                fingerprint, settings, complete=True, vector_index=indexed
            )
            dataset.commit("promptlab: build complete")
    finally:
        bar.stop()
    return BuildReport(rows=len(chunks), resumed_from=done, written=len(chunks) - done)


def read_manifest(dataset: Any) -> dict[str, Any] | None:
    """The promptlab manifest of a dataset, or None when promptlab did not build it."""
    try:
        if MANIFEST_KEY not in list(dataset.metadata.keys()):
            return None
        data = json.loads(str(dataset.metadata[MANIFEST_KEY]))
    except (ValueError, TypeError, KeyError):
        return None
    return data if isinstance(data, dict) else None


def _manifest(
    fingerprint: str, settings: dict[str, Any], *, complete: bool, vector_index: bool = False
) -> str:
    return json.dumps(
        {
            "format": FORMAT_VERSION,
            "fingerprint": fingerprint,
            "settings": settings,
            "complete": complete,
            "vector_index": vector_index,
        },
        sort_keys=True,
        default=str,
    )


def _replace_message(location: DatasetLocation, manifest: dict[str, Any] | None) -> str:
    if manifest is None:
        what = "a Deep Lake dataset that promptlab did not build is already here"
        fix = (
            "open it as it is with DeepLakeRetriever(path, embedder, text_column=..., "
            "id_column=..., embedding_column=...), or build elsewhere"
        )
    else:
        what = "the dataset here was built from another corpus or with other settings"
        fix = "build to another path, or open it as it is with DeepLakeRetriever(path, embedder)"
    return f"{location.shown}: {what}. Pass overwrite=True to delete it and build again, or {fix}."


def _resume_point(dataset: Any, chunks: Sequence[Document], location: DatasetLocation) -> int:
    stored = [str(i) for i in dataset[COLUMNS["id"]][:]] if len(dataset) else []
    expected = [chunk.id for chunk in chunks[: len(stored)]]
    if len(stored) > len(chunks) or stored != expected:
        raise DataError(
            f"the dataset holds {len(stored)} rows whose ids are not the first ids of the "
            "corpus it was built from, so the build cannot resume. Pass overwrite=True to "
            "build it again from the start.",
            source=location.shown,
        )
    return len(stored)


def _create(
    deeplake: Any,
    location: DatasetLocation,
    secrets: Secrets,
    fingerprint: str,
    settings: dict[str, Any],
    vectors: Any,
) -> Any:
    types = deeplake.types
    with translated(location, secrets, "creating the dataset"):
        dataset = deeplake.create(location.url, **secrets.kwargs())
        dataset.add_column(COLUMNS["id"], types.Text())
        dataset.add_column(COLUMNS["text"], types.Text())
        dataset.add_column(COLUMNS["metadata"], types.Dict())
        dataset.add_column(COLUMNS["embedding"], types.Embedding(int(vectors.shape[1])))
        dataset.metadata[MANIFEST_KEY] = _manifest(fingerprint, settings, complete=False)
        dataset.commit("promptlab: dataset created")
    return dataset


def _check_vector_size(
    dataset: Any, vectors: Any, embedder: Embedder, location: DatasetLocation
) -> None:
    shape = list(dataset.schema[COLUMNS["embedding"]].dtype.shape or [])
    if shape and 0 < shape[0] != vectors.shape[1]:
        raise EmbeddingDimensionError(
            f"the dataset {location.shown} stores vectors of {shape[0]} numbers, but the "
            f"embedder gives {vectors.shape[1]}. Use the model the dataset was built with, "
            "or build again with overwrite=True.",
            embedder=embedder.name,
            expected=int(shape[0]),
            got=int(vectors.shape[1]),
        )


def _append(
    dataset: Any,
    batch: Sequence[Document],
    vectors: Any,
    location: DatasetLocation,
    secrets: Secrets,
    start: int,
    total: int,
) -> None:
    rows = {
        COLUMNS["id"]: [chunk.id for chunk in batch],
        COLUMNS["text"]: [chunk.text for chunk in batch],
        # JSON round trip: metadata from user dicts may hold dates or paths; they store as text.
        COLUMNS["metadata"]: [json.loads(json.dumps(dict(c.metadata), default=str)) for c in batch],
        COLUMNS["embedding"]: vectors,
    }
    with translated(location, secrets, f"writing rows {start + 1}-{start + len(batch)}"):
        try:
            dataset.append(rows)
            dataset.commit(f"promptlab: rows {start + 1}-{start + len(batch)} of {total}")
        except BaseException:
            dataset.rollback()  # nothing half-written stays in this handle
            raise


class _ProgressBar:
    """Rows written of the total, drawn with ``rich`` on a terminal or in a notebook only."""

    def __init__(self, total: int, done: int, *, enabled: bool, label: str) -> None:
        self._progress: Any = None
        if not enabled or done >= total:
            return
        from rich.console import Console
        from rich.progress import MofNCompleteColumn, Progress

        console = Console(stderr=True)
        if not (console.is_terminal or console.is_jupyter):
            return
        self._progress = Progress(
            *Progress.get_default_columns(), MofNCompleteColumn(), console=console
        )
        self._progress.start()
        self._task = self._progress.add_task(f"embedding into {label}", total=total, completed=done)

    def advance(self, rows: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, rows)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
