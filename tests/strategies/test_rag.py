"""RAG: passages retrieved once per task reach the prompt as ``context``, compose with the
other strategies, land in the result and in the cache key, and bad setups fail clearly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from promptlab.completion import CompletionRequest
from promptlab.errors import (
    ConfigurationError,
    EmptyQueryError,
    MissingQueryFieldError,
    TemplateSecurityError,
)
from promptlab.providers.cache import CachedProvider, ResponseCache
from promptlab.retrieval import BM25Retriever, Document, Retriever
from promptlab.strategies import RAG, ChainOfThought, FewShot, SelfConsistency, ZeroShot
from promptlab.testing import FakeProvider
from tests.retrieval.town_corpus import PASSAGES

BAKERY = "Which day is the bakery closed?"
SHOTS = [
    {"question": "What colour is the sky?", "answer": "blue", "rationale": "It scatters blue."},
    {"question": "How many legs has a cat?", "answer": "4", "rationale": "Cats walk on four."},
]


class CountingRetriever(Retriever):
    """A BM25 retriever over the town corpus that counts its searches."""

    def __init__(self, passages: list[dict[str, str]] = PASSAGES) -> None:
        super().__init__()
        self.inner = BM25Retriever(passages, chunk_size=None)
        self.queries: list[str] = []

    async def _retrieve(self, query: str, k: int) -> list[Document]:
        self.queries.append(query)
        return await self.inner.retrieve(query, k)

    def fingerprint(self) -> dict[str, Any]:
        return {**super().fingerprint(), "inner": self.inner.fingerprint()}


def user_turn(request: CompletionRequest) -> str:
    return request.messages[-1].content


def test_the_passages_reach_the_prompt_and_the_result() -> None:
    fake = FakeProvider(["Answer: Monday"])
    result = RAG(ZeroShot(), BM25Retriever(PASSAGES), k=2).run({"question": BAKERY}, fake)
    prompt = user_turn(fake.requests[0])
    assert result.template == "zero_shot_context"
    assert "Passage 1: The only bakery in town, Mott & Daughters" in prompt
    assert prompt.index("Passage 1") < prompt.index(f"Question: {BAKERY}")
    assert result.answer == "monday"
    top = result.retrieved[0]
    assert isinstance(top, Document) and top.id == "bakery" and top.score is not None
    assert top.metadata["title"] == "Bakery"
    assert len(result.retrieved) <= 2


def test_self_consistency_over_cot_over_rag_retrieves_once_and_every_sample_sees_it() -> None:
    retriever = CountingRetriever()
    strategy = SelfConsistency(ChainOfThought(RAG(ZeroShot(), retriever, k=3)), n=4)
    fake = FakeProvider(["Step... Answer: Monday"], cycle=True)
    result = strategy.run({"question": BAKERY}, fake)
    assert retriever.queries == [BAKERY]
    assert result.template == "chain_of_thought_context"
    assert result.answer == "monday" and result.votes == {"monday": 4}
    assert result.retrieved[0].id == "bakery"
    assert fake.requests and all(
        "Mott & Daughters" in user_turn(r) and "Let's think step by step" in user_turn(r)
        for r in fake.requests
    )
    ids_and_scores = tuple((d.id, d.score) for d in result.retrieved)
    assert {r.retrieved for r in fake.requests} == {ids_and_scores}


def test_rag_over_few_shot_shows_the_examples_then_the_passages() -> None:
    fake = FakeProvider(["Answer: Monday"])
    strategy = RAG(FewShot(SHOTS, k=2), BM25Retriever(PASSAGES), k=1)
    result = strategy.run({"question": BAKERY}, fake)
    messages = fake.requests[0].messages
    assert result.template == "few_shot_context"
    assert [m.role for m in messages] == ["user", "assistant", "user", "assistant", "user"]
    assert messages[0].content.startswith("What colour is the sky?")
    assert "Passage 1: The only bakery" in messages[-1].content
    assert "Passage" not in messages[0].content
    assert len(result.shots) == 2 and [d.id for d in result.retrieved] == ["bakery"]


def test_each_wrapping_picks_the_matching_context_template() -> None:
    docs = BM25Retriever(PASSAGES)
    cases = {
        "chain_of_thought_context": RAG(ChainOfThought(), docs),
        "chain_of_thought_few_shot_context": ChainOfThought(RAG(FewShot(SHOTS), docs)),
        "few_shot_context": SelfConsistency(RAG(FewShot(SHOTS), docs), n=2),
    }
    for expected, strategy in cases.items():
        assert strategy.template.name == expected, strategy.name
    fake = FakeProvider(["r\nAnswer: Monday"], cycle=True)
    result = cases["chain_of_thought_few_shot_context"].run({"question": BAKERY}, fake)
    prompt = user_turn(fake.requests[0])
    assert "Mott & Daughters" in prompt and "Let's think step by step" in prompt
    assert fake.requests[0].messages[1].content.startswith("It scatters blue.")
    assert result.answer == "monday"


def test_a_user_template_gets_context_and_one_without_it_is_refused() -> None:
    own = "{% user %}{% for doc in context %}<{{ doc.id }}:{{ doc.score | round(1) }}>{% endfor %} {{ question }}{% enduser %}"  # noqa: E501
    fake = FakeProvider(["Answer: x"])
    RAG(ZeroShot(own), BM25Retriever(PASSAGES), k=1).run({"question": BAKERY}, fake)
    assert user_turn(fake.requests[0]).startswith("<bakery:")
    with pytest.raises(ConfigurationError, match="does not use the variable 'context'"):
        RAG(ZeroShot("{% user %}{{ question }}{% enduser %}"), BM25Retriever(PASSAGES))


def test_a_custom_query_renders_over_the_task_fields() -> None:
    retriever = CountingRetriever()
    strategy = RAG(ZeroShot(), retriever, query="{{ topic }} {{ question | lower }}")
    strategy.run({"question": "Which DAY?", "topic": "bakery"}, FakeProvider(["Answer: x"]))
    assert retriever.queries == ["bakery which day?"]


def test_a_query_field_the_task_lacks_is_a_clear_error() -> None:
    strategy = RAG(ZeroShot(), BM25Retriever(PASSAGES), query="{{ topic }}")
    with pytest.raises(MissingQueryFieldError, match="uses the task field 'topic'") as info:
        strategy.run({"question": BAKERY}, FakeProvider())
    assert info.value.given == ["question"]


def test_an_empty_query_and_an_unsafe_query_are_clear_errors() -> None:
    with pytest.raises(EmptyQueryError):
        RAG(ZeroShot(), BM25Retriever(PASSAGES)).run({"question": "  "}, FakeProvider())
    unsafe = RAG(ZeroShot(), BM25Retriever(PASSAGES), query="{{ question.__class__ }}")
    with pytest.raises(TemplateSecurityError, match="sandbox"):
        unsafe.run({"question": BAKERY}, FakeProvider())


def test_bad_compositions_are_refused_with_what_to_do() -> None:
    docs = BM25Retriever(PASSAGES)
    with pytest.raises(ConfigurationError, match=r"put RAG inside it"):
        RAG(SelfConsistency(ZeroShot(), n=3), docs)
    with pytest.raises(ConfigurationError, match="RAG inside RAG"):
        RAG(RAG(ZeroShot(), docs), docs)
    with pytest.raises(ConfigurationError, match="needs an async retrieve"):
        RAG(ZeroShot(), object())
    with pytest.raises(ConfigurationError, match="k=0 is not allowed"):
        RAG(ZeroShot(), docs, k=0)
    with pytest.raises(ConfigurationError, match="the variable RAG fills"):
        RAG(ZeroShot(), docs).run({"question": BAKERY, "context": "mine"}, FakeProvider())


def test_render_previews_the_prompt_with_the_passages() -> None:
    messages = RAG(ZeroShot(), BM25Retriever(PASSAGES), k=1).render({"question": BAKERY})
    assert "Mott & Daughters" in messages[-1].content


def test_describe_holds_the_retriever_identity_and_changes_with_the_corpus() -> None:
    first = RAG(ZeroShot(), BM25Retriever(PASSAGES), k=2).describe()
    same = RAG(ZeroShot(), BM25Retriever(PASSAGES), k=2).describe()
    edited = [{**PASSAGES[0], "text": PASSAGES[0]["text"] + " New."}, *PASSAGES[1:]]
    changed = RAG(ZeroShot(), BM25Retriever(edited), k=2).describe()
    assert first == same
    assert first["retriever"]["class"].endswith("BM25Retriever")
    assert first["retriever"]["index"] != changed["retriever"]["index"]
    assert (first["k"], first["query"], first["base"]["type"]) == (2, "{{ question }}", "ZeroShot")
    assert RAG(ZeroShot(), BM25Retriever(PASSAGES), k=3).describe() != first


async def test_a_changed_index_is_a_cache_miss_even_when_the_prompt_is_the_same(
    tmp_path: Path,
) -> None:
    # This template shows only whether there is context, so both indexes render alike.
    same_prompt = "{% user %}{{ question }}{% if context %} (with notes){% endif %}{% enduser %}"
    cache = ResponseCache(tmp_path)
    fake = FakeProvider(["Answer: Monday"], cycle=True)
    other = [{**p, "id": f"v2-{p['id']}"} for p in PASSAGES]
    runs = []
    for passages in (PASSAGES, PASSAGES, other):
        provider = CachedProvider(fake, cache, sample_index=0)
        strategy = RAG(ZeroShot(same_prompt), BM25Retriever(passages), k=2)
        result = await strategy.arun({"question": BAKERY}, provider)
        runs.append((provider.hits, provider.misses, result.messages))
    assert runs[0][2] == runs[2][2]  # the rendered prompts are identical...
    assert [(hits, misses) for hits, misses, _ in runs] == [(0, 1), (1, 0), (0, 1)]
    assert len(fake.requests) == 2  # ...yet the new index's ids made a new request


def test_retrieved_ids_and_scores_are_in_the_request_key() -> None:
    fingerprint = FakeProvider().fingerprint()
    plain = CompletionRequest.of([])
    keyed = CompletionRequest(plain.messages, plain.params, (("bakery", 2.5),))
    rescored = CompletionRequest(plain.messages, plain.params, (("bakery", 1.0),))
    keys = {ResponseCache.key(fingerprint, r, 0, 0) for r in (plain, keyed, rescored)}
    assert len(keys) == 3
    assert keyed.for_samples(0, 2).retrieved == keyed.retrieved


def test_k_defaults_to_the_retrievers_own_k() -> None:
    assert RAG(ZeroShot(), BM25Retriever(PASSAGES)).k == 4
    assert RAG(ZeroShot(), BM25Retriever(PASSAGES, k=2)).k == 2
    assert RAG(ZeroShot(), BM25Retriever(PASSAGES, k=2), k=3).k == 3
    result = RAG(ZeroShot(), BM25Retriever(PASSAGES, k=1)).run(
        {"question": "Varnholm harbour school railway"}, FakeProvider()
    )
    assert len(result.retrieved) == 1
