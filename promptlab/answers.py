"""Answer extraction and normalisation: small pieces shared by strategies and scorers.

An extractor turns a model's reply into a canonical answer string, or ``None`` when the
reply holds no answer of that kind. Canonical strings compare equal exactly when the
answers mean the same thing, so they can be voted on and scored: ``NumericAnswer`` maps
``"1,000"``, ``"$1000.00"`` and ``"1000."`` all to ``"1000"``.

Every extractor looks first at the final-answer span (the text after the last
``Answer:`` / ``the answer is`` / ``####`` marker, or inside ``\\boxed{}``), then falls
back to the whole reply.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import ClassVar, Protocol, runtime_checkable

_MARKER = re.compile(r"(?:final answer|answer)\s*(?:is|:)\s*|####\s*|\\boxed\{", re.IGNORECASE)
_NUMBER = re.compile(r"-?\$?\s?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|-?\$?\.\d+")


def final_answer_span(text: str) -> str | None:
    """The text after the last answer marker, up to the end of its line; None if no marker."""
    last = None
    for last in _MARKER.finditer(text):  # noqa: B007 - only the last marker counts
        pass
    if last is None:
        return None
    tail = text[last.end() :].strip()
    return tail.splitlines()[0].strip() if tail else ""


@runtime_checkable
class AnswerExtractor(Protocol):
    """Anything with ``extract(text) -> str | None`` and ``normalize(value) -> str | None``."""

    def extract(self, text: str) -> str | None:
        """The canonical answer found in a model's reply, or None."""
        ...

    def normalize(self, value: object) -> str | None:
        """The canonical form of a known value, e.g. a task's expected answer."""
        ...


class NumericAnswer:
    """A number. Thousands separators, currency signs and trailing zeros are ignored.

    Example:
        >>> NumericAnswer().extract("So she pays $1,000.00 in total. Answer: $1,000.00")
        '1000'
    """

    def extract(self, text: str) -> str | None:
        span = final_answer_span(text)
        for candidate in (span, text):
            if candidate:
                numbers = _NUMBER.findall(candidate)
                if numbers:
                    # In the answer span the first number is the answer; in free text the last.
                    chosen = numbers[0] if candidate is span else numbers[-1]
                    return self.normalize(chosen)
        return None

    def normalize(self, value: object) -> str | None:
        text = str(value).strip().replace(",", "").replace("$", "").replace(" ", "")
        text = text.rstrip(".")
        if text.isascii() and text.isdigit() and (text[0] != "0" or len(text) == 1):
            return text  # already canonical (the usual case); skips Decimal
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
        if number == number.to_integral_value():
            return str(number.to_integral_value())
        return format(number.normalize(), "f")


class ChoiceAnswer:
    """A multiple-choice letter, e.g. ``"B"``.

    Args:
        letters: The allowed letters.
    """

    def __init__(self, letters: str = "ABCD") -> None:
        self.letters = letters.upper()
        allowed = re.escape(self.letters)
        self._in_span = re.compile(rf"\(?\b([{allowed}])\b\)?", re.IGNORECASE)
        self._free = re.compile(rf"(?:^|\s|\()([{allowed}])(?:\)|\.|:|\s|$)")

    def extract(self, text: str) -> str | None:
        span = final_answer_span(text)
        if span:
            match = self._in_span.search(span)
            if match:
                return match.group(1).upper()
        matches = self._free.findall(text)
        return matches[-1].upper() if matches else None

    def normalize(self, value: object) -> str | None:
        letter = str(value).strip().strip("().").upper()
        return letter if len(letter) == 1 and letter in self.letters else None


class YesNoAnswer:
    """``"yes"`` or ``"no"`` (``true``/``false`` count too)."""

    _WORD = re.compile(r"\b(yes|no|true|false)\b", re.IGNORECASE)
    _CANON: ClassVar[dict[str, str]] = {"yes": "yes", "true": "yes", "no": "no", "false": "no"}

    def extract(self, text: str) -> str | None:
        span = final_answer_span(text)
        for candidate in (span, text):
            if candidate:
                match = self._WORD.search(candidate)
                if match:
                    return self._CANON[match.group(1).lower()]
        return None

    def normalize(self, value: object) -> str | None:
        if isinstance(value, bool):
            return "yes" if value else "no"
        return self._CANON.get(str(value).strip().lower().rstrip("."))


class TextAnswer:
    """Free text, compared case- and punctuation-insensitively."""

    _PUNCT = re.compile(r"[^\w\s]")

    def extract(self, text: str) -> str | None:
        span = final_answer_span(text)
        return self.normalize(span if span is not None else text)

    def normalize(self, value: object) -> str | None:
        words = self._PUNCT.sub(" ", str(value).lower()).split()
        return " ".join(words) or None


class RegexAnswer:
    """The first match of a regular expression (a group of it, if it has one).

    Args:
        pattern: The regular expression.
        group: Which group to take; by default group 1 if there is one, else the match.
        normalize: Applied to the matched text (and to expected values).
    """

    def __init__(
        self,
        pattern: str,
        *,
        group: int | None = None,
        normalize: Callable[[str], str] = str.strip,
    ) -> None:
        self.pattern = re.compile(pattern)
        self.group = group if group is not None else (1 if self.pattern.groups else 0)
        self._normalize = normalize

    def extract(self, text: str) -> str | None:
        match = self.pattern.search(text)
        return self._normalize(match.group(self.group)) if match else None

    def normalize(self, value: object) -> str | None:
        return self._normalize(str(value))


class CallableAnswer:
    """Wrap your own ``fn(text) -> str | None``; expected values go through ``normalize``."""

    def __init__(
        self,
        fn: Callable[[str], str | None],
        normalize: Callable[[object], str | None] | None = None,
    ) -> None:
        self.fn = fn
        self._normalize = normalize

    def extract(self, text: str) -> str | None:
        return self.fn(text)

    def normalize(self, value: object) -> str | None:
        return self._normalize(value) if self._normalize else str(value)


def as_extractor(
    extractor: AnswerExtractor | Callable[[str], str | None] | str | None,
) -> AnswerExtractor:
    """Accept an extractor, a callable, a kind name (``"numeric"``...), or None (text)."""
    if extractor is None:
        return TextAnswer()
    if isinstance(extractor, str):
        kinds: dict[str, Callable[[], AnswerExtractor]] = {
            "numeric": NumericAnswer,
            "choice": ChoiceAnswer,
            "yes_no": YesNoAnswer,
            "text": TextAnswer,
        }
        if extractor not in kinds:
            from promptlab.errors import ConfigurationError

            raise ConfigurationError(
                f"Unknown answer kind {extractor!r}; use one of {', '.join(kinds)}, "
                "or pass an extractor object or a callable."
            )
        return kinds[extractor]()
    if isinstance(extractor, AnswerExtractor):
        return extractor
    if callable(extractor):
        return CallableAnswer(extractor)
    raise TypeError(f"Cannot use {extractor!r} as an answer extractor.")
