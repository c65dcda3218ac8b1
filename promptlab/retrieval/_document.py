"""A passage of text a retriever can return: :class:`Document`."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class Document:
    """A passage of text with an id, metadata and, once retrieved, its score.

    Attributes:
        id: Unique within a corpus. A chunk of a longer document has the id
            ``"<source id>#<chunk index>"`` (see :func:`~promptlab.retrieval.chunk_documents`).
        text: The passage.
        metadata: Anything else about it (source file, title, ...), read-only.
        score: The retriever's relevance score; higher is more relevant. Scores are
            comparable only within one retriever (BM25 scores are unbounded, embedding
            scores are cosine similarities in [-1, 1]). ``None`` for a document that was not
            retrieved, or when the retriever gives no score (many LangChain retrievers).

    Example:
        >>> doc = Document("faq-3", "Returns are free within 30 days.", {"title": "Returns"})
        >>> doc.with_score(7.2).score
        7.2
    """

    id: str
    text: str
    metadata: Mapping[str, Any] = field(default_factory=dict, hash=False)
    score: float | None = None

    def __post_init__(self) -> None:
        # Frozen means frozen all the way down: a caller's dict is copied, never shared.
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))

    def with_score(self, score: float | None) -> Document:
        """A copy of this document carrying ``score``."""
        return dataclasses.replace(self, score=score)

    def to_dict(self) -> dict[str, Any]:
        """The document as plain JSON-ready data (the score only when there is one)."""
        data: dict[str, Any] = {"id": self.id, "text": self.text, "metadata": dict(self.metadata)}
        if self.score is not None:
            data["score"] = self.score
        return data

    def __repr__(self) -> str:
        return (
            f"Document(id={self.id!r}, text={self.text!r}, metadata={dict(self.metadata)!r}, "
            f"score={self.score!r})"
        )

    def __reduce__(self) -> Any:  # MappingProxyType cannot be pickled; rebuild from a dict
        return (Document, (self.id, self.text, dict(self.metadata), self.score))
