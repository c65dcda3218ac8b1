"""Deep Memory on Activeloop's managed service: opt-in, like the paid-API tests.

Set PROMPTLAB_PAID_TESTS=1, ACTIVELOOP_TOKEN, PROMPTLAB_DEEP_MEMORY_DATASET (an
``al://org/dataset`` with a trained Deep Memory model, built with OpenAI's
``text-embedding-3-small`` unless PROMPTLAB_DEEP_MEMORY_MODEL names another) and
OPENAI_API_KEY. Without them this test is skipped; the offline checks of the option are
in test_deeplake_errors.py.
"""

from __future__ import annotations

import os

import pytest

from promptlab.retrieval import DeepLakeRetriever, OpenAIEmbedder
from tests.providers.stub_setup import paid_api_enabled

DATASET = os.environ.get("PROMPTLAB_DEEP_MEMORY_DATASET", "")


@pytest.mark.paid_api
@pytest.mark.skipif(
    not (paid_api_enabled() and DATASET and os.environ.get("ACTIVELOOP_TOKEN")),
    reason="paid API: set PROMPTLAB_PAID_TESTS=1, ACTIVELOOP_TOKEN and "
    "PROMPTLAB_DEEP_MEMORY_DATASET (an al:// dataset with a trained Deep Memory model)",
)
def test_deep_memory_ranks_the_managed_dataset() -> None:
    pytest.importorskip("deeplake")
    embedder = OpenAIEmbedder(
        os.environ.get("PROMPTLAB_DEEP_MEMORY_MODEL", "text-embedding-3-small")
    )
    plain = DeepLakeRetriever(DATASET, embedder)
    boosted = DeepLakeRetriever(DATASET, embedder, deep_memory=True)
    query = "What is this dataset about?"
    found = boosted.retrieve_sync(query, k=5)
    assert len(found) == min(5, plain.rows)
    scores = [doc.score for doc in found]
    assert scores == sorted(scores, reverse=True)  # best first, as for cosine similarity
    assert boosted.fingerprint()["deep_memory"] is True
    assert boosted.fingerprint() != plain.fingerprint()
