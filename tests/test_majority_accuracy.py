"""The exact maj@k estimator equals brute-force enumeration of every k-subset."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Hashable, Sequence
from fractions import Fraction
from itertools import combinations

import pytest

from promptlab.experiments.stats import (
    MajorityAtKError,
    exact_majority_at_k_curve,
    majority_at_k,
    majority_at_k_curve,
    mean_majority_at_k_curve,
)


def vote_credit(answers: Sequence[Hashable | None], correct: Hashable) -> Fraction:
    """Expected correctness of a majority vote with ties broken uniformly at random."""
    counts = Counter(a for a in answers if a is not None)
    if counts.get(correct, 0) == 0:
        return Fraction(0)
    top = max(counts.values())
    if counts[correct] < top:
        return Fraction(0)
    return Fraction(1, sum(1 for c in counts.values() if c == top))


def brute_force_curve(pool: Sequence[Hashable | None], correct: Hashable) -> list[Fraction]:
    curve = []
    for k in range(1, len(pool) + 1):
        subsets = list(combinations(range(len(pool)), k))
        total = sum((vote_credit([pool[i] for i in s], correct) for s in subsets), Fraction(0))
        curve.append(total / len(subsets))
    return curve


def random_pools(seed: int, count: int) -> list[list[str | None]]:
    rng = random.Random(seed)
    pools = []
    for _ in range(count):
        n = rng.randint(1, 10)
        alphabet: list[str | None] = ["A", "B", "C", "D", None][: rng.randint(2, 5)]
        pools.append([rng.choice(alphabet) for _ in range(n)])
    return pools


@pytest.mark.parametrize("pool", random_pools(seed=7, count=150))
def test_matches_brute_force_exactly(pool: list[str | None]) -> None:
    assert exact_majority_at_k_curve(pool, "A") == brute_force_curve(pool, "A")


@pytest.mark.parametrize(
    "pool",
    [
        ["A", "A", "B", "B", "C", "C"],  # three-way ties at every even k
        ["A", "B", "C", "D", "E", "F", "G"],  # all distinct: A wins only through ties
        [None, None, None, "A", "B"],  # mostly unextractable
        ["B", "B", "C", "C", "D"],  # correct answer absent
    ],
)
def test_ties_and_edge_pools_match_brute_force(pool: list[str | None]) -> None:
    assert exact_majority_at_k_curve(pool, "A") == brute_force_curve(pool, "A")


def test_k1_is_the_share_of_correct_answers() -> None:
    pool = ["A", "B", "A", None, "C", "A", "B"]
    assert majority_at_k(pool, "A", 1) == pytest.approx(3 / 7, abs=1e-12)


def test_kn_is_the_full_pool_vote_with_tie_credit() -> None:
    assert majority_at_k(["A", "A", "B", "B", "C"], "A", 5) == 0.5
    assert majority_at_k(["A", "B", "C"], "A", 3) == pytest.approx(1 / 3, abs=1e-12)
    assert majority_at_k(["A", "A", "B", None, None, None], "A", 6) == 1.0
    assert majority_at_k(["B", "B", "A", None], "A", 4) == 0.0


def test_small_curve_by_hand() -> None:
    # Pool A, A, B: k=2 subsets {A,A} (win), {A,B} x2 (tie, 1/2 each) -> (1 + 1/2 + 1/2)/3.
    assert majority_at_k_curve(["A", "A", "B"], "A") == pytest.approx([2 / 3, 2 / 3, 1.0])
    # Pool A, B, None: k=2 subsets {A,B} (1/2), {A,None} (1), {B,None} (0) -> 1/2.
    assert majority_at_k_curve(["A", "B", None], "A") == pytest.approx([1 / 3, 1 / 2, 1 / 2])


def test_answers_compare_by_equality_of_any_hashable() -> None:
    assert majority_at_k_curve([1, 2, 1, 3], 1) == majority_at_k_curve(["x", "y", "x", "z"], "x")


def test_mean_curve_averages_tasks_up_to_the_smallest_pool() -> None:
    tasks = [(["A", "A", "B"], "A"), (["B", "B"], "A")]
    assert mean_majority_at_k_curve(tasks) == pytest.approx([1 / 3, 1 / 3])
    assert mean_majority_at_k_curve(tasks, max_k=1) == pytest.approx([1 / 3])


@pytest.mark.parametrize("k", [0, -1, 4, 2.0, True])
def test_k_out_of_range_is_rejected(k: object) -> None:
    with pytest.raises(MajorityAtKError, match=r"k=.* is not allowed: use an integer from 1 to"):
        majority_at_k(["A", "B", "A"], "A", k)  # type: ignore[arg-type]


def test_empty_pool_and_none_correct_are_rejected() -> None:
    with pytest.raises(MajorityAtKError, match=r"pool=\[\] is not allowed"):
        majority_at_k_curve([], "A")
    with pytest.raises(MajorityAtKError, match=r"correct=None is not allowed"):
        majority_at_k_curve(["A"], None)
    with pytest.raises(MajorityAtKError, match="tasks is empty"):
        mean_majority_at_k_curve([])
    with pytest.raises(MajorityAtKError, match=r"max_k=3 is not allowed"):
        mean_majority_at_k_curve([(["A", "B"], "A")], max_k=3)
    with pytest.raises(ValueError):  # also catchable as a plain ValueError
        majority_at_k_curve([], "A")
