"""Exact forecast of a self-consistency vote: will the answer leading now still win at n?

The model is a Pólya urn, the posterior predictive of a Dirichlet process over answers
(a Chinese restaurant process): every answer seen so far has weight ``count``, the
unextractable samples (None) weight ``nones``, and the answers not seen yet share weight
``unseen`` (the concentration), so the next sample repeats answer ``j`` with probability
``count_j / (n + unseen)`` and is a new answer with probability ``unseen / (n + unseen)``.
The leader is the answer the vote gives now (most votes, first seen among ties). After
the remaining ``m`` draws it still wins the vote iff every answer seen before it ends
strictly below it, and every answer seen after it, old or new, ends at or below it (ties
go to the answer seen first).

Urn increments are Dirichlet-multinomial, so with the leader's increment fixed at ``x``
the probability is a product of one power series per bin, each cut at the largest
increment that bin may take (its "cap"):

* a seen answer or the None bin with weight ``a``: ``sum_k rising(a, k) / k! z^k``, which
  uncut is ``(1 - z)^(-a)``;
* the unseen answers: ``exp(unseen * sum_{s<=cap} z^s / s)``: the Ewens sampling formula
  summed over partitions with every block at most ``cap``, which uncut is
  ``(1 - z)^(-unseen)``;

and ``P = m! / rising(A, m) * sum_x w_leader(x) [z^(m - x)] prod(series)`` with ``A`` the
total weight (uncut, the sum is exactly 1). No sampling, so decisions reproduce; the cost
is ``O(m^3 * bins)`` floating-point operations, cached per canonical state.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache


def _seen_series(weight: float, cap: int, degree: int) -> list[float]:
    """Coefficients rising(weight, k) / k! for k = 0..min(cap, degree)."""
    out = [1.0]
    for k in range(1, min(cap, degree) + 1):
        out.append(out[-1] * (weight + k - 1) / k)
    return out


def _unseen_series(weight: float, cap: int, degree: int) -> list[float]:
    """Coefficients of exp(weight * sum_{s=1}^{cap} z^s / s) up to z^degree."""
    # From E' = f' E: k e_k = sum_{s=1}^{min(k, cap)} (s f_s) e_{k-s}, and s f_s = weight.
    out = [1.0]
    for k in range(1, degree + 1):
        out.append(weight / k * sum(out[k - s] for s in range(1, min(k, cap) + 1)))
    return out


def _times(left: list[float], right: list[float], degree: int) -> list[float]:
    """The product of two power series, cut after z^degree."""
    out = [0.0] * min(len(left) + len(right) - 1, degree + 1)
    for i, a in enumerate(left):
        if a:
            for j, b in enumerate(right[: len(out) - i]):
                out[i + j] += a * b
    return out


@lru_cache(maxsize=65536)
def _holds(
    lead: int,
    before: tuple[int, ...],
    after: tuple[int, ...],
    nones: int,
    remaining: int,
    unseen: float,
) -> float:
    m = remaining
    total_weight = lead + sum(before) + sum(after) + nones + unseen
    lead_series = _seen_series(lead, m, m)
    none_series = _seen_series(nones, m, m)
    total = 0.0
    for x in range(m + 1):
        final = lead + x
        caps = [final - c - 1 for c in before] + [final - c for c in after]
        if min(caps, default=0) < 0:
            continue
        degree = m - x
        product = none_series[: degree + 1]
        for weight, cap in zip((*before, *after), caps, strict=True):
            product = _times(product, _seen_series(weight, cap, degree), degree)
        if unseen:
            product = _times(product, _unseen_series(unseen, final, degree), degree)
        if len(product) > degree:
            total += lead_series[x] * product[degree]
    norm = math.lgamma(m + 1) + math.lgamma(total_weight) - math.lgamma(total_weight + m)
    return min(total * math.exp(norm), 1.0)


def final_vote_holds(counts: Sequence[int], nones: int, remaining: int, unseen: float) -> float:
    """P(the vote's current winner still wins after ``remaining`` more samples).

    Args:
        counts: Votes per answer in first-seen order; the leader is the first largest.
        nones: Samples with no extractable answer so far.
        remaining: Samples still to draw.
        unseen: Weight of the answers not seen yet.
    """
    lead = max(counts)
    at = counts.index(lead)
    before = tuple(sorted(counts[:at]))
    after = tuple(sorted(c for c in counts[at + 1 :]))
    return _holds(lead, before, after, nones, remaining, float(unseen))
