"""The embedding-backend contract: texts in, one vector per text out, checked.

An :class:`Embedder` subclass implements :meth:`Embedder._embed_batch` for one batch.
The base class splits the texts into batches of ``batch_size``, checks that every batch
came back with one finite vector per text, all of the same size (``dimensions`` when it
is set, otherwise the size of the first vector), and stacks them into a float32 array.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

from promptlab._checks import is_int
from promptlab.errors import ConfigurationError, EmbeddingDimensionError, ResponseFormatError
from promptlab.sync import run_sync


class Embedder(ABC):
    """Base class of embedding backends.

    Args:
        batch_size: Texts sent per call.
        dimensions: The vector size the backend must return; None accepts the size of the
            first vector (and then insists that every later vector has it).

    Attributes:
        name: Describes the backend in errors and fingerprints.
    """

    name: str = "embedder"

    def __init__(self, *, batch_size: int, dimensions: int | None = None) -> None:
        for field, value in (("batch_size", batch_size), ("dimensions", dimensions)):
            if value is None and field == "dimensions":
                continue
            if not is_int(value) or value < 1:
                raise ConfigurationError(
                    f"{field}={value!r} is not allowed: give an integer >= 1"
                    + (", or None to accept the backend's size." if field == "dimensions" else ".")
                )
        self.batch_size = batch_size
        self.dimensions = dimensions
        #: The vector size seen so far (``dimensions`` when set): every vector must have it.
        self.vector_size: int | None = dimensions

    async def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages, ``batch_size`` at a time: an array of shape (len(texts), dims).

        Raises:
            EmbeddingDimensionError: A vector has the wrong size, or sizes differ.
            ResponseFormatError: A batch came back with the wrong number of vectors, or a
                vector holds something other than finite numbers.
        """
        rows: list[np.ndarray] = []
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            vectors = await self._embed_batch(batch, query=False)
            rows.extend(self._checked(vectors, len(batch), start))
        if not rows:
            return np.zeros((0, self.vector_size or 0), dtype=np.float32)
        return np.stack(rows)

    async def embed_query(self, text: str) -> np.ndarray:
        """Embed one search query: a vector of shape (dims,)."""
        vectors = await self._embed_batch([text], query=True)
        return self._checked(vectors, 1, 0)[0]

    def embed_documents_sync(self, texts: Sequence[str]) -> np.ndarray:
        """Blocking :meth:`embed_documents`; works in scripts and in notebooks."""
        return run_sync(self.embed_documents(texts))

    @abstractmethod
    async def _embed_batch(self, texts: list[str], *, query: bool) -> Sequence[Sequence[float]]:
        """Embed one batch; ``query`` is True for a search query (some models embed
        queries and passages differently)."""

    def fingerprint(self) -> dict[str, Any]:
        """What identifies this backend's vectors (class, model, settings); never keys."""
        return {
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
            "name": self.name,
            "dimensions": self.dimensions,
        }

    def _checked(self, vectors: Any, expected_count: int, offset: int) -> list[np.ndarray]:
        try:
            count = len(vectors)
        except TypeError:
            count = -1
        if count != expected_count:
            raise ResponseFormatError(
                f"asked for {expected_count} embedding(s) and got "
                f"{count if count >= 0 else type(vectors).__name__}. Check that the "
                "backend is an embedding model and accepts a list of texts.",
                provider=self.name,
            )
        rows = []
        for position, vector in enumerate(vectors):
            try:
                row = np.asarray(vector, dtype=np.float32)
            except (TypeError, ValueError):
                row = np.zeros(0, dtype=np.float32)
            if row.ndim != 1 or row.size == 0:
                raise EmbeddingDimensionError(
                    f"text {offset + position} came back as an array of shape {row.shape}, "
                    "not a vector. For llama.cpp, load the model with a pooling type (mean, "
                    "cls or last) so that each text gets one vector.",
                    embedder=self.name,
                    expected=self.vector_size or 0,
                    got=row.size,
                )
            self.check_size(row.size, offset + position)
            if not np.all(np.isfinite(row)):
                raise ResponseFormatError(
                    f"the embedding of text {offset + position} holds NaN or infinite values.",
                    provider=self.name,
                )
            rows.append(row)
        return rows

    def check_size(self, size: int, position: int) -> None:
        """Accept a vector of ``size`` numbers for text ``position``, or raise.

        The first vector seen sets the size (unless ``dimensions`` did); every later one,
        fresh or read from a cache, must have it.

        Raises:
            EmbeddingDimensionError: ``size`` differs from the size set before.
        """
        if self.vector_size is None:
            self.vector_size = size  # the first vector sets the size every later one must have
            return
        if size != self.vector_size:
            raise EmbeddingDimensionError(
                f"text {position} came back as a vector of {size} numbers, but "
                f"{self.vector_size} were expected (set by dimensions= or by the first vector). "
                "The backend mixes sizes or serves another model than the index was built "
                "with: check the model name, and its dimensions setting.",
                embedder=self.name,
                expected=self.vector_size,
                got=size,
            )


def normalised(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (a zero row stays zero), as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
