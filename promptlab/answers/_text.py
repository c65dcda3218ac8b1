"""Text answers: ``TextAnswer``, the default ``AutoAnswer``, and your own regex or function."""

from __future__ import annotations

import re
from collections.abc import Callable

from promptlab.answers._numeric import NumericAnswer
from promptlab.answers._spans import final_answer_span


class TextAnswer:
    """Free text, compared case- and punctuation-insensitively.

    The answer is the whole final-answer span (or the whole reply without a marker), so
    ``"1,000"`` becomes ``"1 000"``: use :class:`AutoAnswer` (the default) or
    :class:`NumericAnswer` when answers may be numbers.
    """

    _PUNCT = re.compile(r"[^\w\s]")

    def extract(self, text: str) -> str | None:
        span = final_answer_span(text)
        return self.normalize(span if span is not None else text)

    def normalize(self, value: object) -> str | None:
        words = self._PUNCT.sub(" ", str(value).lower()).split()
        return " ".join(words) or None


class AutoAnswer:
    """The default extractor: a number when the answer is one number, text otherwise.

    The answer statement is the final-answer span (without a marker, the reply's last
    line). When that statement is one number, apart from lead-in words ("I think", "so",
    "about"), an equation before it (``5 + 7 = 12``), a unit of up to three lowercase
    words after it ("18 dollars per day") and a reason after a comma or "because", the
    answer is that number in :class:`NumericAnswer`'s canonical form; otherwise it is
    :class:`TextAnswer`'s text.
    So ``"The answer is 1,000."``, ``"The answer is $1000.00"`` and ``"I think 1000."``
    all vote for ``"1000"``, while ``"Answer: Paris"`` is ``"paris"``.

    Example:
        >>> [AutoAnswer().extract(t) for t in ("I think 1000.", "Answer: World War 2")]
        ['1000', 'world war 2']
    """

    _LEAD_IN = re.compile(
        r"^(?:(?:i\s+think|i\s+believe|i\s+guess|i['’]d\s+say|so|thus|therefore|hence|then"
        r"|it\s+is|it['’]s|that\s+is|that['’]s|this\s+is|which\s+is|we\s+get|the\s+result\s+is"
        r"|the\s+total\s+is|in\s+total|total|exactly|about|approximately|around|roughly"
        r"|equals?|is)\b[\s,:]*)+",
        re.IGNORECASE,
    )
    _REASON = re.compile(r",\s|;|\s\(|\s(?:because|since|as|given|which|where)\b")
    # Up to three lowercase words after the number are its unit; "and"/"or" make a list.
    _UNIT = re.compile(r"(.*?\S)((?:\s+[a-z]+){1,3})")
    _NOT_UNIT = frozenset({"and", "or", "but", "not", "than", "plus", "minus", "times"})
    _numbers = NumericAnswer()
    _text = TextAnswer()

    def extract(self, text: str) -> str | None:
        span = final_answer_span(text)
        if span is None:
            lines = [line for line in text.strip().splitlines() if line.strip()]
            span = lines[-1] if lines else ""
        number = self._lone_number(span)
        return number if number is not None else self._text.extract(text)

    def _lone_number(self, statement: str) -> str | None:
        statement = re.split(r"(?<=[.!?])\s+", statement.strip(), maxsplit=1)[0]
        statement = statement.rpartition("=")[2].strip()
        statement = self._LEAD_IN.sub("", statement)
        statement = self._REASON.split(statement, maxsplit=1)[0].strip().rstrip(".!")
        number = self._numbers.normalize(statement)
        unit = self._UNIT.fullmatch(statement)
        if number is None and unit is not None and not self._NOT_UNIT & set(unit[2].split()):
            number = self._numbers.normalize(unit[1])  # "18 dollars per day"
        return number

    def normalize(self, value: object) -> str | None:
        number = self._numbers.normalize(value)
        return number if number is not None else self._text.normalize(value)


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
