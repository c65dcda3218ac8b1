"""The scorer contract, and scoring one cell with every scorer independently."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from promptlab.strategies.base import StrategyResult

__all__ = ["Score", "Scorer", "score_result"]


@dataclass(frozen=True)
class Score:
    """One scorer's verdict on one cell.

    Attributes:
        value: The score; 1.0/0.0 for right/wrong scorers, any float for graded ones,
            NaN when this scorer cannot score the cell (``note`` says why).
        note: Optional explanation or stored detail (a judge's reasoning, say).
    """

    value: float
    note: Any = None


@runtime_checkable
class Scorer(Protocol):
    """Scores a strategy result against a task.

    ``binary`` declares right/wrong scores (1.0 or 0.0) versus graded ones; it is recorded
    with the run's definition. The statistics choose their method from the scores
    themselves, not from this flag: McNemar and Wilson intervals when every score is 0 or 1,
    the Wilcoxon test and t intervals otherwise, so a right/wrong scorer averaged over
    repeats (fractions) gets the graded methods, as it must.
    """

    name: str
    binary: bool

    async def score(self, task: Any, result: StrategyResult) -> Score:
        """Score ``result`` for ``task`` (a :class:`~promptlab.experiments.tasks.Task`)."""
        ...


async def score_result(
    scorers: Iterable[Scorer], task: Any, result: StrategyResult
) -> tuple[dict[str, float], dict[str, Any]]:
    """Score one cell with each scorer on its own: ``(scores, notes)`` keyed by scorer name.

    One scorer's trouble never touches another's score: a scorer that raises, or returns
    something that is not a finite number (``inf``, a string), gets NaN for this cell with
    a note saying what happened, and the other scorers' values stand. NaN scores are left
    out of that scorer's statistics and counted as ``unscored``.

    Example:
        >>> scores, notes = await score_result(scorers, task, result)  # doctest: +SKIP
    """
    scores: dict[str, float] = {}
    notes: dict[str, Any] = {}
    for scorer in scorers:
        try:
            score = await scorer.score(task, result)
            value = float(score.value)
            note = score.note
        except Exception as exc:  # one scorer's bug or failed call must not sink the cell
            value, note = math.nan, f"scorer failed: {type(exc).__name__}: {exc}"
        if math.isinf(value):
            detail = f" ({note})" if note is not None else ""
            value, note = math.nan, f"score was {value!r}, not a finite number{detail}"
        scores[scorer.name] = value
        if note is not None:
            notes[scorer.name] = note
    return scores, notes
