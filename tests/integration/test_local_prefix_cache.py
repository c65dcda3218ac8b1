"""KV-cache reuse across requests on the bundled model, and the two ways to call it.

Needs the ``local`` extra; in CI (CI=true) a model that cannot load fails the suite.
"""

from __future__ import annotations

import asyncio

import pytest

from promptlab import CompletionRequest, GenerationParams, LlamaCppProvider, Message

pytestmark = pytest.mark.local_model

SHARED = "Answer with one number and nothing else, please. " * 3


def request(question: str, **params: object) -> CompletionRequest:
    settings = {"temperature": 0.7, "seed": 4, "max_tokens": 4, **params}
    return CompletionRequest.of([Message("user", SHARED + question)], GenerationParams(**settings))


def logprobs(completion):
    return [[t.logprob for t in c.logprobs or ()] for c in completion.choices]


def test_a_reply_does_not_depend_on_what_ran_before(local_provider):
    # The same prompt after a prompt that shares its start, and on a provider that has run
    # nothing: the cached pieces are reused, and the reply is the same to the last bit.
    local_provider.complete_sync(request("What is 3 + 3?", logprobs=True))
    after = local_provider.complete_sync(request("What is 2 + 2?", logprobs=True))
    fresh = LlamaCppProvider().complete_sync(request("What is 2 + 2?", logprobs=True))
    assert after.usage.cached_input_tokens > 0  # the chat template's system turn was reused
    assert fresh.usage.cached_input_tokens == 0
    assert after.texts == fresh.texts
    assert logprobs(after) == logprobs(fresh)


def test_prefix_cache_longest_reuses_the_shared_start_of_a_message(local_provider):
    longest = LlamaCppProvider(prefix_cache="longest")
    cached = {}
    for name, provider in (("reproducible", local_provider), ("longest", longest)):
        provider.complete_sync(request("What is 3 + 3?"))
        cached[name] = provider.complete_sync(request("What is 2 + 2?")).usage.cached_input_tokens
    # Reproducible reuse stops at the last message boundary (the system turn); the
    # longest-prefix mode also reuses the shared sentence inside the user message.
    shared_sentence = len(longest._models[False].tokenize(SHARED.encode(), add_bos=False))
    assert cached["longest"] >= cached["reproducible"] + shared_sentence
    # A repeated prompt: both reuse everything but the last token.
    for provider in (local_provider, longest):
        again = provider.complete_sync(request("What is 2 + 2?"))
        assert again.usage.cached_input_tokens == again.usage.input_tokens - 1


def test_blocking_and_async_calls_give_the_same_completion(local_provider):
    assert type(local_provider)._generates_sync  # complete_sync skips the event loop
    seeded = request("What is 5 + 1?", n=2, logprobs=True)
    blocking = local_provider.complete_sync(seeded)
    awaited = asyncio.run(local_provider.complete(seeded))
    assert blocking.texts == awaited.texts
    assert logprobs(blocking) == logprobs(awaited)
    assert blocking.usage.output_tokens == awaited.usage.output_tokens
