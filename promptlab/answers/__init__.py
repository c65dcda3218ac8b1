"""Answer extraction and normalisation: small pieces shared by strategies and scorers.

An extractor turns a model's reply into a canonical answer string, or ``None`` when the
reply holds no answer of that kind. Canonical strings compare equal exactly when the
answers mean the same thing, so they can be voted on and scored: ``NumericAnswer`` maps
``"1,000"``, ``"$1000.00"``, ``"1e3"`` and ``"1000."`` all to ``"1000"``.

Every built-in extractor reads the final-answer span first (the text after the last
``Answer:`` / ``the answer is`` / ``####`` marker, or inside ``\\boxed{}``), by these
rules: the first sentence that states a value, replaced by a later self-correction; an
equation's result; justifications and negated values left out; the last value left wins.
Without a marker it reads the reply's last sentence that states a value, by the same rules.
``_spans.py`` holds the rules, ``_numbers.py`` the number forms, and each extractor lives
in its own module (``_numeric.py``, ``_words.py``, ``_text.py``).

A reply cut off by the token limit has an answer only when its final-answer line was
finished (:func:`reply_answer`): the end of a half-written reply is not an answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from promptlab.answers._numbers import format_number, parse_number
from promptlab.answers._numeric import NumericAnswer
from promptlab.answers._spans import final_answer_span, finished_answer_line, stopped_for_length
from promptlab.answers._text import AutoAnswer, CallableAnswer, RegexAnswer, TextAnswer
from promptlab.answers._words import ChoiceAnswer, YesNoAnswer

__all__ = [
    "EXTRACTOR_KINDS",
    "AnswerExtractor",
    "AutoAnswer",
    "CallableAnswer",
    "ChoiceAnswer",
    "NumericAnswer",
    "RegexAnswer",
    "TextAnswer",
    "YesNoAnswer",
    "as_extractor",
    "expected_answer",
    "final_answer_span",
    "finished_answer_line",
    "format_number",
    "parse_number",
    "reply_answer",
    "stopped_for_length",
]


@runtime_checkable
class AnswerExtractor(Protocol):
    """Anything with ``extract(text) -> str | None`` and ``normalize(value) -> str | None``."""

    def extract(self, text: str) -> str | None:
        """The canonical answer found in a model's reply, or None."""
        ...

    def normalize(self, value: object) -> str | None:
        """The canonical form of a known value, e.g. a task's expected answer."""
        ...


def reply_answer(
    extract: Callable[[str], str | None], text: str, finish_reason: str | None = None
) -> str | None:
    """``extract(text)``, or None for a reply cut off before it finished its answer line.

    A reply that stopped at the token limit (``finish_reason`` ``"length"``, or a
    provider's equivalent) has an answer only when it holds a final-answer marker
    (``Answer:``, ``the answer is``, ``####``, ``\\boxed{``) whose line was finished;
    otherwise whatever number or word it ended on is not an answer.

    Example:
        >>> reply_answer(NumericAnswer().extract, "So 100 + 50 = 15", "length") is None
        True
        >>> reply_answer(NumericAnswer().extract, "Answer: 150.\\nThen", "length")
        '150'
    """
    # "stop", the commonest reason, is never a token-limit stop: no need to look it up.
    if (
        finish_reason != "stop"
        and stopped_for_length(finish_reason)
        and not finished_answer_line(text)
    ):
        return None
    return extract(text)


def expected_answer(extractor: AnswerExtractor, value: object) -> str | None:
    """A task's expected ``value`` in the form answers are compared with.

    The extractor's canonical form (:meth:`AnswerExtractor.normalize`), or the value as
    stripped text when the extractor has none for it; None when there is no expected value.

    Example:
        >>> expected_answer(NumericAnswer(), "1,000.50")
        '1000.5'
    """
    if value is None:
        return None
    return extractor.normalize(value) or str(value).strip()


#: Extractor kinds by name: the one table behind ``extractor="numeric"`` and experiment files.
EXTRACTOR_KINDS: dict[str, Callable[[], AnswerExtractor]] = {
    "auto": AutoAnswer,
    "numeric": NumericAnswer,
    "choice": ChoiceAnswer,
    "yes_no": YesNoAnswer,
    "text": TextAnswer,
}


def as_extractor(
    extractor: AnswerExtractor | Callable[[str], str | None] | str | None,
) -> AnswerExtractor:
    """Accept an extractor, a callable, a kind name (``"numeric"``...), or None (``"auto"``)."""
    if extractor is None:
        return AutoAnswer()
    if isinstance(extractor, str):
        if extractor not in EXTRACTOR_KINDS:
            from promptlab.errors import ConfigurationError

            raise ConfigurationError(
                f"Unknown answer kind {extractor!r}; use one of {', '.join(EXTRACTOR_KINDS)}, "
                "or pass an extractor object or a callable."
            )
        return EXTRACTOR_KINDS[extractor]()
    if isinstance(extractor, AnswerExtractor):
        return extractor
    if callable(extractor):
        return CallableAnswer(extractor)
    raise TypeError(f"Cannot use {extractor!r} as an answer extractor.")
