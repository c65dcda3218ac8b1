"""``NumericAnswer``: an exact number, read by the span rules."""

from __future__ import annotations

import re
from fractions import Fraction

from promptlab.answers._numbers import format_number, number_values, parse_number, plain_digits
from promptlab.answers._spans import final_answer_span, last_statement_values, stated_values

_DIGIT = re.compile(r"\d")
# A final-answer span that is one plain integer ("Answer: 42"), the commonest reply: read
# without the statement rules, which give the same value for it (one number, no equation,
# nothing negated). ASCII digits only; every other form takes the rules.
_PLAIN_INTEGER = re.compile(r"[-+]?[0-9]+\.?")


class NumericAnswer:
    """A number, read exactly (the forms are listed in ``_numbers.py``).

    Thousands separators, currency and percent signs, trailing zeros, Unicode minus signs,
    exponents (``1e3``, ``1.5×10^3``) and fractions (``3/4``, ``\\frac{3}{4}``) are read;
    ranges such as ``3-4`` are not numbers. The canonical form is a decimal without
    trailing zeros (``"0.75"``), or an exact fraction (``"1/3"``) when the decimal would
    not end. In the answer span an equation's result wins (``5 + 7 = 12`` is 12) and the
    last stated value wins; a value after "not" is not stated (``12, not 10`` is 12).

    Example:
        >>> NumericAnswer().extract("So she pays $1,000.00 in total. Answer: $1,000.00")
        '1000'
        >>> NumericAnswer().extract("The answer is 5 + 7 = 12.")
        '12'
    """

    def extract(self, text: str) -> str | None:
        text = plain_digits(text)
        span = final_answer_span(text)
        if span is not None and _PLAIN_INTEGER.fullmatch(span) is not None:
            return str(int(span.rstrip(".")))  # int() drops a sign "+" and leading zeros
        value = _read(text, span)
        return None if value is None else format_number(value)

    def read(self, text: str) -> Fraction | None:
        """The answer in ``text`` as an exact number, or None."""
        text = plain_digits(text)
        return _read(text, final_answer_span(text))

    def normalize(self, value: object) -> str | None:
        number = parse_number(value)
        return None if number is None else format_number(number)

    def value(self, value: object) -> Fraction | None:
        """A known value as a number: ``value`` itself if it is one, else the answer in it.

        Scorers compare numbers with this, so ``"1/3"`` and ``"0.3333"`` are compared as
        numbers (with a tolerance), never as strings.
        """
        number = parse_number(value)
        if number is None and not isinstance(value, (bool, int, float)):
            number = self.read(str(value))
        return number


def _read(text: str, span: str | None) -> Fraction | None:
    """The answer in ``text`` (after :func:`plain_digits`), given its final-answer ``span``."""
    if span is not None and _DIGIT.search(span):
        values = stated_values(span, number_values)
        return values[-1] if values else None  # digits but no number: a range, 1/0...
    values = last_statement_values(text, number_values)
    return values[-1] if values else None
