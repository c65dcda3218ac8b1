"""RAG on the real bundled model: with the passage in the prompt, SmolLM2-135M answers
questions about an invented town that it cannot know. Two short greedy calls.

In CI a model that cannot load fails this test (``local_provider`` uses ``require``).
"""

from __future__ import annotations

from typing import Any

import pytest

from promptlab.retrieval import BM25Retriever
from promptlab.strategies import RAG, ZeroShot
from tests.retrieval.town_corpus import PASSAGES

pytestmark = pytest.mark.local_model


@pytest.mark.parametrize(
    ("question", "passage", "fact"),
    [
        ("Who rings the brass bell at the harbour?", "harbour", "brandt"),
        ("How many pupils does the school teach?", "school", "212"),
    ],
)
def test_the_retrieved_passage_lets_the_local_model_answer(
    local_provider: Any, question: str, passage: str, fact: str
) -> None:
    rag = RAG(ZeroShot(extractor="text"), BM25Retriever(PASSAGES, chunk_size=None), k=1)
    result = rag.run({"question": question}, local_provider, temperature=0, max_tokens=24)
    assert [doc.id for doc in result.retrieved] == [passage]
    assert PASSAGES[[p["id"] for p in PASSAGES].index(passage)]["text"] in (
        result.messages[-1].content
    )
    assert fact in (result.answer or "").lower(), result.text
