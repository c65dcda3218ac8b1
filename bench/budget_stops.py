"""Two budget-aware stopping rules, prototyped for the self-consistency benchmark.

promptlab's rules (`BetaStop`, `WindowStop`) ask "is the leading answer the true mode?".
The benchmark's yardstick is different: does the early vote agree with the vote a fixed
budget of ``max_n`` samples would give? These two rules ask that question directly. They
are not part of the library yet; the benchmark prints them next to the library's rules so
the comparison can decide whether they belong there.

* `UnbeatableStop`: stop when the runner-up could not catch up even if it got every
  remaining sample. The early vote then always equals the full-budget vote (no loss).
* `PredictiveStop`: stop when the posterior predictive probability that the current
  leader still strictly leads after the remaining samples is >= ``threshold``. The
  leader's share of all samples gets a Beta(lead + 1, others + 1) posterior, so its share
  of the m remaining samples is Beta-binomial; every other new sample is assumed to go to
  the runner-up (the worst case, which makes the rule conservative). The leader keeps a
  strict lead when lead + X > runner_up + (m - X).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence

from promptlab.strategies.stopping import StopDecision

Vote = Hashable | None


def _lead_and_runner_up(votes: Sequence[Vote]) -> tuple[int, int]:
    counts = [c for _, c in Counter(v for v in votes if v is not None).most_common(2)]
    lead, runner_up = [*counts, 0, 0][:2]
    return lead, runner_up


def beta_binomial_tail(at_least: int, m: int, a: int, b: int) -> float:
    """P(X >= at_least) for X ~ BetaBinomial(m, a, b), summed exactly in log space."""
    if at_least <= 0:
        return 1.0
    if at_least > m:
        return 0.0
    log_norm = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    total = 0.0
    for x in range(at_least, m + 1):
        log_pmf = (
            math.lgamma(m + 1)
            - math.lgamma(x + 1)
            - math.lgamma(m - x + 1)
            + math.lgamma(x + a)
            + math.lgamma(m - x + b)
            - math.lgamma(m + a + b)
            - log_norm
        )
        total += math.exp(log_pmf)
    return min(1.0, total)


class UnbeatableStop:
    """Stop when the leader's margin exceeds the samples left in a budget of ``max_n``."""

    def __init__(self, max_n: int) -> None:
        self.max_n = max_n

    def decide(self, votes: Sequence[Vote]) -> StopDecision:
        """Stop when lead - runner_up > samples remaining."""
        lead, runner_up = _lead_and_runner_up(votes)
        remaining = self.max_n - len(votes)
        stop = lead > 0 and lead - runner_up > remaining
        return StopDecision(stop, f"unbeatable: lead {lead}-{runner_up}, {remaining} left")

    def __repr__(self) -> str:
        return f"UnbeatableStop(max_n={self.max_n})"


class PredictiveStop:
    """Stop when P(the leader still leads after the whole budget | votes) >= ``threshold``."""

    def __init__(self, max_n: int, threshold: float = 0.9) -> None:
        self.max_n = max_n
        self.threshold = threshold

    def probability(self, votes: Sequence[Vote]) -> float:
        """Posterior predictive probability that the current leader still strictly leads."""
        lead, runner_up = _lead_and_runner_up(votes)
        if lead == 0:
            return 0.0
        remaining = self.max_n - len(votes)
        if remaining <= 0:
            return 1.0
        others = len(votes) - lead  # every non-leader sample, Nones included
        # Strict lead after X of the remaining go to the leader and the rest to the
        # runner-up: lead + X > runner_up + remaining - X.
        needed = (runner_up + remaining - lead) // 2 + 1
        return beta_binomial_tail(needed, remaining, lead + 1, others + 1)

    def decide(self, votes: Sequence[Vote]) -> StopDecision:
        """Stop when the predictive probability reaches the threshold."""
        probability = self.probability(votes)
        stop = probability >= self.threshold
        return StopDecision(
            stop, f"predictive: P(lead holds)={probability:.4f} after {len(votes)} samples"
        )

    def __repr__(self) -> str:
        return f"PredictiveStop(max_n={self.max_n}, threshold={self.threshold})"
