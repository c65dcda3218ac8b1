"""Few-shot examples chosen per task by similarity: :class:`SimilarExamples`.

The example pool is indexed once, with a retriever from :mod:`promptlab.retrieval`
(BM25 by default, or embeddings), each example one document whose text is its
``input_keys`` fields. For a task, the task's same fields are the query; the ``k`` best
examples are shown, most similar first. With ``mmr=True`` they are picked by maximal
marginal relevance instead, trading similarity to the task against similarity to the
examples already picked, so near-duplicates do not crowd out the rest.
"""

from __future__ import annotations

import copy
import json
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias

import numpy as np

from promptlab._checks import is_int, is_number
from promptlab.errors import ConfigurationError, DataError, MissingDependencyError
from promptlab.retrieval import BM25Retriever, Document, Embedder, EmbeddingRetriever, Retriever
from promptlab.strategies.description import settings_of
from promptlab.sync import run_sync

Example = Mapping[str, Any]

#: What ``retriever=`` accepts: None or ``"bm25"`` (the default), an embedding backend, or
#: a function that builds a retriever over the examples' documents.
RetrieverChoice: TypeAlias = "str | Embedder | Callable[[list[Document]], Retriever] | Any | None"

#: Candidates MMR chooses among when ``fetch_k`` is not given (LangChain's default too).
DEFAULT_FETCH_K = 20


