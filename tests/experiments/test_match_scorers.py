"""NumericMatch compares exact numbers: fractions, exponents and tolerances."""

from __future__ import annotations

import pytest

from promptlab.experiments.scoring import NumericMatch
from promptlab.experiments.tasks import Task
from promptlab.strategies import ZeroShot
from promptlab.testing import FakeProvider


async def score(reply: str, expected: object, **options: float) -> float:
    result = await ZeroShot(extractor="numeric").arun({"question": "q"}, FakeProvider([reply]))
    task = Task(id="t1", inputs={"question": "q"}, expected=expected)
    return (await NumericMatch(**options).score(task, result)).value


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Answer: \\frac{3}{4}", "0.75"),
        ("Answer: 3/4", 0.75),
        ("\\boxed{\\dfrac{1}{3}}", "1/3"),
        ("Answer: 1e3", 1000),
        ("Answer: 1.5×10^3", "1,500"),
        ("Answer: \u22125", -5),
        ("The answer is 5 + 7 = 12.", 12),
    ],
)
async def test_equal_numbers_in_any_form_match(reply: str, expected: object) -> None:
    assert await score(reply, expected) == 1.0


async def test_a_fraction_matches_a_rounded_decimal_only_within_the_tolerance() -> None:
    assert await score("Answer: 1/3", "0.333") == 0.0
    assert await score("Answer: 1/3", "0.333", tolerance=0.001) == 1.0
    assert await score("Answer: \\frac{2}{3}", "0.67", relative_tolerance=0.01) == 1.0


async def test_a_tolerance_is_exact_at_its_edge() -> None:
    # 3.15 - 3.14 is 0.01 exactly; floats made it 0.0100000000000000088 and said no.
    assert await score("Answer: 3.15", "3.14", tolerance=0.01) == 1.0
    assert await score("Answer: 3.16", "3.14", tolerance=0.01) == 0.0


async def test_huge_numbers_compare_without_overflow() -> None:
    assert await score("Answer: 1e400", "1e400", tolerance=0.5) == 1.0
    assert await score("Answer: 1e400", "2e400", relative_tolerance=0.1) == 0.0


class ThroughMatches(NumericMatch):
    """The base class's route: score() through matches(), the expected number read again."""

    def matches(self, candidate: str, expected: object) -> bool:
        return super().matches(candidate, expected)


@pytest.mark.parametrize(
    ("reply", "expected", "options"),
    [
        ("Answer: 12", 12, {}),
        ("Answer: 12", "13", {}),
        ("Answer: 0012", "12.0", {}),
        ("Answer: 1/3", "0.333", {"tolerance": 0.001}),
        ("Answer: 3.16", "3.14", {"tolerance": 0.01}),
        ("I cannot tell.", 5, {}),
        ("Answer: 5", "five", {}),
        ("Answer: 5", None, {}),
        ("Answer: 1e400", "2e400", {"relative_tolerance": 0.1}),
    ],
)
async def test_the_numeric_score_is_the_one_matches_gives(
    reply: str, expected: object, options: dict[str, float]
) -> None:
    result = await ZeroShot(extractor="numeric").arun({"question": "q"}, FakeProvider([reply]))
    task = Task(id="t1", inputs={"question": "q"}, expected=expected)
    fast = await NumericMatch(**options).score(task, result)
    slow = await ThroughMatches(**options).score(task, result)
    assert (fast.value, fast.note) == pytest.approx((slow.value, slow.note), nan_ok=True)
