"""Posterior rules: stop once the leading answer is probably the true mode.

Both follow Adaptive-Consistency (Aggarwal et al. 2023, arXiv 2305.11860).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from functools import lru_cache

from promptlab.strategies.stopping._rule import (
    StopDecision,
    StoppingParameterError,
    Vote,
    _check_threshold,
    _require_int,
    _vote_counts,
)


def beta_lead_probability(lead: int, runner_up: int) -> Fraction:
    """P(p > 1/2) for p ~ Beta(lead + 1, runner_up + 1), exactly.

    For integer shapes the Beta CDF is a binomial tail: P(Beta(a, b) <= x) =
    P(Binomial(a + b - 1, x) >= a). With a = lead + 1, b = runner_up + 1, n = lead +
    runner_up + 1 and x = 1/2 this gives P(p > 1/2) = sum_{j=0}^{lead} C(n, j) / 2^n,
    which needs only integers (equal to ``1 - scipy.special.betainc(a, b, 0.5)``).

    Args:
        lead: Votes for the leading answer.
        runner_up: Votes for the second answer (0 if only one answer was seen).

    Returns:
        The probability as an exact fraction.
    """
    _require_int("lead", lead, 0)
    _require_int("runner_up", runner_up, 0)
    n = lead + runner_up + 1
    return Fraction(sum(math.comb(n, j) for j in range(lead + 1)), 2**n)


@lru_cache(maxsize=8192)
def _lead_is_max(lead: int, others: tuple[int, ...]) -> Fraction:
    # A Dirichlet vector is independent Gamma(alpha_i, 1) variables divided by their sum, so
    # P(p_0 > max_j p_j) = P(G_0 > max_j G_j) = integral of f_0(x) * prod_j F_j(x) dx.
    # With integer shapes, F_j(x) = 1 - e^{-x} sum_{i<=c_j} x^i / i!, so the product expands
    # into terms coef * e^{-s x} x^d, each integrating in closed form against
    # f_0(x) = x^lead e^{-x} / lead!. Exact fractions because the signs alternate.
    terms: dict[tuple[int, int], Fraction] = {(0, 0): Fraction(1)}
    for count in others:
        tail = [Fraction(1, math.factorial(i)) for i in range(count + 1)]
        expanded = dict(terms)
        for (s, d), coef in terms.items():
            for i, weight in enumerate(tail):
                key = (s + 1, d + i)
                expanded[key] = expanded.get(key, Fraction(0)) - coef * weight
        terms = expanded
    lead_fact = math.factorial(lead)
    return sum(
        (
            coef * Fraction(math.factorial(d + lead), lead_fact * (s + 1) ** (d + lead + 1))
            for (s, d), coef in terms.items()
        ),
        Fraction(0),
    )


def dirichlet_lead_probability(counts: Sequence[int]) -> Fraction:
    """P(p_1 > max_{j>1} p_j) for p ~ Dirichlet(counts + 1), computed exactly.

    ``counts[0]`` is the answer being tested. With two counts this equals
    `beta_lead_probability`. Exact (not Monte Carlo) because integer shapes turn the
    integral into a finite sum, so decisions are deterministic and reproducible; the cost
    is polynomial in the number of votes and the results are cached.

    Args:
        counts: Vote counts, the tested answer first; at least one entry.

    Returns:
        The probability as an exact fraction.
    """
    if not counts:
        raise StoppingParameterError("counts=[] is not allowed: pass at least one count.")
    for count in counts:
        _require_int("counts[i]", count, 0)
    return _lead_is_max(counts[0], tuple(sorted(counts[1:])))


class _PosteriorRule:
    """What `BetaStop` and `DirichletStop` share: wait for ``min_samples`` samples and one
    extractable answer, then stop once a posterior probability reaches ``threshold``."""

    tag = ""

    def __init__(self, threshold: float = 0.95, min_samples: int = 1) -> None:
        self.threshold = _check_threshold(threshold)
        self.min_samples = _require_int("min_samples", min_samples, 1)

    def decide(self, votes: Sequence[Vote]) -> StopDecision:
        """Stop when the rule's posterior probability, given the votes, >= threshold."""
        n = len(votes)
        if n < self.min_samples:
            return StopDecision(False, f"{self.tag}: {n} samples < min_samples={self.min_samples}")
        counts = _vote_counts(votes)
        if not counts:
            return StopDecision(False, f"{self.tag}: no extractable answer after {n} samples")
        label, prob = self._posterior(counts)
        stop = prob >= self.threshold  # Fraction vs float compares exactly
        sign = ">=" if stop else "<"
        reason = f"{self.tag}: {label}={float(prob):.4f}{sign}{self.threshold} after {n} samples"
        return StopDecision(stop, reason)

    def _posterior(self, counts: list[int]) -> tuple[str, Fraction]:
        """The probability's label and value, from the answers' counts (largest first)."""
        raise NotImplementedError


