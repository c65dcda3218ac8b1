"""The Retriever contract: a subclass implements _retrieve and gets checks and a sync form."""

from __future__ import annotations

import pytest

from promptlab.errors import ConfigurationError, EmptyQueryError
from promptlab.retrieval import Document, Retriever


class Echo(Retriever):
    """Returns k documents naming the query, so tests see what reached _retrieve."""

    async def _retrieve(self, query: str, k: int) -> list[Document]:
        return [Document(f"{query}-{i}", query, score=1.0 / (i + 1)) for i in range(k)]


def test_sync_form_uses_the_default_k() -> None:
    docs = Echo(k=2).retrieve_sync("tides")
    assert [d.id for d in docs] == ["tides-0", "tides-1"]


async def test_sync_form_works_inside_a_running_event_loop() -> None:
    # As in a notebook cell: the sync call runs on promptlab's background loop.
    assert len(Echo().retrieve_sync("tides", k=3)) == 3
    assert len(await Echo().retrieve("tides", k=1)) == 1


@pytest.mark.parametrize("query", ["", "  \n", None, 42])
def test_a_query_without_text_is_refused_before_the_backend(query: object) -> None:
    with pytest.raises(EmptyQueryError, match="must be a string with some text"):
        Echo().retrieve_sync(query)  # type: ignore[arg-type]


@pytest.mark.parametrize("k", [0, -1, 2.5, True])
def test_k_must_be_a_positive_integer(k: object) -> None:
    with pytest.raises(ConfigurationError, match=r"k=.* is not allowed"):
        Echo().retrieve_sync("tides", k=k)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"k=.* is not allowed"):
        Echo(k=k)  # type: ignore[arg-type]
