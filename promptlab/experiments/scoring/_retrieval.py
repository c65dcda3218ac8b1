"""Scoring retrieval itself: recall@k and reciprocal rank against a task's gold passage ids.

A retrieval-augmented arm (:class:`~promptlab.strategies.rag.RAG`) keeps the passages it
retrieved for each task (``StrategyResult.retrieved``, and ``retrieved`` in each cell
record), best first. A task set that knows which passages answer each question lists
their ids in a task field, ``gold_ids`` by default (``gold_field`` names another)::

    {"id": "q1", "question": "Who founded the town?", "answer": "Aldo", "gold_ids": ["p01"]}

- :class:`RecallAtK`: the share of a task's gold ids among the first ``k`` passages
  retrieved (all of them when ``k`` is None); 1.0 or 0.0 when a task has one gold id.
- :class:`MeanReciprocalRank`: ``1 / rank`` of the first gold passage retrieved (0 when
  none is), so the mean over tasks, which the summary reports, is the MRR.

A passage counts as gold when its id is a gold id, or is a chunk of one
(``"<id>#<n>"``, see :func:`~promptlab.retrieval.chunk_documents`); several chunks of
one gold document count once for recall. A task without gold ids, and an arm that does
not retrieve, score NaN with a note (unscored, left out of the statistics), never 0.
A RAG arm that retrieved nothing for a task scores 0: the retriever missed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from promptlab._checks import is_int
from promptlab.errors import ConfigurationError, DataError
from promptlab.experiments.scoring._scorer import Score
from promptlab.strategies.base import StrategyResult

__all__ = ["DEFAULT_GOLD_FIELD", "MeanReciprocalRank", "RecallAtK", "gold_ids"]

#: The task field that lists a task's gold passage ids, unless a scorer names another.
DEFAULT_GOLD_FIELD = "gold_ids"


def gold_ids(task: Any, field: str) -> list[str] | None:
    """The gold passage ids in the task's ``field``, or None when it has none.

    The field holds a list of ids (strings or integers), or a single id.

    Raises:
        DataError: The field holds something else.
    """
    inputs = task.get("inputs", {}) if isinstance(task, Mapping) else getattr(task, "inputs", {})
    value = inputs.get(field) if isinstance(inputs, Mapping) else None
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str) or is_int(value):
        return [str(value)]
    if isinstance(value, Sequence) and all(isinstance(v, str) or is_int(v) for v in value):
        return [str(v) for v in value]
    raise DataError(
        f"the gold passage ids must be a list of ids (strings or integers), not {value!r}.",
        source=f"task {getattr(task, 'id', '?')}",
        field=field,
    )


def _is_chunk_of(passage_id: str, gold: str) -> bool:
    return passage_id == gold or passage_id.startswith(gold + "#")


class _RetrievalScorer:
    binary = False

    def __init__(self, name: str, gold_field: str) -> None:
        if not isinstance(gold_field, str) or not gold_field:
            raise ConfigurationError(
                f"gold_field={gold_field!r} is not allowed: name the task field that lists "
                f"the gold passage ids (default {DEFAULT_GOLD_FIELD!r})."
            )
        self.name = name
        self.gold_field = gold_field

    async def score(self, task: Any, result: StrategyResult) -> Score:
        gold = gold_ids(task, self.gold_field)
        if gold is None:
            return Score(
                math.nan,
                f"the task has no gold passage ids (field {self.gold_field!r}), so its "
                "retrieval cannot be scored",
            )
        if not result.retrieved and "RAG(" not in result.strategy:
            return Score(math.nan, "this arm does not retrieve passages (not a RAG arm)")
        return Score(self._value([doc.id for doc in result.retrieved], gold))

    def _value(self, retrieved: list[str], gold: list[str]) -> float:
        raise NotImplementedError


class RecallAtK(_RetrievalScorer):
    """Recall@k: the share of a task's gold passages among the first ``k`` retrieved.

    Args:
        k: How many of the retrieved passages count (best first); all of them when None.
        gold_field: The task field listing the gold passage ids.
        name: Score name; ``"recall@<k>"`` (``"recall"`` without ``k``) by default.

    Example:
        >>> RecallAtK(k=3).name
        'recall@3'
    """

    def __init__(
        self, k: int | None = None, *, gold_field: str = DEFAULT_GOLD_FIELD, name: str | None = None
    ) -> None:
        if k is not None and (not is_int(k) or k < 1):
            raise ConfigurationError(
                f"k={k!r} is not allowed: give the number of retrieved passages to count, an "
                "integer >= 1, or leave it out to count them all."
            )
        super().__init__(name or (f"recall@{k}" if k is not None else "recall"), gold_field)
        self.k = k

    def _value(self, retrieved: list[str], gold: list[str]) -> float:
        top = retrieved if self.k is None else retrieved[: self.k]
        unique = list(dict.fromkeys(gold))
        found = sum(1 for g in unique if any(_is_chunk_of(p, g) for p in top))
        return found / len(unique)


class MeanReciprocalRank(_RetrievalScorer):
    """Reciprocal rank of the first gold passage retrieved; its mean over tasks is the MRR.

    A task whose gold passage comes first scores 1.0, second 0.5, third 1/3; a task
    whose gold passages were not retrieved at all scores 0.

    Args:
        gold_field: The task field listing the gold passage ids.
        name: Score name (default ``"mrr"``).
    """

    def __init__(self, *, gold_field: str = DEFAULT_GOLD_FIELD, name: str = "mrr") -> None:
        super().__init__(name, gold_field)

    def _value(self, retrieved: list[str], gold: list[str]) -> float:
        for rank, passage in enumerate(retrieved, start=1):
            if any(_is_chunk_of(passage, g) for g in gold):
                return 1.0 / rank
        return 0.0
