"""Scorers that compare the answer with the task's expected answer.

Every scorer follows the :class:`~promptlab.experiments.scoring.Scorer` contract: a
``name`` (the key under ``CellRecord.scores``), ``binary`` (True for right/wrong scores),
and ``async score(task, result) -> Score``.

Two kinds of input are read:

- **Scorers that compare with the expected answer** (exact, normalized, numeric,
  contains, choice) read ``result.answer``, the final answer (the vote winner for
  self-consistency), and normalise the task's expected answer the same way. A cell with
  no answer scores 0 (wrong), never NaN: "the model gave no answer" is a wrong answer.
- **Scorers that check the reply itself** (regex, json_valid) read the reply text: for
  self-consistency, the first sample whose answer won the vote. ``target=`` switches
  either kind to the other input.

Reply-form scorers live in :mod:`promptlab.experiments.scoring`, the LLM judge in
:mod:`promptlab.experiments.scoring`, perplexity in :mod:`promptlab.experiments.scoring`;
:mod:`promptlab.experiments.config` gathers them all and builds them from specs.

Example:
    >>> scorer = NumericMatch(tolerance=0.01)
    >>> scorer.matches("3.14159", "3.14")
    True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from typing import Any, Literal

from promptlab._checks import is_number
from promptlab.answers import ChoiceAnswer, NumericAnswer, TextAnswer
from promptlab.errors import ConfigurationError
from promptlab.experiments.scoring._scorer import Score
from promptlab.strategies.base import StrategyResult

__all__ = [
    "ChoiceMatch",
    "Contains",
    "ExactMatch",
    "NormalizedMatch",
    "NumericMatch",
    "Target",
    "check_target",
    "expected_answer",
    "reply_text",
]

Target = Literal["answer", "text"]
_TARGETS = ("answer", "text")


def expected_answer(task: Any) -> Any:
    """The expected answer of a task: its ``expected`` attribute, or key of a mapping."""
    if isinstance(task, Mapping):
        return task.get("expected")
    return getattr(task, "expected", None)


def reply_text(result: StrategyResult) -> str:
    """The reply that produced the final answer (the first winning sample), else the first."""
    for sample in result.samples:
        if result.answer is not None and sample.answer == result.answer:
            return sample.text
    return result.text


def target_text(result: StrategyResult, target: str) -> str | None:
    """What a scorer with ``target`` reads: the extracted answer or the reply text."""
    return result.answer if target == "answer" else reply_text(result)


NO_ANSWER = "no answer could be extracted from the reply"


def check_target(target: str) -> None:
    """Raise :class:`ConfigurationError` unless ``target`` is ``'answer'`` or ``'text'``."""
    if target not in _TARGETS:
        raise ConfigurationError(
            f"target={target!r} is not allowed: use 'answer' (the extracted final answer) "
            f"or 'text' (the raw reply)."
        )


class _MatchScorer:
    """Shared logic: read the answer (or text), normalise both sides, 1.0 if they match."""

    name = "match"
    binary = True

    def __init__(self, *, name: str | None = None, target: Target = "answer") -> None:
        check_target(target)
        if name is not None:
            self.name = name
        self.target = target

    def matches(self, candidate: str, expected: Any) -> bool:
        """True when ``candidate`` (the model's answer) matches ``expected``."""
        raise NotImplementedError

    async def score(self, task: Any, result: StrategyResult) -> Score:
        """1.0 if the answer matches the task's expected answer, else 0.0."""
        expected = expected_answer(task)
        if expected is None:
            return Score(math.nan, "the task has no expected answer to compare with")
        candidate = target_text(result, self.target)
        if candidate is None:
            return Score(0.0, NO_ANSWER)
        return Score(1.0 if self.matches(candidate, expected) else 0.0)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class ExactMatch(_MatchScorer):
    """The answer equals the expected answer exactly, after stripping outer whitespace."""

    name = "exact"

    def matches(self, candidate: str, expected: Any) -> bool:
        return str(candidate).strip() == str(expected).strip()


class NormalizedMatch(_MatchScorer):
    """Equal after lower-casing and ignoring punctuation and extra whitespace.

    ``"The Eiffel  Tower."`` matches ``"the eiffel tower"``.
    """

    name = "normalized"
    _text = TextAnswer()

    def matches(self, candidate: str, expected: Any) -> bool:
        return self._text.normalize(candidate) == self._text.normalize(expected)


class NumericMatch(_MatchScorer):
    """The same number, within an absolute and/or relative tolerance.

    Both sides go through :class:`~promptlab.answers.NumericAnswer` normalisation, so
    ``"$1,000.00"`` equals ``"1000"``. With both tolerances 0 the numbers must be equal.
    A number matches when ``|a - e| <= max(relative_tolerance * |e|, tolerance)``.

    Args:
        tolerance: Largest allowed absolute difference, e.g. 0.01.
        relative_tolerance: Largest allowed difference relative to the expected value,
            e.g. 0.001 for 0.1%.
        name: Score name (default ``"numeric"``).
        target: ``"answer"`` (default) or ``"text"`` (the number is extracted from the reply).
    """

    name = "numeric"
    _numbers = NumericAnswer()

    def __init__(
        self,
        tolerance: float = 0.0,
        *,
        relative_tolerance: float = 0.0,
        name: str | None = None,
        target: Target = "answer",
    ) -> None:
        super().__init__(name=name, target=target)
        for field, value in (("tolerance", tolerance), ("relative_tolerance", relative_tolerance)):
            if not is_number(value) or value < 0:
                raise ConfigurationError(
                    f"NumericMatch {field}={value!r} is not allowed: use a number >= 0 "
                    f"(0 means the numbers must be equal)."
                )
        self.tolerance = float(tolerance)
        self.relative_tolerance = float(relative_tolerance)

    def _number(self, value: Any) -> Fraction | None:
        return self._numbers.value(value)

    def matches(self, candidate: str, expected: Any) -> bool:
        return self._close(self._number(candidate), self._number(expected))

    def _close(self, got: Fraction | None, want: Fraction | None) -> bool:
        if got is None or want is None:
            return False
        if got == want:
            return True
        # Exact arithmetic: fractions such as 1/3 compare as numbers, and a huge value
        # cannot overflow a float.
        relative, absolute = Fraction(str(self.relative_tolerance)), Fraction(str(self.tolerance))
        return abs(got - want) <= max(relative * abs(want), absolute)

    async def score(self, task: Any, result: StrategyResult) -> Score:
        """1.0 if the numbers match; NaN with a note if the expected answer is not a number."""
        expected = expected_answer(task)
        if expected is None:
            return await super().score(task, result)
        want = self._number(expected)
        if want is None:
            return Score(math.nan, f"the expected answer {expected!r} is not a number")
        if type(self).matches is not NumericMatch.matches:  # a subclass's own comparison
            return await super().score(task, result)
        # The base class's steps, with the expected number read once instead of twice.
        candidate = target_text(result, self.target)
        if candidate is None:
            return Score(0.0, NO_ANSWER)
        return Score(1.0 if self._close(self._number(candidate), want) else 0.0)


class Contains(_MatchScorer):
    """The answer contains the expected text (or a fixed ``value``).

    Args:
        value: Text to look for; by default the task's expected answer.
        case_sensitive: Compare case-sensitively (default: no).
        name: Score name (default ``"contains"``).
        target: ``"answer"`` (default) or ``"text"`` (search the whole reply).
    """

    name = "contains"

    def __init__(
        self,
        value: str | None = None,
        *,
        case_sensitive: bool = False,
        name: str | None = None,
        target: Target = "answer",
    ) -> None:
        super().__init__(name=name, target=target)
        self.value = value
        self.case_sensitive = case_sensitive

    def matches(self, candidate: str, expected: Any) -> bool:
        needle, haystack = str(expected).strip(), str(candidate)
        if not self.case_sensitive:
            needle, haystack = needle.casefold(), haystack.casefold()
        return needle in haystack

    async def score(self, task: Any, result: StrategyResult) -> Score:
        """1.0 if the needle occurs in the answer (or reply)."""
        if self.value is None:
            return await super().score(task, result)
        return await super().score({"expected": self.value}, result)


class ChoiceMatch(_MatchScorer):
    """The same multiple-choice letter (``"(b)"``, ``"B."`` and ``"B"`` are all B).

    Args:
        letters: The allowed letters (default ``"ABCD"``).
        name: Score name (default ``"choice"``).
        target: ``"answer"`` (default) or ``"text"`` (the letter is extracted from the reply).
    """

    name = "choice"

    def __init__(
        self, letters: str = "ABCD", *, name: str | None = None, target: Target = "answer"
    ) -> None:
        super().__init__(name=name, target=target)
        self._choice = ChoiceAnswer(letters)

    def _letter(self, value: Any) -> str | None:
        return self._choice.normalize(value) or self._choice.extract(str(value))

    def matches(self, candidate: str, expected: Any) -> bool:
        got, want = self._letter(candidate), self._choice.normalize(expected)
        return got is not None and got == want
