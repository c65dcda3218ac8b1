"""Embeddings through the response cache: each text is embedded once per embedding backend.

:func:`embed_cached` looks every text up in the
:class:`~promptlab.providers.cache.ResponseCache` under a key made of the embedder's
fingerprint (class, model, endpoint without credentials, dimensions; never an API key),
whether the text is a query or a passage, and the text; only the texts not found are sent
to the backend, in its batches, and their vectors are stored. So a second build of the
same index, in this process or a later one, makes no embedding calls, even without an
``index_dir``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np

from promptlab.errors import ConfigurationError
from promptlab.providers.cache import ResponseCache, open_cache as open_response_cache
from promptlab.retrieval._embedder import Embedder

#: What ``EmbeddingRetriever(cache=...)`` accepts: True for the shared response cache,
#: False or None for none, a path, or a :class:`ResponseCache`.
CacheOption: TypeAlias = "bool | str | os.PathLike[str] | ResponseCache | None"


def check_cache_option(option: Any) -> CacheOption:
    """``option`` if it is a :data:`CacheOption`, else a :class:`ConfigurationError`."""
    if option is None or isinstance(option, (bool, str, os.PathLike, ResponseCache)):
        return option  # type: ignore[no-any-return]
    raise ConfigurationError(
        f"cache={option!r} is not allowed: use True (the shared response cache), False, "
        "a path, or a ResponseCache."
    )


def open_cache(option: CacheOption) -> ResponseCache | None:
    """The cache that ``option`` names (see :data:`CacheOption`), opened."""
    option = check_cache_option(option)
    if option is None:
        return None
    return open_response_cache(option if isinstance(option, bool | ResponseCache) else Path(option))


async def embed_cached(
    embedder: Embedder, texts: Sequence[str], cache: ResponseCache | None, *, query: bool = False
) -> np.ndarray:
    """The vectors of ``texts`` (shape ``(len(texts), dims)``), from ``cache`` where it has them.

    Texts the cache lacks go to the backend (passages in ``embedder.batch_size``
    batches, a query on its own), and each batch is stored as soon as it comes back, so
    a build that fails half-way resumes where it stopped; repeated texts are embedded
    once. Vectors read from the cache are checked like fresh ones: all must have one size.
    """
    if cache is None:
        if query:
            return np.stack([await embedder.embed_query(text) for text in texts])
        return await embedder.embed_documents(texts)
    fingerprint = embedder.fingerprint()
    keys = [ResponseCache.vector_key(fingerprint, text, query=query) for text in texts]
    found = {key: np.asarray(v, dtype=np.float32) for key, v in cache.get_vectors(keys).items()}
    missing = {key: text for key, text in zip(keys, texts, strict=True) if key not in found}
    pending = list(missing.items())
    # Stored batch by batch: a build that fails half-way keeps what it paid for.
    step = 1 if query else embedder.batch_size
    for start in range(0, len(pending), step):
        batch = pending[start : start + step]
        if query:
            fresh = np.stack([await embedder.embed_query(text) for _, text in batch])
        else:
            fresh = await embedder.embed_documents([text for _, text in batch])
        new = {key: vector for (key, _), vector in zip(batch, fresh, strict=True)}
        cache.put_vectors(embedder.name, {key: vector.tolist() for key, vector in new.items()})
        found.update(new)
    for position, key in enumerate(keys):
        embedder.check_size(found[key].size, position)
    if not keys:
        return np.zeros((0, embedder.vector_size or 0), dtype=np.float32)
    return np.stack([found[key] for key in keys])