class SimilarExamples:
    """Show each task the ``k`` examples most similar to it; optionally a diverse set (MMR).

    The counterpart of DSPy's ``KNNFewShot`` and LangChain's
    ``SemanticSimilarityExampleSelector`` / ``MaxMarginalRelevanceExampleSelector``, as a
    selector for :class:`~promptlab.strategies.few_shot.FewShot`
    (``FewShot(examples, selection=SimilarExamples(4))``, or ``selection="similar"``).

    Similarity is measured on the ``input_keys`` fields: an example's ``question`` (by
    default) against the task's ``question``. The pool is indexed once, when ``FewShot`` is
    built:

    - ``retriever=None`` or ``"bm25"``: :class:`~promptlab.retrieval.BM25Retriever`
      (keywords, no model; English stop words dropped). Examples that share no word with
      the task score 0 and fill any remaining places in file order, so a task always gets
      ``k`` examples.
    - an :class:`~promptlab.retrieval.Embedder` (or a LangChain ``Embeddings``):
      :class:`~promptlab.retrieval.EmbeddingRetriever`, cosine similarity of embeddings.
    - a function ``documents -> Retriever`` for any other retriever or setting, e.g.
      ``lambda docs: BM25Retriever(docs, chunk_size=None, stopwords=None)``; it must index
      each document whole (``chunk_size=None``), whose id is the example's position.

    Maximal marginal relevance (``mmr=True``; Carbonell and Goldstein, 1998) takes the
    ``fetch_k`` most similar examples and picks from them, one at a time, the one with the
    highest ``lambda_mult * relevance - (1 - lambda_mult) * (its highest similarity to an
    example already picked)``; ``lambda_mult=1`` is plain top-k, ``0`` is the most
    diverse. With embeddings, relevance and similarity are cosine similarities (as in
    LangChain). With BM25, relevance is the BM25 score divided by the best candidate's
    (so 1 for the best), and the similarity of two examples is the cosine similarity of
    their word counts, over the same words BM25 indexes (lowercased words of two or more
    letters or digits, stop words dropped), and only examples that share a word with the
    task are candidates. Other retrievers give no way to compare two examples, so MMR with
    them is an error.

    A task is never shown its own example: :class:`FewShot` leaves out the example whose
    id is the task's (when run in an experiment) and any whose ``question`` equals the
    task's, and this selector also leaves out any whose ``input_keys`` text equals the
    task's (ignoring case and runs of spaces).

    Args:
        k: Examples to show; None takes ``FewShot``'s ``k``.
        retriever: How to search the pool (see above).
        mmr: Pick a diverse set by maximal marginal relevance.
        lambda_mult: MMR's weight on relevance, in [0, 1].
        fetch_k: Candidates MMR picks from (at least ``k`` are always fetched).
        input_keys: The fields compared, in both the examples and the task.

    Example:
        >>> shots = [{"question": "What is 2 + 2?", "answer": "4"}, ...]
        >>> strategy = FewShot(shots, selection=SimilarExamples(4, mmr=True))
        >>> [e["question"] for e in strategy.select_examples({"question": "What is 3 + 3?"})]
    """

    def __init__(
        self,
        k: int | None = None,
        *,
        retriever: RetrieverChoice = None,
        mmr: bool = False,
        lambda_mult: float = 0.5,
        fetch_k: int = DEFAULT_FETCH_K,
        input_keys: Sequence[str] = ("question",),
    ) -> None:
        if k is not None and (not is_int(k) or k < 1):
            raise ConfigurationError(f"k={k!r} is not allowed: give an integer >= 1, or None.")
        if not isinstance(mmr, bool):
            raise ConfigurationError(f"mmr={mmr!r} is not allowed: give True or False.")
        if not is_number(lambda_mult) or not 0.0 <= lambda_mult <= 1.0:
            raise ConfigurationError(
                f"lambda_mult={lambda_mult!r} is not allowed: give a number from 0 (most "
                "diverse) to 1 (most similar)."
            )
        if not is_int(fetch_k) or fetch_k < 1:
            raise ConfigurationError(f"fetch_k={fetch_k!r} is not allowed: give an integer >= 1.")
        keys = [input_keys] if isinstance(input_keys, str) else list(input_keys)
        if not keys or not all(isinstance(key, str) and key for key in keys):
            raise ConfigurationError(
                f"input_keys={input_keys!r} is not allowed: give the names of the fields to "
                "compare, e.g. ['question']."
            )
        self.k = k
        self.mmr = mmr
        self.lambda_mult = float(lambda_mult)
        self.fetch_k = fetch_k
        self.input_keys = tuple(keys)
        self.retriever = _checked_choice(retriever)
        self._index: _ExampleIndex | None = None

    def describe(self) -> dict[str, Any]:
        """The selector's settings, for :meth:`FewShot.describe` and run fingerprints.

        Once the pool is indexed the retriever is described by its fingerprint (its
        settings, and for embeddings the model), so changing any of them changes the
        definition of an experiment that uses it.
        """
        description: dict[str, Any] = {
            "type": "SimilarExamples",
            "k": self.k,
            "input_keys": list(self.input_keys),
            "retriever": (
                self._index.retriever.fingerprint()
                if self._index is not None
                else _describe_choice(self.retriever)
            ),
            "mmr": self.mmr,
        }
        if self.mmr:
            description.update(lambda_mult=self.lambda_mult, fetch_k=self.fetch_k)
        return description

    def prepare(self, examples: Sequence[Example], k: int) -> SimilarExamples:
        """A copy of this selector with ``examples`` indexed, once.

        :class:`FewShot` calls it when it is built and keeps the copy, so one selector
        given to several ``FewShot`` strategies indexes each one's examples apart.

        Raises:
            ConfigurationError: The pool is empty, ``k`` is larger than the pool, or MMR was
                asked of a retriever that cannot compare two examples.
            DataError: An example lacks one of the ``input_keys`` or leaves them empty.
        """
        if not examples:
            raise ConfigurationError(
                "SimilarExamples needs at least one example; the pool is empty."
            )
        if k > len(examples):
            raise ConfigurationError(
                f"k={k} is more than the {len(examples)} example(s) in the pool: lower k or "
                "add examples (a task's own example is also left out of its pool)."
            )
        prepared = copy.copy(self)
        prepared._index = _ExampleIndex(examples, self)
        return prepared

    async def aselect(
        self, examples: Sequence[Example], inputs: Mapping[str, Any], k: int
    ) -> list[Example]:
        """The ``k`` examples of ``examples`` to show for ``inputs``, most similar first.

        ``examples`` is the task's pool: the prepared examples minus any left out for this
        task. Examples not prepared before are indexed now (standalone use).
        """
        index = self._index
        if index is None or not index.covers(examples):
            index = self._index = self.prepare(examples, min(k, len(examples)) or 1)._index
        if index is None:  # prepare() always sets it; this keeps the type checker informed
            raise RuntimeError("SimilarExamples: the pool was not indexed")
        query = self._query(inputs)
        allowed = index.allowed(examples, _normal(query))
        if not allowed:
            return []
        ranked = await index.ranked(query, allowed)
        chosen = [position for position, _ in ranked[:k]]
        if self.mmr:
            chosen = await self._diverse(index, ranked, k)
        return [index.examples[position] for position in chosen]

    async def _diverse(
        self, index: _ExampleIndex, ranked: list[tuple[int, float]], k: int
    ) -> list[int]:
        """MMR over the ``fetch_k`` best; with BM25, only over examples that matched a word
        (those that did not fill any places left, in file order, as without MMR)."""
        candidates = ranked[: max(self.fetch_k, k)]
        if index.kind == "bm25":
            candidates = [(position, score) for position, score in candidates if score > 0]
        positions = [position for position, _ in candidates]
        if len(positions) > 1:
            relevance = np.array([score for _, score in candidates], dtype=np.float64)
            if index.kind == "bm25":
                relevance = relevance / relevance.max()
            similarity = await index.similarity(positions)
            order = mmr_order(relevance, similarity, min(k, len(positions)), self.lambda_mult)
            positions = [positions[i] for i in order]
        picked = set(positions)
        rest = [position for position, _ in ranked if position not in picked]
        return (positions + rest)[:k]

    def select(
        self, examples: Sequence[Example], inputs: Mapping[str, Any], k: int
    ) -> list[Example]:
        """Blocking :meth:`aselect` (the :class:`ExampleSelector` protocol)."""
        return run_sync(self.aselect(examples, inputs, k))

    def _query(self, inputs: Mapping[str, Any]) -> str:
        missing = [key for key in self.input_keys if key not in inputs]
        if missing:
            raise ConfigurationError(
                f"SimilarExamples compares the task's {missing[0]!r} field (input_keys="
                f"{list(self.input_keys)}), but the task's inputs are {sorted(inputs)}. Set "
                "input_keys to the fields that hold the question."
            )
        return "\n".join(str(inputs[key]) for key in self.input_keys)

    def __repr__(self) -> str:
        mmr = f", mmr=True, lambda_mult={self.lambda_mult}" if self.mmr else ""
        return f"SimilarExamples(k={self.k}{mmr})"


