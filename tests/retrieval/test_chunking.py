"""chunk_documents: sizes and overlaps in words, ids and metadata of the chunks."""

from __future__ import annotations

import pytest

from promptlab.errors import ConfigurationError
from promptlab.retrieval import Document, chunk_documents

WORDS = [f"w{i}" for i in range(10)]


def test_a_short_document_stays_whole_and_keeps_its_id() -> None:
    doc = Document("a", "one two three", {"title": "T"})
    [chunk] = chunk_documents([doc], chunk_size=3, chunk_overlap=1)
    assert (chunk.id, chunk.text) == ("a", "one two three")
    assert dict(chunk.metadata) == {"title": "T", "source_id": "a", "chunk": 0}


def test_chunks_have_the_size_and_overlap_in_words() -> None:
    doc = Document("d", " ".join(WORDS))
    chunks = chunk_documents([doc], chunk_size=4, chunk_overlap=1)
    assert [c.text.split() for c in chunks] == [
        ["w0", "w1", "w2", "w3"],
        ["w3", "w4", "w5", "w6"],
        ["w6", "w7", "w8", "w9"],
    ]
    assert [c.id for c in chunks] == ["d#0", "d#1", "d#2"]
    assert [c.metadata["chunk"] for c in chunks] == [0, 1, 2]


def test_no_chunk_lies_wholly_inside_the_previous_one() -> None:
    doc = Document("d", " ".join(WORDS[:9]))
    chunks = chunk_documents([doc], chunk_size=4, chunk_overlap=2)
    assert [c.text for c in chunks] == ["w0 w1 w2 w3", "w2 w3 w4 w5", "w4 w5 w6 w7", "w6 w7 w8"]


def test_chunk_text_keeps_the_original_line_breaks() -> None:
    doc = Document("d", "alpha beta\ngamma\n\ndelta epsilon")
    chunks = chunk_documents([doc], chunk_size=3, chunk_overlap=0)
    assert [c.text for c in chunks] == ["alpha beta\ngamma", "delta epsilon"]


def test_the_default_overlap_is_a_tenth_of_the_size() -> None:
    doc = Document("d", " ".join(f"w{i}" for i in range(25)))
    chunks = chunk_documents([doc], chunk_size=20)
    assert chunks[1].text.split()[0] == "w18"  # 20 - 20 // 10 = a step of 18 words


def test_chunk_size_none_keeps_documents_whole() -> None:
    doc = Document("d", " ".join(WORDS * 100))
    assert [c.id for c in chunk_documents([doc], chunk_size=None)] == ["d"]


@pytest.mark.parametrize(
    ("size", "overlap", "message"),
    [(0, 0, "chunk_size=0 is not allowed"), (5, 5, "chunk_overlap=5"), (5, -1, "overlap=-1")],
)
def test_bad_sizes_are_clear_errors(size: int, overlap: int, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        chunk_documents([Document("d", "x")], chunk_size=size, chunk_overlap=overlap)