class BetaStop(_PosteriorRule):
    """Adaptive-Consistency's Beta rule: stop once the leader clearly beats the runner-up.

    Only the two most frequent answers count, as in Aggarwal et al. (2023) and their
    reference code: with counts c1 >= c2, the leader's share of those two is
    p ~ Beta(c1 + 1, c2 + 1) under a uniform prior, and the rule stops when
    P(p > 0.5) = 1 - I_{0.5}(c1 + 1, c2 + 1) >= ``threshold`` (computed exactly by
    `beta_lead_probability`). A single seen answer has c2 = 0, so four "A" votes give
    1 - 0.5^5 = 0.96875. Answers beyond the top two are ignored; use `DirichletStop` to
    weigh every answer (more cautious when the votes are spread over three or more).

    Reasons: ``"beta: P(lead>0.5)=0.9688>=0.95 after 4 samples"`` (``<`` when it goes on),
    ``"beta: 3 samples < min_samples=6"``, ``"beta: no extractable answer after 3 samples"``.

    Args:
        threshold: Required posterior probability, in (0.5, 1).
        min_samples: Never stop before this many samples (Nones included).

    Example:
        >>> BetaStop(0.95).decide(["A", "A", "A", "A"]).stop
        True
    """

    tag = "beta"

    def _posterior(self, counts: list[int]) -> tuple[str, Fraction]:
        # P(leader's share of the top two > 1/2 | votes)
        lead, runner_up = (*counts, 0)[:2]
        return "P(lead>0.5)", beta_lead_probability(lead, runner_up)

    def __repr__(self) -> str:
        return f"BetaStop(threshold={self.threshold}, min_samples={self.min_samples})"


class DirichletStop(_PosteriorRule):
    """Stop once the leading answer is the most likely one among *all* answers seen.

    The vote counts of the distinct answers get a Dirichlet posterior under a uniform prior
    (every count + 1), and the rule stops when P(leading answer's share is the largest)
    >= ``threshold``, computed exactly by `dirichlet_lead_probability` (Aggarwal et al.'s
    Dirichlet criterion P(p_1 > max_{j>1} p_j), without their top-5 cut and Monte Carlo).
    With one or two distinct answers this equals `BetaStop`; with three or more every
    dissenting answer lowers the probability, so it draws at least as many samples.

    Reasons: ``"dirichlet: P(lead is max of 3)=0.9631>=0.95 after 9 samples"`` (the number
    of bins, at least 2, including the unseen bin when on),
    ``"dirichlet: 3 samples < min_samples=6"``,
    ``"dirichlet: no extractable answer after 3 samples"``.

    Args:
        threshold: Required posterior probability, in (0.5, 1).
        min_samples: Never stop before this many samples (Nones included).
        unseen_bin: Add one empty bin for "an answer not seen yet". Off by default (the
            paper's criterion); on makes the rule more cautious when answers are diverse.

    Example:
        >>> DirichletStop(0.95).decide(["B", "C", "A", "A", "A", "A", "A", "A"]).stop
        False
    """

    tag = "dirichlet"

    def __init__(
        self, threshold: float = 0.95, min_samples: int = 1, unseen_bin: bool = False
    ) -> None:
        super().__init__(threshold, min_samples)
        self.unseen_bin = bool(unseen_bin)

    def _posterior(self, counts: list[int]) -> tuple[str, Fraction]:
        # P(leading answer is the mode | votes), over at least two bins.
        if self.unseen_bin:
            counts.append(0)
        if len(counts) < 2:
            counts.append(0)
        return f"P(lead is max of {len(counts)})", dirichlet_lead_probability(counts)

    def __repr__(self) -> str:
        return (
            f"DirichletStop(threshold={self.threshold}, min_samples={self.min_samples}, "
            f"unseen_bin={self.unseen_bin})"
        )