class _ExampleIndex:
    """The prepared pool: its examples, their texts, and a retriever over them."""

    def __init__(self, examples: Sequence[Example], selector: SimilarExamples) -> None:
        self.examples = list(examples)
        self.texts = [_example_text(e, i, selector.input_keys) for i, e in enumerate(examples)]
        self.normal_texts = [_normal(text) for text in self.texts]
        self.positions: dict[str, int] = {}
        for position, example in enumerate(self.examples):
            self.positions.setdefault(_content_key(example), position)
        documents = [Document(str(i), text) for i, text in enumerate(self.texts)]
        self.retriever = _build_retriever(selector.retriever, documents)
        self.kind = _kind_of(self.retriever)
        if selector.mmr and self.kind == "other":
            raise ConfigurationError(
                f"mmr=True needs a retriever that can compare two examples: BM25Retriever "
                f"or EmbeddingRetriever, not {type(self.retriever).__name__}. Use one of "
                "them, or set mmr=False."
            )
        self._word_counts: list[Counter[str]] | None = None

    def covers(self, examples: Sequence[Example]) -> bool:
        return all(_content_key(example) in self.positions for example in examples)

    def allowed(self, examples: Sequence[Example], normal_query: str) -> list[int]:
        """Positions of the pool's examples, minus any whose text is the task's."""
        positions = dict.fromkeys(self.positions[_content_key(e)] for e in examples)
        return [p for p in positions if self.normal_texts[p] != normal_query]

    async def ranked(self, query: str, allowed: list[int]) -> list[tuple[int, float]]:
        """Every allowed position with its score, best first; unscored ones last, in order."""
        documents = await self.retriever.retrieve(query, k=len(self.texts))
        permitted = set(allowed)
        ranked: dict[int, float] = {}
        for doc in documents:
            position = self._position_of(doc.id)
            if position in permitted and position not in ranked:
                ranked[position] = float(doc.score) if doc.score is not None else 0.0
        rest = [(position, 0.0) for position in allowed if position not in ranked]
        return [*ranked.items(), *rest]

    async def similarity(self, positions: list[int]) -> np.ndarray:
        """Pairwise similarity of these examples (cosine of embeddings or word counts)."""
        if isinstance(self.retriever, EmbeddingRetriever):
            vectors = await self.retriever.vectors_of([str(p) for p in positions])
            return np.asarray(vectors @ vectors.T, dtype=np.float64)
        counts = self._counts()
        rows = [counts[p] for p in positions]
        size = len(rows)
        matrix = np.eye(size)
        for i in range(size):
            for j in range(i + 1, size):
                matrix[i, j] = matrix[j, i] = _cosine(rows[i], rows[j])
        return matrix

    def _counts(self) -> list[Counter[str]]:
        if self._word_counts is None:
            stopwords = self.retriever.settings["stopwords"]  # type: ignore[attr-defined]
            tokens = _bm25s().tokenize(
                self.texts,
                stopwords=[] if stopwords is None else stopwords,
                return_ids=False,
                show_progress=False,
            )
            self._word_counts = [Counter(words) for words in tokens]
        return self._word_counts

    def _position_of(self, doc_id: str) -> int:
        if doc_id.isdigit() and int(doc_id) < len(self.texts):
            return int(doc_id)
        raise ConfigurationError(
            f"the retriever returned a document with id {doc_id!r}, which is not an example: "
            "build it over the documents it is given, each whole (chunk_size=None), keeping "
            "their ids."
        )


