"""Budget-aware rules: stop once the rest of the budget can (probably) not change the vote."""

from __future__ import annotations

import copy
import math
from collections import Counter
from collections.abc import Sequence

from promptlab._checks import is_number
from promptlab.strategies.stopping._rule import (
    StopDecision,
    StoppingParameterError,
    Vote,
    _check_threshold,
    _lead_and_runner_up,
    _require_int,
)
from promptlab.strategies.stopping._vote_forecast import final_vote_holds


class _BudgetRule:
    """What budget-aware rules share: ``max_n`` given at construction or by the loop."""

    tag = ""

    def __init__(self, max_n: int | None = None) -> None:
        self.max_n = None if max_n is None else _require_int("max_n", max_n, 1)

    def for_budget(self, max_n: int) -> _BudgetRule:
        """A copy of this rule for a budget of ``max_n`` samples (the loop calls this)."""
        bound = copy.copy(self)
        bound.max_n = _require_int("max_n", max_n, 1)
        return bound

    def _remaining(self, votes: Sequence[Vote]) -> int:
        if self.max_n is None:
            raise StoppingParameterError(
                f"{type(self).__name__} needs the sample budget: use it as the stopping rule "
                f"of SelfConsistency (which passes its n), or give max_n=... yourself."
            )
        return max(self.max_n - len(votes), 0)


class _ForecastRule(_BudgetRule):
    """What forecasting rules share: stop once a forecast for the whole budget reaches
    ``threshold``, never before ``min_samples`` samples or an extractable answer."""

    def __init__(self, threshold: float, min_samples: int, max_n: int | None) -> None:
        super().__init__(max_n)
        self.threshold = _check_threshold(threshold)
        self.min_samples = _require_int("min_samples", min_samples, 1)

    def decide(self, votes: Sequence[Vote]) -> StopDecision:
        """Stop when the rule's forecast reaches the threshold."""
        remaining = self._remaining(votes)
        n = len(votes)
        if n < self.min_samples:
            return StopDecision(False, f"{self.tag}: {n} samples < min_samples={self.min_samples}")
        if all(v is None for v in votes):
            return StopDecision(False, f"{self.tag}: no extractable answer after {n} samples")
        label, prob = self._forecast(votes, remaining)
        stop = prob >= self.threshold
        sign = ">=" if stop else "<"
        return StopDecision(
            stop, f"{self.tag}: {label}={prob:.4f}{sign}{self.threshold} after {n} samples"
        )

    def _forecast(self, votes: Sequence[Vote], remaining: int) -> tuple[str, float]:
        """The forecast's label in reasons and its probability."""
        raise NotImplementedError


class UnbeatableStop(_BudgetRule):
    """Stop when the leading answer can no longer be overtaken within the budget.

    With ``lead`` votes for the leader, ``runner_up`` for the second answer and ``m``
    samples left of a budget of ``max_n``, the rule stops when ``lead - runner_up > m``:
    even if every remaining sample went to the runner-up (or to any other answer), the
    leader would still win the vote outright. The early answer is therefore always the
    answer of the full ``max_n`` vote: the accuracy of plain self-consistency with
    ``max_n`` samples, for fewer samples. Reason: ``"unbeatable: lead 9-2, 6 left after
    10 samples"``.

    Args:
        max_n: The budget; leave it out inside `SelfConsistency`, which passes its ``n``.

    Example:
        >>> UnbeatableStop(max_n=8).decide(["A", "A", "A", "A", "A"]).stop
        True
    """

    tag = "unbeatable"

    def decide(self, votes: Sequence[Vote]) -> StopDecision:
        """Stop when the leader's margin is larger than the samples left."""
        remaining = self._remaining(votes)
        lead, runner_up = _lead_and_runner_up(votes)
        stop = lead > 0 and lead - runner_up > remaining
        reason = f"{self.tag}: lead {lead}-{runner_up}, {remaining} left after {len(votes)} samples"
        return StopDecision(stop, reason)

    def __repr__(self) -> str:
        return f"UnbeatableStop(max_n={self.max_n})"


