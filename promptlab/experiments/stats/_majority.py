"""Unbiased maj@k: the expected accuracy of a majority vote over k samples, from one pool.

Given a pool of N sampled answers for one task (``None`` = no extractable answer) and the
correct answer, maj@k here is the expected credit of a majority vote over a k-subset drawn
uniformly without replacement from the pool. It is computed exactly for every k = 1..N
without enumerating subsets, so one pool of N samples gives the whole curve.

Derivation. Let the correct answer appear c times, the other answers n_1..n_m times, and
None n_0 times (c + sum n_j + n_0 = N). A uniform k-subset takes t of the correct answers,
k_j of answer j and k_0 Nones with multivariate hypergeometric probability

    C(c, t) * prod_j C(n_j, k_j) * C(n_0, k_0) / C(N, k),   t + sum k_j + k_0 = k.

The vote's credit for that count vector is 0 if t = 0 (Nones never win, and a correct
answer with no votes cannot win) or if some k_j > t; otherwise it is 1 / (1 + r), where r is
the number of other answers with k_j = t. That is the expected accuracy of breaking ties
uniformly at random among the leaders (a strict winner gets r = 0, full credit).

So, for each t = 1..c, only count vectors with every k_j <= t matter. A DP over the other
answers builds W_t[s][r], the weighted number of ways (weights prod C(n_j, k_j)) to place s
slots among the other answers with every k_j <= t and exactly r of them at t; it is a
polynomial product in s with r tracked alongside. Convolving with C(n_0, k_0) for the
Nones and multiplying by C(c, t) gives the credit-weighted subset count for every k at once:

    maj@k = sum_t sum_{s, r, k_0: t + s + k_0 = k} C(c, t) W_t[s][r] C(n_0, k_0) / (1 + r)
            / C(N, k).

The core uses Python integers and `fractions.Fraction`, so results are exact; the public
float functions convert at the end. Cost is about O(c * N * m * (N + m)) integer operations.

lm-eval's maj@k (e.g. the gsm8k self-consistency task's ``take_first_k`` filter) takes the
first k samples of the pool: an unbiased estimate of the same quantity, but with higher
variance, since it uses one k-subset instead of averaging over all of them.

Example:
    >>> majority_at_k_curve(["A", "A", "B"], "A")
    [0.6666666666666666, 0.6666666666666666, 1.0]
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from fractions import Fraction

from promptlab._checks import is_int
from promptlab.errors import ConfigurationError

__all__ = [
    "MajorityAtKError",
    "exact_majority_at_k_curve",
    "majority_at_k",
    "majority_at_k_curve",
    "mean_majority_at_k_curve",
]

Answer = Hashable | None


class MajorityAtKError(ConfigurationError, ValueError):
    """maj@k was asked for an impossible k, an empty pool, or a None correct answer."""


def _validate_pool(pool: Sequence[Answer], correct: Answer) -> None:
    if len(pool) == 0:
        raise MajorityAtKError(
            "pool=[] is not allowed: maj@k needs at least one sampled answer; pass the "
            "extracted answers (None for failed extractions)."
        )
    if correct is None:
        raise MajorityAtKError(
            "correct=None is not allowed: None means 'no answer' and never wins a vote; pass "
            "the reference answer."
        )


def exact_majority_at_k_curve(pool: Sequence[Answer], correct: Answer) -> list[Fraction]:
    """Exact expected majority-vote credit for k = 1..len(pool), as fractions.

    Args:
        pool: The sampled answers for one task, in any order; None = no answer.
        correct: The reference answer (compared with ``==``; normalise answers first).

    Returns:
        ``curve[k - 1]`` is maj@k for k = 1..N, ties credited 1 / (number of tied leaders).

    Raises:
        MajorityAtKError: If the pool is empty or ``correct`` is None.
    """
    _validate_pool(pool, correct)
    n_total = len(pool)
    counts = Counter(a for a in pool if a is not None)
    n_none = n_total - sum(counts.values())
    n_correct = counts.pop(correct, 0)
    others = list(counts.values())
    n_others = sum(others)
    none_ways = [math.comb(n_none, k0) for k0 in range(n_none + 1)]
    # credited[r][k]: subsets of size k where the correct answer ties with r others, weighted
    # by the number of such subsets (integers until the final division).
    credited = [[0] * (n_total + 1) for _ in range(len(others) + 1)]
    for t in range(1, n_correct + 1):
        # ways[r][s]: ways to fill s slots from the other answers, each taking <= t, r at t.
        ways = [[0] * (n_others + 1) for _ in range(len(others) + 1)]
        ways[0][0] = 1
        used = 0  # slots the answers processed so far can fill, bounds the loops
        max_ties = 0
        for n_j in others:
            top = min(n_j, t)
            options = [math.comb(n_j, k_j) for k_j in range(top + 1)]
            can_tie = n_j >= t
            grown = [[0] * (n_others + 1) for _ in range(len(others) + 1)]
            for r in range(max_ties + 1):
                row = ways[r]
                for s in range(used + 1):
                    w = row[s]
                    if not w:
                        continue
                    for k_j, ways_j in enumerate(options):
                        tie = 1 if can_tie and k_j == t else 0
                        grown[r + tie][s + k_j] += w * ways_j
            ways = grown
            used += top
            max_ties += 1 if can_tie else 0
        correct_ways = math.comb(n_correct, t)
        for r in range(max_ties + 1):
            for s in range(used + 1):
                w = ways[r][s]
                if not w:
                    continue
                for k0, ways_none in enumerate(none_ways):
                    credited[r][t + s + k0] += correct_ways * w * ways_none
    return [
        sum((Fraction(credited[r][k], r + 1) for r in range(len(credited))), Fraction(0))
        / math.comb(n_total, k)
        for k in range(1, n_total + 1)
    ]


def majority_at_k_curve(pool: Sequence[Answer], correct: Answer) -> list[float]:
    """Expected majority-vote accuracy for every k = 1..len(pool).

    Args:
        pool: The sampled answers for one task; None = no answer.
        correct: The reference answer.

    Returns:
        ``curve[k - 1]`` is maj@k. ``curve[0]`` is the share of correct answers in the pool;
        ``curve[-1]`` is the full pool's majority vote (1 / #leaders if the correct answer
        ties for the lead).

    Example:
        >>> majority_at_k_curve(["A", "B", None], "A")
        [0.3333333333333333, 0.5, 0.5]
    """
    return [float(x) for x in exact_majority_at_k_curve(pool, correct)]


def majority_at_k(pool: Sequence[Answer], correct: Answer, k: int) -> float:
    """Expected accuracy of a majority vote over a uniform random k-subset of ``pool``.

    Args:
        pool: The sampled answers for one task; None = no answer.
        correct: The reference answer.
        k: Subset size, 1 <= k <= len(pool).

    Raises:
        MajorityAtKError: If k is out of range, the pool is empty or ``correct`` is None.
    """
    _validate_pool(pool, correct)
    if not is_int(k) or not 1 <= k <= len(pool):
        raise MajorityAtKError(
            f"k={k!r} is not allowed: use an integer from 1 to the pool size ({len(pool)}); "
            "draw more samples for a larger k."
        )
    return float(exact_majority_at_k_curve(pool, correct)[k - 1])


def mean_majority_at_k_curve(
    tasks: Iterable[tuple[Sequence[Answer], Answer]], max_k: int | None = None
) -> list[float]:
    """Mean maj@k curve over tasks, for k = 1..max_k.

    Args:
        tasks: ``(pool, correct)`` pairs, one per task.
        max_k: Last k to report; defaults to the smallest pool size. Every pool must hold at
            least ``max_k`` answers.

    Returns:
        ``curve[k - 1]`` is the mean over tasks of maj@k.

    Raises:
        MajorityAtKError: If there are no tasks, a pool is smaller than ``max_k``, or any
            single-task error applies.
    """
    curves = [exact_majority_at_k_curve(pool, correct) for pool, correct in tasks]
    if not curves:
        raise MajorityAtKError("tasks is empty: pass at least one (pool, correct) pair.")
    shortest = min(len(c) for c in curves)
    if max_k is None:
        max_k = shortest
    if not is_int(max_k) or not 1 <= max_k <= shortest:
        raise MajorityAtKError(
            f"max_k={max_k!r} is not allowed: use an integer from 1 to the smallest pool "
            f"size ({shortest}), or leave it None."
        )
    return [float(sum(c[k] for c in curves) / len(curves)) for k in range(max_k)]
