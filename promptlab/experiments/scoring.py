"""The scorer contract: how a finished cell gets its scores."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from promptlab.strategies.base import StrategyResult


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

    ``binary`` tells the statistics which tests apply: True for right/wrong scores
    (McNemar, Wilson intervals), False for graded ones (Wilcoxon, t intervals).
    """

    name: str
    binary: bool

    async def score(self, task: Any, result: StrategyResult) -> Score:
        """Score ``result`` for ``task`` (a :class:`~promptlab.experiments.tasks.Task`)."""
        ...
