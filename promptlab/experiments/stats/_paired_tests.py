"""Paired comparison of two arms scored on the same tasks.

Pairing matters: two prompts run on the same tasks share each task's difficulty, so the
per-task difference ``a - b`` is far less noisy than the two accuracies on their own. An
unpaired test throws that away and needs many more tasks to see the same difference.

- Binary scores (every score 0 or 1): McNemar's *exact* test, i.e. a two-sided binomial
  test on the discordant tasks (only one arm right). Concordant tasks carry no information
  about which arm is better.
- Continuous scores (anything else, including 0/1 scores averaged over repeats): the
  Wilcoxon signed-rank test on the per-task differences.

Either way the accuracy (mean score) difference gets a paired-bootstrap percentile
interval: task indices are resampled with replacement, so each resample keeps every
task's pair together. When tasks come in clusters (pass ``clusters``) whole clusters are
resampled instead (a cluster bootstrap, ``ci_method="cluster_bootstrap"``); the tests'
p-values still treat tasks as independent, and the note says so.

The per-task Pearson correlation between the two arms (``correlation``) shows how much
pairing gained: the variance of the difference is ``var(a) + var(b) - 2 cov(a, b)``, so
the higher the correlation, the narrower the paired interval compared with an unpaired one.

Example:
    >>> result = compare_paired([1, 1, 1, 0, 1], [0, 1, 0, 0, 1], seed=0)
    >>> result.test, result.a_only_correct, result.b_only_correct
    ('mcnemar_exact', 2, 0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from promptlab.experiments.stats._accuracy import (
    ClusterLabels,
    as_paired_arrays,
    as_score_array,
    check_confidence,
    check_n_bootstrap,
    cluster_bootstrap_ci,
    is_binary,
)

__all__ = ["PairedComparison", "compare_paired", "pair_correlation", "paired_bootstrap_ci"]

# Resample in blocks so that memory stays near this many index entries however many tasks
# there are (10_000 resamples x 10_000 tasks would otherwise be 800 MB of indices).
_MAX_INDICES_PER_BLOCK = 2_000_000


@dataclass(frozen=True)
class PairedComparison:
    """Result of comparing arm A with arm B on the same tasks.

    Attributes:
        n_pairs: Number of tasks scored in both arms.
        mean_a: Mean score of arm A (its accuracy for binary scores).
        mean_b: Mean score of arm B.
        diff: ``mean_a - mean_b``; positive means A scored higher.
        ci_low: Lower end of the paired-bootstrap interval for ``diff``.
        ci_high: Upper end of the paired-bootstrap interval for ``diff``.
        confidence: Coverage of the interval, e.g. 0.95.
        test: ``"mcnemar_exact"``, ``"wilcoxon_signed_rank"``, or ``"none"`` (no pairs).
        statistic: McNemar: ``min(b, c)``; Wilcoxon: the smaller of the signed-rank sums
            (scipy's two-sided statistic). NaN for ``"none"``.
        p_value: Two-sided p-value of the test; NaN for ``"none"``.
        a_only_correct: McNemar's *b*, tasks A got right and B got wrong (binary only).
        b_only_correct: McNemar's *c*, tasks A got wrong and B got right (binary only).
        n_bootstrap: Number of bootstrap resamples behind the interval.
        note: Caveats in plain words, or ``""``.
        ci_method: ``"paired_bootstrap"`` (tasks resampled) or ``"cluster_bootstrap"``
            (clusters of tasks resampled).
        n_clusters: Number of clusters for a cluster bootstrap, else None.
        correlation: Pearson correlation of the two arms' per-task scores; NaN with fewer
            than two pairs or when either arm scored every task the same.
    """

    n_pairs: int
    mean_a: float
    mean_b: float
    diff: float
    ci_low: float
    ci_high: float
    confidence: float
    test: str
    statistic: float
    p_value: float
    a_only_correct: int | None
    b_only_correct: int | None
    n_bootstrap: int
    note: str = ""
    ci_method: str = "paired_bootstrap"
    n_clusters: int | None = None
    correlation: float = math.nan


def paired_bootstrap_ci(
    differences: ArrayLike,
    *,
    seed: int | None,
    n_bootstrap: int = 10_000,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval for the mean of per-task differences.

    Resamples task indices with replacement (``n_bootstrap`` resamples of ``n`` tasks each)
    from ``numpy.random.default_rng(seed)``, so the interval is reproducible given the seed.

    Args:
        differences: Per-task differences ``a - b``.
        seed: Seed for numpy's ``default_rng``; ``None`` draws fresh entropy (not reproducible).
        n_bootstrap: Number of resamples, at least 1.
        confidence: Coverage of the interval, strictly between 0 and 1.

    Returns:
        ``(low, high)``; ``(nan, nan)`` when there are no differences.

    Raises:
        StatisticsInputError: Bad ``n_bootstrap`` or ``confidence``, or non-finite differences.
    """
    check_confidence(confidence)
    check_n_bootstrap(n_bootstrap)
    values = as_score_array(differences, name="differences")
    n = values.size
    if n == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    means = np.empty(n_bootstrap, dtype=np.float64)
    block = max(1, _MAX_INDICES_PER_BLOCK // n)
    for start in range(0, n_bootstrap, block):
        stop = min(start + block, n_bootstrap)
        indices = rng.integers(0, n, size=(stop - start, n))
        means[start:stop] = values[indices].mean(axis=1)
    alpha = 1.0 - confidence
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return (float(low), float(high))


def compare_paired(
    a_scores: ArrayLike,
    b_scores: ArrayLike,
    *,
    seed: int | None,
    n_bootstrap: int = 10_000,
    confidence: float = 0.95,
    clusters: ClusterLabels | None = None,
) -> PairedComparison:
    """Compare two arms whose scores are aligned by task (element i is the same task).

    Use :func:`promptlab.experiments.stats.pair_on_task_id` to build the aligned
    arrays from a long table of results.

    Args:
        a_scores: Arm A's score per task.
        b_scores: Arm B's score per task, same length and task order as ``a_scores``.
        seed: Seed for the bootstrap (keyword-only and required, so results are reproducible
            unless you pass ``None`` on purpose).
        n_bootstrap: Number of bootstrap resamples for the interval.
        confidence: Coverage of the interval, strictly between 0 and 1.
        clusters: Each task's cluster label (same order), or None when tasks are
            independent; with it the interval is a cluster bootstrap.

    Returns:
        A :class:`PairedComparison`. With no pairs every number is NaN, ``test`` is
        ``"none"`` and ``note`` says why.

    Raises:
        StatisticsInputError: The arrays differ in length, contain NaN/inf, or an argument
            is out of range.
    """
    check_confidence(confidence)
    check_n_bootstrap(n_bootstrap)
    a, b = as_paired_arrays(a_scores, b_scores)
    n = int(a.size)
    differences = a - b
    n_clusters: int | None = None
    if clusters is None:
        low, high = paired_bootstrap_ci(
            differences, seed=seed, n_bootstrap=n_bootstrap, confidence=confidence
        )
    else:
        low, high = cluster_bootstrap_ci(
            differences, clusters, seed=seed, n_bootstrap=n_bootstrap, confidence=confidence
        )
        n_clusters = len(set(np.asarray(clusters, dtype=object).ravel().tolist()))
    # The test-specific fields are filled in by _mcnemar_exact or _wilcoxon.
    estimate = PairedComparison(
        n_pairs=n,
        mean_a=float(a.mean()) if n else math.nan,
        mean_b=float(b.mean()) if n else math.nan,
        diff=float(differences.mean()) if n else math.nan,
        ci_low=low,
        ci_high=high,
        confidence=float(confidence),
        test="none",
        statistic=math.nan,
        p_value=math.nan,
        a_only_correct=None,
        b_only_correct=None,
        n_bootstrap=n_bootstrap,
        ci_method="paired_bootstrap" if clusters is None else "cluster_bootstrap",
        n_clusters=n_clusters,
        correlation=pair_correlation(a, b),
    )
    if n == 0:
        return replace(estimate, note="no tasks were scored in both arms; nothing to compare")
    if is_binary(a) and is_binary(b):
        result = _mcnemar_exact(a, b, estimate)
    else:
        result = _wilcoxon(differences, estimate)
    if clusters is None:
        return result
    caveat = (
        f"interval by cluster bootstrap over {n_clusters} clusters; the p-value treats "
        f"tasks as independent, so it is too small when clusters matter: trust the interval"
    )
    return replace(result, note="; ".join(part for part in (result.note, caveat) if part))


def pair_correlation(a_scores: ArrayLike, b_scores: ArrayLike) -> float:
    """Pearson correlation of two arms' per-task scores (``numpy.corrcoef``).

    NaN with fewer than two pairs, or when either arm has the same score on every task
    (the correlation is undefined then).

    Example:
        >>> round(pair_correlation([1, 0, 1, 1], [1, 0, 0, 1]), 3)
        0.577
    """
    a, b = as_paired_arrays(a_scores, b_scores)
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    return float(np.corrcoef(a, b)[0, 1])


def _mcnemar_exact(
    a: NDArray[np.float64], b: NDArray[np.float64], estimate: PairedComparison
) -> PairedComparison:
    a_right, b_right = a == 1.0, b == 1.0
    only_a = int(np.sum(a_right & ~b_right))
    only_b = int(np.sum(~a_right & b_right))
    if only_a + only_b == 0:
        return replace(
            estimate,
            test="mcnemar_exact",
            statistic=0.0,
            p_value=1.0,
            a_only_correct=0,
            b_only_correct=0,
            note="no discordant tasks (both arms right or both wrong on every task); p=1",
        )
    table = [
        [int(np.sum(a_right & b_right)), only_a],
        [only_b, int(np.sum(~a_right & ~b_right))],
    ]
    from statsmodels.stats.contingency_tables import mcnemar

    result = mcnemar(table, exact=True)
    note = ""
    if only_a + only_b < 6:
        # With 5 or fewer discordant tasks even the most lopsided split has p >= 0.0625.
        note = (
            f"only {only_a + only_b} discordant tasks; the exact test cannot reach p < 0.05 "
            f"with fewer than 6"
        )
    return replace(
        estimate,
        test="mcnemar_exact",
        statistic=float(result.statistic),
        p_value=float(result.pvalue),
        a_only_correct=only_a,
        b_only_correct=only_b,
        note=note,
    )


def _wilcoxon(differences: NDArray[np.float64], estimate: PairedComparison) -> PairedComparison:
    nonzero = int(np.count_nonzero(differences))
    if nonzero == 0:
        # scipy cannot rank an all-zero sample; identical arms are the clear answer: p = 1.
        return replace(
            estimate,
            test="wilcoxon_signed_rank",
            statistic=0.0,
            p_value=1.0,
            a_only_correct=None,
            b_only_correct=None,
            note="every per-task difference is zero; the arms scored identically, p=1",
        )
    from scipy import stats

    result = stats.wilcoxon(differences, zero_method="wilcox", alternative="two-sided")
    notes = []
    if nonzero < differences.size:
        notes.append(
            f"{differences.size - nonzero} task(s) with zero difference were left out of the "
            f"signed-rank test (they still count in diff and its interval)"
        )
    if nonzero < 6:
        notes.append(f"only {nonzero} non-zero differences; the test has very little power")
    return replace(
        estimate,
        test="wilcoxon_signed_rank",
        statistic=float(result.statistic),
        p_value=float(result.pvalue),
        a_only_correct=None,
        b_only_correct=None,
        note="; ".join(notes),
    )
