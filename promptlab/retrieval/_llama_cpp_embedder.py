"""Embeddings computed in-process by llama.cpp: :class:`LlamaCppEmbedder`."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from promptlab.errors import ConfigurationError, MissingDependencyError
from promptlab.providers.bundled_model import gguf_model
from promptlab.providers.fingerprints import file_identity
from promptlab.retrieval._embedder import Embedder

#: llama.cpp's pooling types (``enum llama_pooling_type``) by name.
_POOLING = {"mean": 1, "cls": 2, "last": 3}


class LlamaCppEmbedder(Embedder):
    """Embeddings from a GGUF model run in-process by llama-cpp-python; no server, no key.

    A dedicated embedding model (nomic-embed, bge, e5 in GGUF form) gives the best
    results; any model works, including the bundled SmolLM2 (the default), whose
    mean-pooled hidden states make a weak but free embedding. Texts longer than
    ``n_ctx`` tokens are cut to their first ``n_ctx`` tokens. Calls run in a worker
    thread, one at a time (one llama.cpp context).

    Args:
        model_path: A ``.gguf`` file; the bundled SmolLM2-135M-Instruct by default.
        pooling: How token vectors become one text vector: ``"mean"`` (default),
            ``"cls"`` or ``"last"``. Use what the model card says.
        n_ctx: Longest text in tokens (also llama.cpp's batch size).
        n_threads: CPU threads; llama.cpp's default when None.
        batch_size: Texts per call.

    Example:
        >>> retriever = EmbeddingRetriever("notes/", LlamaCppEmbedder("bge-small.gguf"))
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        pooling: str = "mean",
        n_ctx: int = 512,
        n_threads: int | None = None,
        batch_size: int = 32,
    ) -> None:
        super().__init__(batch_size=batch_size)
        if pooling not in _POOLING:
            raise ConfigurationError(
                f"pooling={pooling!r} is not allowed: use one of {', '.join(map(repr, _POOLING))}."
            )
        self.model_path, self.model = gguf_model(model_path)
        self.name = f"llama.cpp:{self.model}"
        self.pooling = pooling
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self._llama: Any = None
        self._lock = threading.Lock()

    async def _embed_batch(self, texts: list[str], *, query: bool) -> Sequence[Sequence[float]]:
        return await asyncio.to_thread(self._embed_blocking, texts)

    def _embed_blocking(self, texts: list[str]) -> Sequence[Sequence[float]]:
        with self._lock:
            vectors: Sequence[Sequence[float]] = self._load().embed(texts, truncate=True)
            return vectors

    def _load(self) -> Any:
        if self._llama is None:
            try:
                from llama_cpp import Llama
            except ImportError:
                raise MissingDependencyError(
                    "llama-cpp-python", "local", "LlamaCppEmbedder"
                ) from None
            self._llama = Llama(
                model_path=str(self.model_path),
                embedding=True,
                pooling_type=_POOLING[self.pooling],
                n_ctx=self.n_ctx,
                n_batch=self.n_ctx,
                n_threads=self.n_threads,
                verbose=False,
            )
        return self._llama

    def fingerprint(self) -> dict[str, Any]:
        """The model file (path, size, mtime), pooling, context size and library version."""
        try:
            version = metadata.version("llama-cpp-python")
        except metadata.PackageNotFoundError:
            version = None
        return {
            **super().fingerprint(),
            "model_file": file_identity(self.model_path),
            "pooling": self.pooling,
            "n_ctx": self.n_ctx,
            "llama_cpp_python": version,
        }

    def __repr__(self) -> str:
        return f"LlamaCppEmbedder(model={self.model!r}, pooling={self.pooling!r})"
