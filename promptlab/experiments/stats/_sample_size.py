"""How many tasks an experiment needs to detect a difference in accuracy.

Paired design (both arms on the same tasks, compared with McNemar's test): Connor (1987),
"Sample size for testing differences in proportions for the paired-sample design",
Biometrics 43(1):207-211, after Miettinen (1968)::

    n = ( z_{1-α/2} · sqrt(ψ) + z_{1-β} · sqrt(ψ - δ²) )² / δ²

where ``δ = p_a - p_b`` is the accuracy difference and ``ψ`` the *discordance*, the
probability that exactly one arm gets a task right. ``δ = p10 - p01`` and
``ψ = p10 + p01``, so ``ψ >= |δ|`` always.

Graded per-task scores (anything but 0/1, including right/wrong scores averaged over
repeats, which `compare` tests with Wilcoxon's signed-rank test): the normal approximation
for a paired test on the per-task differences ``d``, with ``σ`` their standard deviation::

    n = ( (z_{1-α/2} + z_{1-β}) · σ / δ )²

From a pilot run (`tasks_needed_from_scores`, behind ``Run.tasks_needed``) the nuisance
parameter is the *observed* one: ψ = share of discordant tasks for 0/1 scores, σ² = plug-in
variance of the per-task differences for graded ones, held fixed when a target difference
is asked for. If the observed value is impossible for the target accuracies, the largest
possible value is used instead (the conservative bound: most tasks), and the result says so.
Repeats enter through the per-task means: the count is of tasks, each run with as many
repeats as in the pilot.

Unpaired design (each arm on its own tasks, two-proportion z-test on Cohen's h), for
comparison: statsmodels ``NormalIndPower`` with ``proportion_effectsize``. The paired
design usually needs far fewer tasks, because shared task difficulty cancels out.

Example:
    >>> tasks_needed(0.7, 0.6, discordance=0.2)
    155
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from promptlab.experiments.stats._accuracy import (
    StatisticsInputError,
    as_paired_arrays,
    is_binary,
)

__all__ = [
    "TasksNeeded",
    "default_discordance",
    "tasks_needed",
    "tasks_needed_from_scores",
    "tasks_needed_graded",
    "tasks_needed_unpaired",
]


class TasksNeeded(int):
    """A number of tasks (an ``int``) that also carries the assumptions behind it.

    It compares, sorts and computes like the plain number; its ``repr`` states the
    assumption, so a notebook shows it next to the count.

    Attributes:
        p_a: Accuracy (mean score) of arm A the count is for.
        p_b: Accuracy of arm B.
        method: ``"mcnemar"`` (Connor's formula, 0/1 scores) or ``"paired_normal"``
            (graded per-task scores).
        nuisance: The discordance ψ (``"mcnemar"``) or the standard deviation σ of the
            per-task differences (``"paired_normal"``) used in the formula.
        assumption: Where that value came from, in plain words.
        alpha: Two-sided significance level.
        power: Power.
    """

    p_a: float
    p_b: float
    method: str
    nuisance: float
    assumption: str
    alpha: float
    power: float

    def __new__(cls, tasks: int, **details: Any) -> TasksNeeded:
        """Build from the count and the keyword attributes listed in the class docstring."""
        self = super().__new__(cls, tasks)
        for name in ("p_a", "p_b", "method", "nuisance", "assumption", "alpha", "power"):
            setattr(self, name, details[name])
        return self

    def __repr__(self) -> str:
        symbol = "discordance" if self.method == "mcnemar" else "sd of differences"
        return (
            f"TasksNeeded({int(self)}, p_a={self.p_a:.4g}, p_b={self.p_b:.4g}, "
            f"{symbol}={self.nuisance:.4g}, alpha={self.alpha:g}, power={self.power:g}: "
            f"{self.assumption})"
        )

    __str__ = int.__repr__  # print() and f-strings show the plain number


def default_discordance(p_a: float, p_b: float) -> float:
    """Discordance if the two arms were right or wrong independently of each other.

    ``ψ = p_a(1 - p_b) + p_b(1 - p_a)``. Two prompts on the same tasks are nearly always
    *positively* correlated (hard tasks are hard for both), which makes the real ψ smaller
    and the real sample size smaller too, so this default errs on the side of too many
    tasks. It is not a worst case: arms that are negatively correlated have a larger ψ.
    """
    return p_a * (1 - p_b) + p_b * (1 - p_a)


def tasks_needed(
    p_a: float,
    p_b: float,
    *,
    discordance: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
) -> int:
    """Paired tasks needed for McNemar's test to detect ``p_a`` vs ``p_b`` (Connor 1987).

    Args:
        p_a: Expected accuracy of arm A, in [0, 1].
        p_b: Expected accuracy of arm B, in [0, 1], different from ``p_a``.
        discordance: Probability that exactly one arm is right on a task (estimate it from
            a pilot run as ``(b + c) / n``). Default: :func:`default_discordance`, which
            assumes the arms are independent and so errs on the side of more tasks.
        alpha: Two-sided significance level, in (0, 1).
        power: Probability of detecting the difference, in (0, 1).

    Returns:
        The number of tasks, rounded up.

    Raises:
        StatisticsInputError: A probability is out of range, ``p_a == p_b``, or the
            discordance is impossible for these accuracies.
    """
    _check_accuracies(p_a, p_b)
    _check_open_unit("alpha", alpha, "e.g. 0.05")
    _check_open_unit("power", power, "e.g. 0.8")
    delta = p_a - p_b
    psi = default_discordance(p_a, p_b) if discordance is None else discordance
    psi_max = _max_discordance(p_a, p_b)  # and ψ >= |δ|: the bounds of a possible ψ
    if not (isinstance(psi, (int, float)) and abs(delta) <= psi <= psi_max + 1e-12):
        raise StatisticsInputError(
            f"discordance={discordance!r} is impossible for p_a={p_a} and p_b={p_b}: it must "
            f"lie between |p_a - p_b| = {abs(delta):.4g} and {psi_max:.4g}. It is the share "
            f"of tasks where exactly one arm is right; leave it None to use the default."
        )
    return _connor(delta, psi, alpha, power)


def _connor(delta: float, psi: float, alpha: float, power: float) -> int:
    from scipy.stats import norm

    z_alpha = norm.ppf(1 - alpha / 2)
    z_beta = norm.ppf(power)
    n = (z_alpha * math.sqrt(psi) + z_beta * math.sqrt(max(psi - delta**2, 0.0))) ** 2 / delta**2
    return math.ceil(n - 1e-9)  # the tolerance keeps float noise from adding a task


def _max_discordance(p_a: float, p_b: float) -> float:
    # p10 = (ψ + δ)/2 must fit under min(p_a, 1 - p_b), and p01 = (ψ - δ)/2 under
    # min(p_b, 1 - p_a); this is the largest ψ the two accuracies allow.
    delta = p_a - p_b
    return min(2 * min(p_a, 1 - p_b) - delta, 2 * min(p_b, 1 - p_a) + delta)


def tasks_needed_graded(
    difference: float, sd: float, *, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Paired tasks needed to detect a mean difference in graded per-task scores.

    The normal approximation for a paired test on the per-task differences:
    ``n = ((z_{1-α/2} + z_{1-β}) · sd / difference)²``, rounded up, at least 1.

    Args:
        difference: The mean per-task difference to detect, not 0.
        sd: Standard deviation of the per-task differences, >= 0.
        alpha: Two-sided significance level, in (0, 1).
        power: Probability of detecting the difference, in (0, 1).

    Example:
        >>> tasks_needed_graded(0.1, 0.3)
        71
    """
    _check_open_unit("alpha", alpha, "e.g. 0.05")
    _check_open_unit("power", power, "e.g. 0.8")
    if not (isinstance(difference, (int, float)) and math.isfinite(difference) and difference):
        raise StatisticsInputError(
            f"difference={difference!r} is not allowed: pass the non-zero mean difference "
            "to detect, e.g. 0.05."
        )
    if not (isinstance(sd, (int, float)) and math.isfinite(sd) and sd >= 0):
        raise StatisticsInputError(
            f"sd={sd!r} is not allowed: the standard deviation of the per-task differences "
            "is a number >= 0."
        )
    from scipy.stats import norm

    z_sum = norm.ppf(1 - alpha / 2) + norm.ppf(power)
    return max(1, math.ceil((z_sum * sd / difference) ** 2 - 1e-9))


def tasks_needed_from_scores(
    a_scores: ArrayLike,
    b_scores: ArrayLike,
    *,
    p_a: float | None = None,
    p_b: float | None = None,
    difference: float | None = None,
    discordance: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    repeats: int = 1,
) -> TasksNeeded:
    """Paired tasks needed, with what is not given estimated from a pilot's per-task scores.

    ``a_scores[i]`` and ``b_scores[i]`` are the two arms' scores on task ``i``, each the
    mean over its repeats (as `pair_on_task_id` gives them). Accuracies default to the
    observed means; with ``difference`` the target is ``p_a = p_b + difference`` (or
    ``p_b - difference`` if that leaves [0, 1]).

    The nuisance parameter is the observed one and is held fixed for a target difference:
    for 0/1 scores the discordance ψ (share of tasks where exactly one arm is right) in
    Connor's formula; for graded scores (repeats averaged into fractions, say) the
    standard deviation of the per-task differences in `tasks_needed_graded`. If the
    observed value is impossible for the target accuracies (a target difference larger
    than the share of discordant tasks, say), the largest possible value is used: the
    conservative bound. A given ``discordance`` uses Connor's formula as given. The
    result's ``assumption`` says which case applied.

    Raises:
        StatisticsInputError: No scores and not enough given to compute without them, the
            two accuracies are equal, or an argument is out of range.
    """
    _check_open_unit("alpha", alpha, "e.g. 0.05")
    _check_open_unit("power", power, "e.g. 0.8")
    a, b = as_paired_arrays(a_scores, b_scores)
    if a.size == 0 and (p_a is None or p_b is None or discordance is None):
        raise StatisticsInputError(
            "no task was scored in both arms, so nothing can be estimated; pass p_a=, p_b= "
            "and discordance=."
        )
    target_b = float(b.mean()) if p_b is None else p_b
    if difference is not None:
        target_a = target_b + difference
        if not 0.0 <= target_a <= 1.0:
            target_a = target_b - difference
    else:
        target_a = float(a.mean()) if p_a is None else p_a
    if target_a == target_b:
        raise StatisticsInputError(
            f"both arms score {target_a:.3f}; a sample size exists only for a difference. "
            f"Pass difference= (e.g. 0.05) for the smallest gain you care about."
        )
    _check_accuracies(target_a, target_b)
    common = {"p_a": target_a, "p_b": target_b, "alpha": alpha, "power": power}
    design = f"{repeats} repeats per task, as in this run" if repeats > 1 else "one run per task"
    if discordance is not None:
        n = tasks_needed(target_a, target_b, discordance=discordance, alpha=alpha, power=power)
        return TasksNeeded(
            n, method="mcnemar", nuisance=discordance, assumption="discordance as given", **common
        )
    delta = target_a - target_b
    diffs = a - b
    bound = _max_discordance(target_a, target_b)
    if is_binary(a) and is_binary(b):  # the scores compare() tests with McNemar
        observed = float(np.mean(diffs != 0))
        psi = observed
        source = f"observed discordance {observed:.4g} ({a.size} tasks)"
        if not abs(delta) - 1e-12 <= observed <= bound + 1e-12:
            psi = bound
            source = (
                f"observed discordance {observed:.4g} is impossible for these accuracies "
                f"(allowed {abs(delta):.4g} to {bound:.4g}), so the conservative bound "
                f"{bound:.4g} (the most tasks)"
            )
        n = _connor(delta, psi, alpha, power)
        assumption = f"McNemar (Connor 1987), {source}; {design}"
        return TasksNeeded(n, method="mcnemar", nuisance=psi, assumption=assumption, **common)
    variance = float(np.mean((diffs - diffs.mean()) ** 2))
    most = max(bound - delta**2, 0.0)  # E[d²] <= ψ_max, so Var(d) <= ψ_max - δ²
    sd = math.sqrt(variance)
    source = f"observed sd {sd:.4g} ({a.size} tasks)"
    if variance > most + 1e-12:
        sd = math.sqrt(most)
        source = (
            f"observed sd {math.sqrt(variance):.4g} is impossible for these accuracies, so "
            f"the conservative bound {sd:.4g} (the most tasks)"
        )
    n = tasks_needed_graded(delta, sd, alpha=alpha, power=power)
    assumption = f"paired normal approximation on per-task mean differences, {source}; {design}"
    return TasksNeeded(n, method="paired_normal", nuisance=sd, assumption=assumption, **common)


def tasks_needed_unpaired(
    p_a: float, p_b: float, *, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Tasks needed *per arm* when the two arms run on different tasks (unpaired design).

    Two-sided two-proportion z-test on Cohen's effect size
    ``h = 2·asin(sqrt(p_a)) - 2·asin(sqrt(p_b))``, solved by statsmodels ``NormalIndPower``
    with equal arm sizes; approximately ``2 · ((z_{1-α/2} + z_{1-β}) / h)²``.

    Args:
        p_a: Expected accuracy of arm A, in [0, 1].
        p_b: Expected accuracy of arm B, in [0, 1], different from ``p_a``.
        alpha: Two-sided significance level, in (0, 1).
        power: Probability of detecting the difference, in (0, 1).

    Returns:
        Tasks per arm (the total is twice this), rounded up.

    Raises:
        StatisticsInputError: A probability is out of range or ``p_a == p_b``.
    """
    _check_accuracies(p_a, p_b)
    _check_open_unit("alpha", alpha, "e.g. 0.05")
    _check_open_unit("power", power, "e.g. 0.8")
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    effect = proportion_effectsize(p_a, p_b)
    n = NormalIndPower().solve_power(
        effect_size=abs(effect), alpha=alpha, power=power, ratio=1.0, alternative="two-sided"
    )
    return math.ceil(float(n) - 1e-9)


def _check_accuracies(p_a: float, p_b: float) -> None:
    for field, value in (("p_a", p_a), ("p_b", p_b)):
        if not (isinstance(value, (int, float)) and 0.0 <= value <= 1.0):
            raise StatisticsInputError(
                f"{field}={value!r} is not allowed: an accuracy must be a number in [0, 1]."
            )
    if p_a == p_b:
        raise StatisticsInputError(
            f"p_a and p_b are both {p_a}; a sample size exists only for a difference. "
            f"Pass the smallest difference you care to detect, e.g. p_b = p_a - 0.05."
        )


def _check_open_unit(field: str, value: float, example: str) -> None:
    if not (isinstance(value, (int, float)) and 0.0 < value < 1.0):
        raise StatisticsInputError(
            f"{field}={value!r} is not allowed: it must be strictly between 0 and 1 ({example})."
        )
