"""One-arm statistics: accuracy with a confidence interval, and latency percentiles.

Scores are per-task numbers. When every score is 0 or 1 they are *binary* (right or wrong)
and the interval is Wilson's score interval, which stays inside [0, 1] and keeps close to
its nominal coverage for small samples and accuracies near 0 or 1, where the textbook
``p ± z·sqrt(p(1-p)/n)`` interval fails. Any other scores are *continuous* and get a
Student-t interval for the mean.

Both intervals assume the tasks are independent. When tasks come in *clusters* (several
questions about one passage, one document, one template) they are not, and those
intervals are too narrow. Given each task's cluster, :func:`accuracy_summary` uses a
cluster bootstrap instead (:func:`cluster_bootstrap_ci`): whole clusters are resampled
with replacement, so the interval reflects how much clusters differ.

Paired comparisons of two arms live in :mod:`promptlab.experiments.stats`, several
arms at once in :mod:`promptlab.experiments.stats`, sample sizes in
:mod:`promptlab.experiments.stats` and Pareto fronts in
:mod:`promptlab.experiments.stats`.

Example:
    >>> wilson_interval(8, 10)  # doctest: +ELLIPSIS
    (0.4901..., 0.9433...)
    >>> accuracy_summary([1, 0, 1, 1]).method
    'wilson'
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from promptlab._checks import is_int
from promptlab.errors import ConfigurationError

__all__ = [
    "ClusterLabels",
    "ScoreSummary",
    "StatisticsInputError",
    "accuracy_summary",
    "as_score_array",
    "check_confidence",
    "check_n_bootstrap",
    "cluster_bootstrap_ci",
    "is_binary",
    "latency_percentiles",
    "wilson_interval",
]


#: Each task's cluster label, in task order (any hashable labels).
ClusterLabels: TypeAlias = "Sequence[Hashable] | NDArray[Any]"


class StatisticsInputError(ConfigurationError, ValueError):
    """Data or an argument given to a statistics function is unusable.

    It is a ``ValueError`` too, so callers that catch ``ValueError`` keep working.
    """


def check_confidence(confidence: float) -> None:
    """Raise :class:`StatisticsInputError` unless ``0 < confidence < 1``."""
    if not (isinstance(confidence, (int, float)) and 0.0 < float(confidence) < 1.0):
        raise StatisticsInputError(
            f"confidence={confidence!r} is not allowed: it must be a number strictly between "
            f"0 and 1, e.g. 0.95 for a 95% interval."
        )


def check_n_bootstrap(n_bootstrap: int) -> None:
    """Raise :class:`StatisticsInputError` unless ``n_bootstrap`` is a positive integer."""
    if not (is_int(n_bootstrap) or isinstance(n_bootstrap, np.integer)) or n_bootstrap < 1:
        raise StatisticsInputError(
            f"n_bootstrap={n_bootstrap!r} is not allowed: it must be a positive integer "
            f"(10_000 is a good default for a 95% interval)."
        )


def as_score_array(values: ArrayLike, *, name: str = "scores") -> NDArray[np.float64]:
    """Convert per-task scores to a 1-D float array, refusing NaN, infinities and text.

    Missing scores are refused rather than dropped: silently dropping failed tasks would
    make an arm look better than it is.

    Args:
        values: Anything numpy can turn into a 1-D array of numbers (booleans count as 0/1).
        name: The argument's name, used in error messages.

    Returns:
        A new 1-D ``float64`` array.

    Raises:
        StatisticsInputError: The values are not a 1-D sequence of finite numbers.
    """
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise StatisticsInputError(
            f"{name} must be a 1-D sequence of numbers; got {type(values).__name__} that "
            f"cannot be read as numbers ({exc}). Convert the scores to floats first."
        ) from exc
    if array.ndim != 1:
        raise StatisticsInputError(
            f"{name} must be 1-D (one score per task); got an array of shape {array.shape}. "
            f"Flatten it or pass one arm at a time."
        )
    bad = ~np.isfinite(array)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise StatisticsInputError(
            f"{name} contains {int(bad.sum())} missing or infinite value(s) (first at position "
            f"{first}: {array[first]!r}). Score failed tasks explicitly (e.g. 0.0) or drop "
            f"them from both arms before computing statistics."
        )
    return array


def as_paired_arrays(
    a_scores: ArrayLike, b_scores: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Both arms' per-task scores as float arrays, refusing unequal lengths.

    Raises:
        StatisticsInputError: Either input fails :func:`as_score_array`, or the two differ
            in length (the pairs would not be the same tasks).
    """
    a = as_score_array(a_scores, name="a_scores")
    b = as_score_array(b_scores, name="b_scores")
    if a.size != b.size:
        raise StatisticsInputError(
            f"a_scores has {a.size} scores but b_scores has {b.size}; paired scores must be "
            f"aligned by task. Use pair_on_task_id() to pair them on task id."
        )
    return a, b


