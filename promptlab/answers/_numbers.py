"""Reading numbers in model text: the one number parser behind ``NumericAnswer`` and scoring.

A number is read as an exact :class:`~fractions.Fraction`, so ``3/4``, ``\\frac{3}{4}``
and ``0.75`` are the same value, and ``1/3`` stays exactly one third. The forms read:

- integers and decimals with thousands separators: ``1,000``, ``1,000.50``, ``.5``;
- a sign written against the number, ASCII or Unicode minus: ``-7``, ``−7``, ``-$5``;
- currency signs, percent signs and LaTeX ``$...$`` around the number: ``$1000.00``;
- exponents: ``1e3``, ``1.5×10^3``, ``1.5 x 10^{3}``, ``2*10**3``;
- fractions ``3/4``, mixed numbers ``2 3/4`` and LaTeX ``\\frac{3}{4}`` / ``\\dfrac`` /
  ``\\tfrac``.

Not numbers: digits inside words (``H2O``, ``v2``), ranges such as ``3-4`` or ``10–12``
(neither end is *the* answer, and ``-4`` is not in the text), a zero denominator, and
exponents beyond ±1000.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction

__all__ = ["NUMBER", "format_number", "number_values", "parse_number", "plain_digits"]

_MAX_EXPONENT = 1000
_DIGITS = r"(?:\d{1,3}(?:,\d{3})+(?!\d|,\d)|\d+)(?:\.\d+)?|\.\d+"
_SIGNED = rf"-?(?:{_DIGITS})"
_FRAC = rf"\\[dt]?frac\s*\{{\s*(?P<fnum>{_SIGNED})\s*\}}\s*\{{\s*(?P<fden>{_SIGNED})\s*\}}"
_EXPONENT = (
    r"(?:[eE](?P<exp>[-+]?\d+)(?![\w.])"
    r"|\s*(?:×|x|\*|·|\\times|\\cdot)\s*10\s*(?:\^|\*\*)\s*\{?\s*(?P<exp10>[-+]?\d+)\s*\}?)"
)
#: One number, as a regular expression (see the module docstring for the forms).
NUMBER = re.compile(
    rf"""
    (?<![\w.\\/])                      # not inside a word or another number
    (?P<sign>[-+])?
    (?P<currency>[$€£¥]\s?)?
    (?P<sign2>-)?
    (?:
        {_FRAC}
      | (?P<whole>\d+)\ (?P<mnum>\d+)/(?P<mden>\d+)(?![\d/.])
      | (?P<num>{_DIGITS})\s*/\s*(?P<den>{_DIGITS})(?![\d/])
      | (?P<mant>{_DIGITS}){_EXPONENT}?
    )
    (?!\d)
    """,
    re.VERBOSE,
)
# A range of plain numbers, "3-4", "3–4" or "3 – 4": neither end is a value of its own. A
# spaced hyphen ("10 - 4") is left alone, and an em dash is punctuation, not a range.
_RANGE = re.compile(rf"(?<![\w.\\-])(?:{_DIGITS})(?:(?:-|–|\s+–\s+)(?:{_DIGITS})(?!\w|\.\d))+")
# Unicode minus signs and LaTeX thousands separators, rewritten before parsing.
_SPELLINGS = str.maketrans({"\u2212": "-", "\ufe63": "-", "\uff0d": "-"})
_LATEX_THOUSANDS = re.compile(r"(?<=\d)(?:\{,\}|\\,)(?=\d{3})")


def plain_digits(text: str) -> str:
    """``text`` with Unicode minus signs as ``-`` and LaTeX thousands (``1{,}000``) as ``1,000``."""
    # Most replies are ASCII without LaTeX separators: skip both rewrites for them.
    if not text.isascii():
        text = text.translate(_SPELLINGS)
    if "{," in text or "\\," in text:
        text = _LATEX_THOUSANDS.sub(",", text)
    return text


def _decimal(text: str) -> Fraction:
    return Fraction(Decimal(text.replace(",", "")))


def _value(match: re.Match[str]) -> Fraction | None:
    groups = match.groupdict()
    try:
        value = _magnitude(groups)
    except (InvalidOperation, ValueError, ZeroDivisionError):
        return None  # "1/0", "\\frac{1}{0}"
    if value is None:
        return None
    negative = (groups["sign"] == "-") != (groups["sign2"] == "-")
    return -value if negative else value


def _magnitude(groups: dict[str, str | None]) -> Fraction | None:
    if groups["fnum"] is not None and groups["fden"] is not None:
        return _decimal(groups["fnum"]) / _decimal(groups["fden"])
    if groups["whole"] is not None and groups["mnum"] is not None and groups["mden"] is not None:
        fraction = Fraction(int(groups["mnum"]), int(groups["mden"]))
        if fraction >= 1:
            return None  # "2 5/4" is not a mixed number
        return int(groups["whole"]) + fraction
    if groups["num"] is not None and groups["den"] is not None:
        return _decimal(groups["num"]) / _decimal(groups["den"])
    value = _decimal(groups["mant"] or "")
    exponent = groups["exp"] or groups["exp10"]
    if exponent is not None:
        if abs(int(exponent)) > _MAX_EXPONENT:
            return None
        value *= Fraction(10) ** int(exponent)
    return value


def number_values(text: str) -> list[tuple[int, Fraction]]:
    """Every number in ``text`` with its start offset, in order; ranges are left out.

    Pass the text through :func:`plain_digits` first to read Unicode minus signs.

    Example:
        >>> [str(v) for _, v in number_values("It takes 3-4 hours, i.e. 1/4 day or -2e1")]
        ['1/4', '-20']
    """
    ranges = [m.span() for m in _RANGE.finditer(text)]
    found = []
    for match in NUMBER.finditer(text):
        if any(start <= match.start() < end for start, end in ranges):
            continue
        value = _value(match)
        if value is not None:
            found.append((match.start(), value))
    return found


_WRAPPERS = re.compile(r"^(?:\*\*|__|\$|\\\(|\\\[)+|(?:\*\*|__|\$|\\\)|\\\]|[.%])+$")


def parse_number(value: object) -> Fraction | None:
    """``value`` as an exact number if it is one number and nothing else, else None.

    Accepts numbers (``int``, ``float``, ``Decimal``, ``Fraction``) and strings in any
    form the module reads; a trailing period or percent sign and Markdown/LaTeX wrappers
    (``**12**``, ``$12$``) are allowed around a string.

    Example:
        >>> parse_number("1e3") == parse_number("$1,000.00") == 1000
        True
    """
    if type(value) is str and value.isdigit() and value.isascii() and len(value) <= 4000:
        # Plain ASCII digits, the commonest answer: the value the rules below give ("0012"
        # is 12), without them. Longer strings go the long way: int() refuses > 4300 digits.
        return Fraction(int(value))
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, Fraction)):
        return Fraction(value)
    if isinstance(value, (float, Decimal)):
        try:
            # str() first: the float 0.1 means the decimal 0.1, not its binary neighbour.
            return Fraction(Decimal(str(value)))
        except (InvalidOperation, ValueError, OverflowError):
            return None  # NaN and infinities are not answers
    text = _WRAPPERS.sub("", plain_digits(str(value)).strip()).strip()
    match = NUMBER.fullmatch(text)
    return _value(match) if match is not None else None


def format_number(value: Fraction) -> str:
    """The canonical text of a number: ``"1000"``, ``"0.75"``, ``"-2.5"``, or ``"1/3"``.

    A value with a finite decimal expansion is written as a decimal without trailing zeros;
    any other is an exact fraction in lowest terms.
    """
    if value.denominator == 1:
        return str(value.numerator)
    denominator, twos, fives = value.denominator, 0, 0
    while denominator % 2 == 0:
        denominator, twos = denominator // 2, twos + 1
    while denominator % 5 == 0:
        denominator, fives = denominator // 5, fives + 1
    if denominator != 1:
        return f"{value.numerator}/{value.denominator}"
    places = max(twos, fives)
    scaled = abs(value.numerator) * 10**places // value.denominator
    digits = str(scaled).rjust(places + 1, "0")
    text = f"{digits[:-places]}.{digits[-places:]}".rstrip("0").rstrip(".")
    return f"-{text}" if value < 0 else text
