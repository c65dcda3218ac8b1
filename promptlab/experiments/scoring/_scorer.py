"""The scorer contract, a scorer from your own function, and scoring one cell with every scorer."""

from __future__ import annotations

import inspect
import math
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from promptlab.errors import ConfigurationError
from promptlab.providers.base import Provider
from promptlab.strategies.base import StrategyResult

__all__ = ["CallableScorer", "Score", "Scorer", "score_result"]


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
    scorers: Iterable[Scorer],
    task: Any,
    result: StrategyResult,
    provider: Provider | None = None,
) -> tuple[dict[str, float], dict[str, Any]]:
    """Score one cell with each scorer on its own: ``(scores, notes)`` keyed by scorer name.

    ``provider`` is the cell's provider. A scorer that measures the cell's model itself
    (:class:`~promptlab.experiments.scoring.ReferencePerplexity`) has a
    ``score_with_provider(task, result, provider)`` method, called with it; rescoring
    stored cells passes None, and such a scorer falls back to ``score``.

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
            with_provider = getattr(scorer, "score_with_provider", None)
            if provider is not None and with_provider is not None:
                score = await with_provider(task, result, provider)
            else:
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


ScoreFunction = Callable[[Any, StrategyResult], "float | bool | Score | Awaitable[Any]"]


class CallableScorer:
    """Score with your own function ``fn(task, result) -> float | bool | Score``.

    The function may be ``async``. A bool becomes 1.0/0.0; a float is used as is.

    Args:
        fn: The scoring function.
        name: Score name (default: the function's ``__name__``).
        binary: True when the function returns right/wrong scores (default), False for
            graded ones; it decides which statistics apply.

    Example:
        >>> short = CallableScorer(lambda task, r: len(r.text) < 200, name="short")
    """

    def __init__(self, fn: ScoreFunction, *, name: str | None = None, binary: bool = True) -> None:
        if not callable(fn):
            raise ConfigurationError(
                f"CallableScorer fn={fn!r} is not callable: pass a function "
                f"fn(task, result) -> float | bool | Score."
            )
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "callable")
        if self.name == "<lambda>":
            self.name = "callable"
        self.binary = binary

    async def score(self, task: Any, result: StrategyResult) -> Score:
        """Call the function and turn its return value into a :class:`Score`."""
        value = self.fn(task, result)
        if inspect.isawaitable(value):
            value = await value
        if isinstance(value, Score):
            return value
        if isinstance(value, (bool, int, float)):
            return Score(float(value))
        raise ConfigurationError(
            f"Scorer {self.name!r} returned {value!r} ({type(value).__name__}); a scoring "
            f"function must return a float, a bool or a Score."
        )