def mmr_order(
    relevance: np.ndarray, similarity: np.ndarray, k: int, lambda_mult: float
) -> list[int]:
    """Indices of ``k`` candidates in maximal-marginal-relevance order.

    The first is the most relevant; each next one maximises ``lambda_mult * relevance -
    (1 - lambda_mult) * max similarity to those already chosen``. Ties go to the earlier
    candidate.

    Example:
        >>> sim = np.array([[1, 0.99, 0], [0.99, 1, 0], [0, 0, 1.0]])
        >>> mmr_order(np.array([1.0, 0.98, 0.5]), sim, 2, 0.5)
        [0, 2]
    """
    count = len(relevance)
    chosen = [int(np.argmax(relevance))] if count else []
    if not chosen:
        return chosen
    closest = np.array(similarity[chosen[0]], dtype=np.float64)
    while len(chosen) < min(k, count):
        marginal = lambda_mult * relevance - (1.0 - lambda_mult) * closest
        marginal[chosen] = -np.inf
        best = int(np.argmax(marginal))
        chosen.append(best)
        closest = np.maximum(closest, similarity[best])
    return chosen


def _checked_choice(choice: Any) -> Any:
    if choice is None or choice == "bm25":
        return None
    if isinstance(choice, Retriever):
        raise ConfigurationError(
            f"retriever={type(choice).__name__}(...) is a ready-built retriever over another "
            "corpus. SimilarExamples searches the examples themselves: pass an Embedder, or a "
            "function that builds a retriever from the documents it is given, e.g. "
            "lambda docs: BM25Retriever(docs, chunk_size=None)."
        )
    if isinstance(choice, Embedder) or _is_langchain_embeddings(choice):
        return choice
    if isinstance(choice, str) or not callable(choice):
        raise ConfigurationError(
            f"retriever={choice!r} is not allowed: give None or 'bm25', an Embedder (or "
            "LangChain Embeddings), or a function documents -> Retriever."
        )
    return choice


def _is_langchain_embeddings(value: Any) -> bool:
    return hasattr(value, "embed_documents") and hasattr(value, "embed_query")


def _describe_choice(choice: Any) -> Any:
    if choice is None:
        return {"type": "bm25"}
    if isinstance(choice, Embedder):
        return choice.fingerprint()
    return settings_of(choice)


def _build_retriever(choice: Any, documents: list[Document]) -> Retriever:
    if choice is None:
        return BM25Retriever(documents, chunk_size=None)
    if isinstance(choice, Embedder) or _is_langchain_embeddings(choice):
        return EmbeddingRetriever(documents, choice, chunk_size=None)
    retriever = choice(documents)
    if not isinstance(retriever, Retriever):
        raise ConfigurationError(
            f"the retriever function returned {type(retriever).__name__}, not a Retriever."
        )
    chunks = getattr(retriever, "chunks", None)
    if isinstance(chunks, list) and [c.id for c in chunks] != [d.id for d in documents]:
        raise ConfigurationError(
            f"{type(retriever).__name__} split the examples into chunks: build it with "
            "chunk_size=None, so that each example is one document."
        )
    return retriever


def _kind_of(retriever: Retriever) -> str:
    if isinstance(retriever, EmbeddingRetriever):
        return "embedding"
    if isinstance(retriever, BM25Retriever):
        return "bm25"
    return "other"


def _example_text(example: Example, position: int, keys: tuple[str, ...]) -> str:
    missing = [key for key in keys if key not in example]
    if missing:
        raise DataError(
            f"example {position + 1} has no {missing[0]!r} field, which SimilarExamples compares "
            f"(input_keys={list(keys)}). Add it, or set input_keys.",
            source="the few-shot examples",
            field=missing[0],
        )
    text = "\n".join(str(example[key]) for key in keys)
    if not text.strip():
        raise DataError(
            f"example {position + 1} has nothing in {list(keys)} to compare.",
            source="the few-shot examples",
            field=keys[0],
        )
    return text


def _content_key(example: Example) -> str:
    return json.dumps(dict(example), sort_keys=True, default=str)


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    dot = sum(count * b[word] for word, count in a.items())
    norm = math.sqrt(sum(c * c for c in a.values())) * math.sqrt(sum(c * c for c in b.values()))
    return dot / norm if norm else 0.0


def _bm25s() -> Any:
    try:
        import bm25s
    except ImportError:
        raise MissingDependencyError("bm25s", "retrieval", "SimilarExamples with BM25") from None
    return bm25s
