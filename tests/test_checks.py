"""The shared "a count is an int, never a bool" predicates."""

from fractions import Fraction

import pytest

from promptlab._checks import is_int, is_number


@pytest.mark.parametrize(
    ("value", "integer", "number"),
    [
        (3, True, True),
        (0, True, True),
        (-2, True, True),
        (True, False, False),
        (False, False, False),
        (2.5, False, True),
        (3.0, False, True),
        ("3", False, False),
        (None, False, False),
        (Fraction(1, 2), False, False),
    ],
)
def test_bools_are_neither_ints_nor_numbers(value, integer, number):
    assert is_int(value) is integer
    assert is_number(value) is number