def is_binary(scores: NDArray[np.float64]) -> bool:
    """Return True when every score is exactly 0 or 1 (an empty array counts as binary)."""
    return bool(np.all((scores == 0.0) | (scores == 1.0)))


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``successes / n``.

    Computed by statsmodels' ``proportion_confint(method="wilson")``.

    Args:
        successes: Number of correct tasks, ``0 <= successes <= n``.
        n: Number of tasks.
        confidence: Coverage of the interval, strictly between 0 and 1.

    Returns:
        ``(low, high)``; ``(nan, nan)`` when ``n == 0`` because nothing is known.

    Raises:
        StatisticsInputError: Counts are not integers, negative, or ``successes > n``.
    """
    for field, value in (("successes", successes), ("n", n)):
        if not (is_int(value) or isinstance(value, np.integer)) or value < 0:
            raise StatisticsInputError(
                f"{field}={value!r} is not allowed: it must be a non-negative integer count."
            )
    if successes > n:
        raise StatisticsInputError(
            f"successes={successes} is larger than n={n}; successes must be between 0 and n."
        )
    check_confidence(confidence)
    if n == 0:
        return (math.nan, math.nan)
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(int(successes), int(n), alpha=1 - confidence, method="wilson")
    # The closed form is exactly 0 at successes == 0 and exactly 1 at successes == n; rounding
    # can leave 2.8e-17 or 0.9999999999999999, an interval that misses its own estimate.
    estimate = successes / n
    return (min(float(low), estimate), max(float(high), estimate))


@dataclass(frozen=True)
class ScoreSummary:
    """Mean score of one arm with a confidence interval.

    Attributes:
        n: Number of scores.
        mean: Mean score (accuracy for binary scores); NaN when ``n == 0``.
        ci_low: Lower end of the interval; NaN when it cannot be computed.
        ci_high: Upper end of the interval; NaN when it cannot be computed.
        confidence: Coverage of the interval, e.g. 0.95.
        method: ``"wilson"`` for binary scores, ``"t"`` (Student-t) for continuous ones,
            ``"cluster_bootstrap"`` when the tasks' clusters were given.
        std: Sample standard deviation (``ddof=1``); NaN when ``n < 2``.
        n_clusters: Number of clusters behind a cluster-bootstrap interval, else None.
    """

    n: int
    mean: float
    ci_low: float
    ci_high: float
    confidence: float
    method: str
    std: float
    n_clusters: int | None = None


def accuracy_summary(
    scores: ArrayLike,
    *,
    confidence: float = 0.95,
    clusters: ClusterLabels | None = None,
    seed: int | None = 0,
    n_bootstrap: int = 10_000,
) -> ScoreSummary:
    """Summarise one arm's per-task scores: mean and a confidence interval.

    Binary scores (all 0 or 1) get a Wilson interval; other scores get a Student-t interval
    ``mean ± t_{n-1} · std / sqrt(n)``, which needs ``n >= 2`` (otherwise it is NaN).
    A continuous arm whose scores are all equal gets the zero-width interval ``[mean, mean]``.
    With ``clusters`` the interval is a cluster bootstrap instead (see
    :func:`cluster_bootstrap_ci`), whatever the scores.

    Args:
        scores: One score per task (average repeats per task first).
        confidence: Coverage of the interval, strictly between 0 and 1.
        clusters: Each task's cluster label (same length as ``scores``), or None when
            tasks are independent.
        seed: Seed of the cluster bootstrap (only used with ``clusters``).
        n_bootstrap: Resamples of the cluster bootstrap.

    Returns:
        A :class:`ScoreSummary`. The field ``method`` says which interval was used.

    Raises:
        StatisticsInputError: Scores contain NaN/inf or are not 1-D numbers, or
            ``clusters`` does not match them.
    """
    check_confidence(confidence)
    values = as_score_array(scores)
    n = int(values.size)
    mean = float(values.mean()) if n else math.nan
    std = float(values.std(ddof=1)) if n >= 2 else math.nan
    if clusters is not None:
        labels = _cluster_labels(clusters, n)
        low, high = cluster_bootstrap_ci(
            values, labels, seed=seed, n_bootstrap=n_bootstrap, confidence=confidence
        )
        n_clusters = int(np.unique(labels).size)
        return ScoreSummary(
            n, mean, low, high, float(confidence), "cluster_bootstrap", std, n_clusters
        )
    if is_binary(values):
        low, high = wilson_interval(int(values.sum()), n, confidence)
        return ScoreSummary(n, mean, low, high, float(confidence), "wilson", std)
    if n < 2:
        return ScoreSummary(n, mean, math.nan, math.nan, float(confidence), "t", std)
    from scipy import stats

    half_width = float(stats.t.ppf(0.5 + confidence / 2, df=n - 1)) * std / math.sqrt(n)
    return ScoreSummary(n, mean, mean - half_width, mean + half_width, float(confidence), "t", std)


def cluster_bootstrap_ci(
    values: ArrayLike,
    clusters: ClusterLabels,
    *,
    seed: int | None,
    n_bootstrap: int = 10_000,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Percentile interval for the mean of per-task values, resampling whole clusters.

    Each resample draws as many clusters as there are, with replacement, and takes the
    mean over every task of the drawn clusters (so big clusters weigh as much as their
    tasks). Tasks of one cluster move together, so their correlation widens the interval
    as it should. For a paired comparison pass the per-task differences ``a - b``: each
    pair stays together inside its task. With fewer than two clusters nothing is known
    about the spread between clusters and the interval is ``(nan, nan)``; with only a few
    (under ~20) it tends to be too narrow.

    Args:
        values: One value per task.
        clusters: Each task's cluster label (any hashable values), same length.
        seed: Seed for numpy's ``default_rng``; None draws fresh entropy.
        n_bootstrap: Number of resamples, at least 1.
        confidence: Coverage of the interval, strictly between 0 and 1.

    Returns:
        ``(low, high)``.

    Raises:
        StatisticsInputError: Non-finite values, lengths that differ, or a bad argument.

    Example:
        >>> cluster_bootstrap_ci([1, 1, 0, 0], ["p1", "p1", "p2", "p2"], seed=0)
        (0.0, 1.0)
    """
    check_confidence(confidence)
    check_n_bootstrap(n_bootstrap)
    array = as_score_array(values)
    labels = _cluster_labels(clusters, int(array.size))
    _, codes = np.unique(labels, return_inverse=True)
    sums = np.bincount(codes, weights=array)
    sizes = np.bincount(codes).astype(np.float64)
    k = int(sums.size)
    if k < 2:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    means = np.empty(n_bootstrap, dtype=np.float64)
    block = max(1, _MAX_DRAWS_PER_BLOCK // k)
    for start in range(0, n_bootstrap, block):
        stop = min(start + block, n_bootstrap)
        drawn = rng.integers(0, k, size=(stop - start, k))
        means[start:stop] = sums[drawn].sum(axis=1) / sizes[drawn].sum(axis=1)
    alpha = 1.0 - confidence
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return (float(low), float(high))


# Keeps a block of cluster draws near this many entries, however many clusters there are.
_MAX_DRAWS_PER_BLOCK = 2_000_000


def _cluster_labels(clusters: ClusterLabels, n: int) -> NDArray[np.str_]:
    labels = np.asarray([str(label) for label in np.asarray(clusters, dtype=object).ravel()])
    if labels.size != n:
        raise StatisticsInputError(
            f"clusters has {labels.size} labels but there are {n} scores; give exactly one "
            f"cluster label per task, in the same order."
        )
    return labels


def latency_percentiles(
    latencies: ArrayLike, percentiles: Sequence[float] | Iterable[float] = (50, 95)
) -> dict[str, float]:
    """Percentiles of latencies, e.g. ``{"p50": 0.8, "p95": 2.1}``.

    Uses numpy's default linear interpolation between order statistics. NaN latencies
    (calls that were not timed, such as cache hits) are ignored; if nothing is left every
    percentile is NaN.

    Args:
        latencies: Latencies in any unit (the result is in the same unit).
        percentiles: Percentiles to report, each in [0, 100].

    Returns:
        A dict keyed ``"p<percentile>"`` (``"p50"``, ``"p95"``, ``"p99.9"``) in the given order.

    Raises:
        StatisticsInputError: A percentile is outside [0, 100], or a latency is negative.
    """
    wanted = [float(p) for p in percentiles]
    for p in wanted:
        if not 0.0 <= p <= 100.0:
            raise StatisticsInputError(
                f"percentile {p!r} is not allowed: percentiles must be between 0 and 100."
            )
    values = np.asarray(latencies, dtype=np.float64).ravel()
    values = values[~np.isnan(values)]
    if (values < 0).any():
        raise StatisticsInputError(
            f"latencies contain negative values (smallest {values.min()!r}); latencies must "
            f"be durations >= 0. Check how they were measured."
        )
    keys = [f"p{p:g}" for p in wanted]
    if values.size == 0:
        return dict.fromkeys(keys, math.nan)
    results = np.percentile(values, wanted)
    return {key: float(value) for key, value in zip(keys, results, strict=True)}