def lead_holds_probability(lead: int, runner_up: int, rest: int, remaining: int) -> float:
    """P(the leader is still strictly ahead of the runner-up after ``remaining`` samples).

    The shares of (leader, runner-up, everything else, Nones included) get a Dirichlet
    posterior under a uniform prior, ``Dirichlet(lead + 1, runner_up + 1, rest + 1)``, so
    the counts ``(x, y, z)`` of the remaining samples are Dirichlet-multinomial; the sum
    runs over every outcome with ``lead + x > runner_up + y``. Exact up to floating point;
    ``O(remaining**2)`` terms.

    Args:
        lead: Votes for the leading answer.
        runner_up: Votes for the second answer (0 if none).
        rest: All other samples drawn so far (other answers and unextractable ones).
        remaining: Samples still to draw in the budget.
    """
    for name, value in (("lead", lead), ("runner_up", runner_up), ("rest", rest)):
        _require_int(name, value, 0)
    _require_int("remaining", remaining, 0)
    a, b, c = lead + 1, runner_up + 1, rest + 1
    m = remaining
    log_norm = (
        math.lgamma(a + b + c)
        - math.lgamma(m + a + b + c)
        + math.lgamma(m + 1)
        - math.lgamma(a)
        - math.lgamma(b)
        - math.lgamma(c)
    )
    total = 0.0
    for x in range(m + 1):
        for y in range(m - x + 1):
            if lead + x <= runner_up + y:
                continue
            z = m - x - y
            total += math.exp(
                log_norm
                + math.lgamma(x + a)
                - math.lgamma(x + 1)
                + math.lgamma(y + b)
                - math.lgamma(y + 1)
                + math.lgamma(z + c)
                - math.lgamma(z + 1)
            )
    return min(total, 1.0)


class PredictiveStop(_ForecastRule):
    """Stop when the leader will probably still lead once the whole budget is drawn.

    The question it asks is the one that matters for the result: would the full
    ``max_n`` vote agree with the vote now? It stops when `lead_holds_probability` (the
    posterior predictive probability that the leader stays strictly ahead of the runner-up
    over the remaining samples) reaches ``threshold``, and never before ``min_samples``.
    Unlike `BetaStop` it needs fewer votes as the budget runs out, and at the last sample it
    always agrees with the full vote. On the self-consistency benchmark's simulation
    (``python -m bench.self_consistency``) it saves the most samples per point of accuracy
    of the rules measured; combine it with `UnbeatableStop` in `AnyStop` to also stop
    whenever the outcome is already certain.

    Reason: ``"predictive: P(lead holds)=0.9612>=0.95 after 6 samples"``.

    Args:
        threshold: Required probability, in (0.5, 1).
        min_samples: Never stop before this many samples (Nones included).
        max_n: The budget; leave it out inside `SelfConsistency`, which passes its ``n``.
    """

    tag = "predictive"

    def __init__(
        self, threshold: float = 0.95, min_samples: int = 4, max_n: int | None = None
    ) -> None:
        super().__init__(threshold, min_samples, max_n)

    def _forecast(self, votes: Sequence[Vote], remaining: int) -> tuple[str, float]:
        lead, runner_up = _lead_and_runner_up(votes)
        rest = len(votes) - lead - runner_up
        return "P(lead holds)", lead_holds_probability(lead, runner_up, rest, remaining)

    def __repr__(self) -> str:
        return (
            f"PredictiveStop(threshold={self.threshold}, min_samples={self.min_samples}, "
            f"max_n={self.max_n})"
        )


