"""A deterministic fake LangChain ``Embeddings`` whose vectors make retrieval meaningful."""

from __future__ import annotations

import hashlib
import re

from langchain_core.embeddings import Embeddings

STOP = frozenset(
    ("the", "a", "an", "of", "in", "is", "at", "on", "to", "and", "by", "for", "with", "it")
) | frozenset(("its", "does", "how", "what", "who", "which", "when"))


class BagOfWords(Embeddings):
    """Each word (not a stop word) adds 1 to a bucket chosen by its hash; calls are logged."""

    def __init__(self, size: int = 1024, query_size: int | None = None) -> None:
        self.size = size
        self.query_size = query_size or size
        self.document_calls: list[int] = []

    def vector(self, text: str, size: int) -> list[float]:
        vector = [0.0] * size
        for word in re.findall(r"\w+", text.lower()):
            if word not in STOP:
                vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % size] += 1.0
        return vector

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.document_calls.append(len(texts))
        return [self.vector(t, self.size) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.vector(text, self.query_size)
