"""The retriever contract: ``async retrieve(query, k) -> list[Document]``, plus a sync form."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from promptlab._checks import is_int
from promptlab.errors import ConfigurationError, EmptyQueryError
from promptlab.retrieval._document import Document
from promptlab.sync import run_sync

#: Passages returned when neither the call nor the retriever says how many.
DEFAULT_K = 4


class Retriever(ABC):
    """Base class of every retriever: finds the passages most relevant to a query.

    A subclass implements :meth:`_retrieve`, which receives a non-empty query and a
    checked ``k``; the base class validates both, and gives the blocking form
    :meth:`retrieve_sync` through :func:`promptlab.run_sync` (so it works in notebooks).

    Args:
        k: Passages returned by default when a call does not give ``k``.

    Example:
        >>> retriever = BM25Retriever(["Oslo is in Norway.", "Lima is in Peru."])
        >>> [doc.text for doc in retriever.retrieve_sync("Where is Lima?", k=1)]
        ['Lima is in Peru.']
    """

    def __init__(self, *, k: int = DEFAULT_K) -> None:
        self.k = check_k(k)

    async def retrieve(self, query: str, k: int | None = None) -> list[Document]:
        """The ``k`` passages most relevant to ``query``, best first, each with its score.

        Args:
            query: What to search for; must hold some non-whitespace text.
            k: How many passages; the retriever's ``k`` when None. Fewer come back when
                the corpus is smaller.

        Raises:
            EmptyQueryError: ``query`` is empty or only whitespace.
            ConfigurationError: ``k`` is not a positive integer.
        """
        if not isinstance(query, str) or not query.strip():
            raise EmptyQueryError(
                f"The retrieval query is {query!r}: it must be a string with some text. If "
                "the query comes from a task field or a template, check that the field is "
                "filled in for every task."
            )
        return await self._retrieve(query, self.k if k is None else check_k(k))

    def retrieve_sync(self, query: str, k: int | None = None) -> list[Document]:
        """Blocking :meth:`retrieve`; works in scripts and in notebooks."""
        return run_sync(self.retrieve(query, k))

    @abstractmethod
    async def _retrieve(self, query: str, k: int) -> list[Document]:
        """Search for a non-empty ``query``; return at most ``k`` documents, best first."""

    def fingerprint(self) -> dict[str, Any]:
        """What identifies this retriever's answers, as plain JSON data.

        Two retrievers with equal fingerprints return the same passages for the same
        query. :class:`~promptlab.strategies.RAG` puts it in its ``describe()``, so an
        experiment's definition fingerprint changes when the index does, and a resumed
        run never mixes answers from two indexes. The base class gives the class name;
        a subclass adds what identifies its index (a hash of the corpus or the index
        directory, its settings, the embedder's fingerprint), never API keys or other
        secrets. A retriever that cannot see its index (a remote store) should at least
        add a name the user sets.
        """
        return {"class": f"{type(self).__module__}.{type(self).__qualname__}"}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(k={self.k})"


def check_k(k: object) -> int:
    """``k`` if it is a positive integer; otherwise a :class:`ConfigurationError`."""
    if not is_int(k) or k < 1:
        raise ConfigurationError(
            f"k={k!r} is not allowed: give the number of passages to retrieve, an integer >= 1."
        )
    return k