def final_vote_probability(votes: Sequence[Vote], remaining: int, unseen: float = 1.0) -> float:
    """P(the vote's current winner is also the winner once ``remaining`` more are drawn).

    The posterior predictive of a Dirichlet process over answers (a Chinese restaurant
    process with concentration ``unseen``): the next sample repeats a seen answer (or
    None) in proportion to its count so far and is an answer never seen before with
    probability ``unseen / (n + unseen)``. The sum runs exactly over the remaining samples'
    outcomes in which the current winner (most votes, first seen among ties) still wins
    the final vote under the same tie rule: every answer seen before it must end strictly
    below it, every later or new answer at or below it, and a None never wins. At
    ``remaining=0`` it is 1, and it is 1 whenever the lead cannot be overtaken. The
    derivation is in ``promptlab/strategies/stopping/_vote_forecast.py``.

    Args:
        votes: The answers so far, in order (None = nothing extractable); at least one
            non-None answer.
        remaining: Samples still to draw.
        unseen: Weight of the answers not seen yet, > 0 (1 is the usual default of a
            Dirichlet process; larger expects more distinct answers).

    Example:
        >>> round(final_vote_probability(["A", "A", "A"], remaining=13), 4)
        0.9705
    """
    _require_int("remaining", remaining, 0)
    if not is_number(unseen) or not unseen > 0:
        raise StoppingParameterError(f"unseen={unseen!r} is not allowed: use a number > 0.")
    counts = Counter(v for v in votes if v is not None)
    if not counts:
        raise StoppingParameterError(
            "votes hold no extractable answer: there is no winner to forecast."
        )
    return final_vote_holds(list(counts.values()), len(votes) - counts.total(), remaining, unseen)


class FinalVoteStop(_ForecastRule):
    """Stop when the vote now will, with probability >= threshold, be the full budget's vote.

    The probability is `final_vote_probability`: exact, over every answer seen (not only
    the top two), with room for answers not seen yet, and with the vote's own tie rule.
    Accuracy can only change where the early vote differs from the ``max_n`` vote, so
    this is the quantity that bounds the accuracy cost: under the model each stop risks a
    change with probability at most ``1 - threshold``, and a change costs accuracy only
    when one of the two answers is right. Where the lead cannot be overtaken the
    probability is 1, so the rule includes `UnbeatableStop`.

    Why a Dirichlet process with concentration 1 (``unseen=1``) and no pseudo-count on
    the seen answers: it is the usual non-informative predictive for an open set of
    answers, and on the self-consistency benchmark's simulation its forecasts match how
    often the vote really changed, over the whole range (predicted 3.1% vs 2.8% observed,
    8.7% vs 8.2%, 13.1% vs 12.5%, 31% vs 32%; below 20%, where it stops, it errs only
    towards more change: ``python -m bench.sc_simulation --calibration``).
    `lead_holds_probability` (leader vs runner-up vs the rest, uniform prior) overstates
    small risks two- to seven-fold, and a uniform pseudo-count on every seen answer was
    found overconfident after two agreeing votes. So ``threshold`` reads as what it says:
    the default 0.95 (the family's usual level) stops once a different final answer has
    at most about a 5% chance. No ``min_samples`` is needed: a single vote gives 0.66 and
    two agreeing votes 0.90 with a budget of 16.

    On the benchmark's simulation (``python -m bench.self_consistency``) it trades samples
    for accuracy as well as the Bayes-optimal policy fitted to that very mix
    (``bench.sc_simulation.MixOptimal``), which no rule seeing only the votes can beat
    there: about 50% fewer samples than n = 16 at about half a point of accuracy.

    Reason: ``"final_vote: P(same as n=16)=0.9705>=0.95 after 3 samples"``.

    Args:
        threshold: Required probability that the final vote agrees, in (0.5, 1).
        unseen: Weight of answers not seen yet (`final_vote_probability`), > 0.
        min_samples: Never stop before this many samples (Nones included).
        max_n: The budget; leave it out inside `SelfConsistency`, which passes its ``n``.

    Example:
        >>> FinalVoteStop(0.95, max_n=16).decide(["A", "A", "A"]).stop
        True
    """

    tag = "final_vote"

    def __init__(
        self,
        threshold: float = 0.95,
        unseen: float = 1.0,
        min_samples: int = 1,
        max_n: int | None = None,
    ) -> None:
        super().__init__(threshold, min_samples, max_n)
        if not is_number(unseen) or not unseen > 0:
            raise StoppingParameterError(f"unseen={unseen!r} is not allowed: use a number > 0.")
        self.unseen = float(unseen)

    def _forecast(self, votes: Sequence[Vote], remaining: int) -> tuple[str, float]:
        return f"P(same as n={self.max_n})", final_vote_probability(votes, remaining, self.unseen)

    def __repr__(self) -> str:
        return (
            f"FinalVoteStop(threshold={self.threshold}, unseen={self.unseen}, "
            f"min_samples={self.min_samples}, max_n={self.max_n})"
        )
