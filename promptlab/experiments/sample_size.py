"""How many tasks an experiment needs to detect a difference in accuracy.

Paired design (both arms on the same tasks, compared with McNemar's test): Connor (1987),
"Sample size for testing differences in proportions for the paired-sample design",
Biometrics 43(1):207-211, after Miettinen (1968)::

    n = ( z_{1-α/2} · sqrt(ψ) + z_{1-β} · sqrt(ψ - δ²) )² / δ²

where ``δ = p_a - p_b`` is the accuracy difference and ``ψ`` the *discordance*, the
probability that exactly one arm gets a task right. ``δ = p10 - p01`` and
``ψ = p10 + p01``, so ``ψ >= |δ|`` always.

Unpaired design (each arm on its own tasks, two-proportion z-test on Cohen's h), for
comparison: statsmodels ``NormalIndPower`` with ``proportion_effectsize``. The paired
design usually needs far fewer tasks, because shared task difficulty cancels out.

Example:
    >>> tasks_needed(0.7, 0.6, discordance=0.2)
    155
"""

from __future__ import annotations

import math

from scipy.stats import norm
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from promptlab.experiments.statistics import StatisticsInputError

__all__ = ["default_discordance", "tasks_needed", "tasks_needed_unpaired"]


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
    # p10 = (ψ + δ)/2 must fit under min(p_a, 1 - p_b), and p01 = (ψ - δ)/2 under
    # min(p_b, 1 - p_a); together with ψ >= |δ| that bounds what ψ can be.
    psi_max = min(2 * min(p_a, 1 - p_b) - delta, 2 * min(p_b, 1 - p_a) + delta)
    if not (isinstance(psi, (int, float)) and abs(delta) <= psi <= psi_max + 1e-12):
        raise StatisticsInputError(
            f"discordance={discordance!r} is impossible for p_a={p_a} and p_b={p_b}: it must "
            f"lie between |p_a - p_b| = {abs(delta):.4g} and {psi_max:.4g}. It is the share "
            f"of tasks where exactly one arm is right; leave it None to use the default."
        )
    z_alpha = norm.ppf(1 - alpha / 2)
    z_beta = norm.ppf(power)
    n = (z_alpha * math.sqrt(psi) + z_beta * math.sqrt(max(psi - delta**2, 0.0))) ** 2 / delta**2
    return math.ceil(n - 1e-9)  # the tolerance keeps float noise from adding a task


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
