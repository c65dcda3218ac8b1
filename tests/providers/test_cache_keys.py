"""Cache keys and stored rows stay byte for byte what they were: existing caches still hit.

The key is the SHA-256 of the request's canonical JSON (see :mod:`promptlab.providers.cache`).
The cache builds that text with one shared encoder instead of ``json.dumps`` per call; these
tests hold the new path to the old formula on varied requests, and to a key computed by
the old code, so a cache file written before still serves its responses.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from promptlab.completion import Choice, Completion, CompletionRequest, TokenLogprob, Usage
from promptlab.messages import Message
from promptlab.params import GenerationParams
from promptlab.providers.cache import (
    CachedProvider,
    ResponseCache,
    completion_from_dict,
    completion_to_dict,
)
from promptlab.testing import FakeProvider

FINGERPRINT = {
    "class": "tests.Fake",
    "name": "fake",
    "model": "fake-model",
    "base_url": "http://127.0.0.1:8080/v1",
    "n_ctx": 4096,
}
TRICKY = 'Wie viel ist 2 + 2? é − 😀 "quoted" \\ back\nline'


def old_key(
    fingerprint: dict[str, Any], request: CompletionRequest, sample_index: int, occurrence: int
) -> str:
    """The key as promptlab computed it before (json.dumps per call), written out in full."""
    data: dict[str, Any] = {
        "messages": [m.to_dict() for m in request.messages],
        "params": request.params.given_values(),
    }
    if request.retrieved:
        data["retrieved"] = [[doc_id, score] for doc_id, score in request.retrieved]
    canonical = json.dumps(
        {
            "provider": fingerprint,
            **data,
            "sample_index": sample_index,
            "occurrence": occurrence,
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


REQUESTS = [
    CompletionRequest.of([]),
    CompletionRequest((Message("user", "What is 2 + 2?"),), GenerationParams()),
    CompletionRequest(
        (Message("system", "Be brief."), Message("user", TRICKY)),
        GenerationParams(temperature=0.7, seed=11, stop=["\n\n"], max_tokens=64),
        (("doc-1", 0.5), ("doc-2", None)),
    ),
    CompletionRequest(
        (Message("user", "x" * 5000), Message("assistant", ""), Message("user", "\u2028\x00")),
        GenerationParams(n=5, top_p=0.9, logprobs=True, top_logprobs=3, presence_penalty=-0.5),
    ),
]


@pytest.mark.parametrize("request_", REQUESTS)
@pytest.mark.parametrize(("sample_index", "occurrence"), [(0, 0), (3, 0), (0, 2), (17, 5)])
def test_the_key_is_the_old_formulas(
    request_: CompletionRequest, sample_index: int, occurrence: int
) -> None:
    assert ResponseCache.key(FINGERPRINT, request_, sample_index, occurrence) == old_key(
        FINGERPRINT, request_, sample_index, occurrence
    )


def test_a_key_computed_by_the_old_code_is_unchanged() -> None:
    # Computed by promptlab before the shared encoder (commit 93bc3e5), for REQUESTS[2].
    assert (
        ResponseCache.key(FINGERPRINT, REQUESTS[2], 2, 1)
        == "fc38e0aeb2e8887655e8ebbcd829cbe00de3c49c172b73d0db354526eb32b799"
    )


@pytest.mark.parametrize("request_", REQUESTS)
async def test_the_cached_provider_keys_and_stores_as_before(
    tmp_path: Path, request_: CompletionRequest
) -> None:
    """Through the wrapper a cell uses: same keys (repeats too), same stored request text."""
    cache = ResponseCache(tmp_path)
    fake = FakeProvider(["Answer: 4"], cycle=True)
    checked = CompletionRequest(request_.messages, request_.params.without("n"), request_.retrieved)
    wrapper = CachedProvider(fake, cache, sample_index=4)
    await wrapper.complete(checked)
    await wrapper.complete(checked)
    cache.close()
    with sqlite3.connect(cache.path) as db:
        rows = dict(db.execute("SELECT key, request FROM responses").fetchall())
    fingerprint = fake.fingerprint()
    assert set(rows) == {old_key(fingerprint, checked, 4, n) for n in (0, 1)}
    for key, text in rows.items():
        assert hashlib.sha256(text.encode()).hexdigest() == key


def test_a_stored_completion_is_the_old_json_and_comes_back_with_no_calls(
    tmp_path: Path,
) -> None:
    completion = Completion(
        (
            Choice("Answer: é 😀", "stop", (TokenLogprob("Answer", -0.1, (("A", -0.2),)),), 0),
            Choice("Answer: 5", "length", None, 1),
        ),
        Usage(10, 4, 2),
        latency_s=0.25,
        model="m",
        provider="fake",
        cost_usd=None,
        calls=2,
    )
    cache = ResponseCache(tmp_path, flush_interval=0)
    cache.put("k", FINGERPRINT, REQUESTS[2], completion)
    with sqlite3.connect(cache.path) as db:
        request_text, completion_text = db.execute(
            "SELECT request, completion FROM responses WHERE key = 'k'"
        ).fetchone()
    assert completion_text == json.dumps(completion_to_dict(completion), ensure_ascii=False)
    assert request_text == json.dumps(
        {
            "provider": FINGERPRINT,
            "messages": [m.to_dict() for m in REQUESTS[2].messages],
            "params": REQUESTS[2].params.given_values(),
            "retrieved": [["doc-1", 0.5], ["doc-2", None]],
        },
        ensure_ascii=False,
    )
    hit = cache.get("k")
    cache.close()
    assert hit == Completion(
        completion.choices, completion.usage, 0.25, "m", "fake", cost_usd=None, calls=0
    )
    assert completion_from_dict(json.loads(completion_text)) == completion
