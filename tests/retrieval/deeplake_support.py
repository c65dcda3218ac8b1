"""Shared pieces of the Deep Lake tests: a dense deterministic embedder, a generated corpus,
and exact cosine search in NumPy to check Deep Lake's answers against."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from promptlab.retrieval import Embedder

TOPICS = ("harbour", "bakery", "railway", "museum", "school", "football")
_VOCABULARY = (
    "tide boat quay bell rye bread oven caraway steam train platform ticket whale skeleton "
    "model sailor pupil teacher greenhouse tomato goal stadium shirt supporter lantern river "
    "granite lamp cheese cave hill mayor council customs"
)
_WORDS = _VOCABULARY.split()


class Interrupted(Exception):
    """Stands for whatever stops a build: an outage, Ctrl-C, a crash."""


class SeededEmbedder(Embedder):
    """Each word maps to a fixed random vector (seeded by its SHA-256); a text is their sum.

    Dense and deterministic, so cosine scores almost never tie, and no model is needed.
    ``calls`` logs the number of texts in each passage batch; with ``fail_after`` set, the
    batch after that many raises :class:`Interrupted` (the fingerprint stays the same, so
    a build can resume with a healthy embedder).
    """

    def __init__(
        self,
        size: int = 32,
        *,
        batch_size: int = 64,
        name: str = "seeded",
        fail_after: int | None = None,
    ) -> None:
        super().__init__(batch_size=batch_size)
        self.size = size
        self.name = f"{name}:{size}"
        self.calls: list[int] = []
        self.fail_after = fail_after

    def vector(self, text: str) -> np.ndarray:
        total = np.zeros(self.size)
        for word in re.findall(r"\w+", text.lower()):
            seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
            total += np.random.default_rng(seed).standard_normal(self.size)
        return total

    async def _embed_batch(self, texts: list[str], *, query: bool) -> Sequence[Sequence[float]]:
        if not query:
            if self.fail_after is not None and len(self.calls) >= self.fail_after:
                raise Interrupted("the embedding service went away mid-build")
            self.calls.append(len(texts))
        return [self.vector(text).tolist() for text in texts]


def generated_corpus(count: int, *, seed: int = 7) -> list[dict[str, object]]:
    """``count`` short passages with ids ``p0000``..., a ``topic`` and a ``year``."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(count):
        topic = TOPICS[i % len(TOPICS)]
        words = " ".join(rng.choice(_WORDS, size=8))
        rows.append(
            {
                "id": f"p{i:04d}",
                "text": f"{topic} {words} number {i}",
                "topic": topic,
                "year": 2000 + i % 5,
            }
        )
    return rows


def exact_top_k(
    vectors: np.ndarray, ids: Sequence[str], query: np.ndarray, k: int
) -> list[tuple[str, float]]:
    """The ``k`` best (id, cosine) by exact search in NumPy, done independently of promptlab."""
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    scores = unit @ (query / np.linalg.norm(query))
    best = np.argsort(-scores, kind="stable")[:k]
    return [(ids[i], float(scores[i])) for i in best]
