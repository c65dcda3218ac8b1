"""Pair arms on task id and compare several arms with a multiple-testing correction.

Results come as a *long* table: one row per (arm, task, repeat) with a score. Arms are
compared only on tasks that both arms scored; repeats of a task are averaged first, so
each task counts once whatever its number of samples.

Comparing k arms means k(k-1)/2 tests, and with many tests some will look significant by
chance. Holm's step-down correction keeps the chance of *any* false positive at ``alpha``
and is uniformly more powerful than Bonferroni, with no assumptions about how the tests
depend on each other (they share arms, so they are dependent).

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"arm": ["cot", "cot", "plain", "plain"],
    ...                    "task_id": [1, 2, 1, 2], "score": [1, 1, 0, 1]})
    >>> pair_on_task_id(df, "arm", "cot", "plain").a_scores
    array([1., 1.])
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from promptlab.experiments.stats._accuracy import StatisticsInputError, check_confidence
from promptlab.experiments.stats._paired_tests import compare_paired

__all__ = [
    "COMPARISON_COLUMNS",
    "PairedScores",
    "arm_pairs",
    "compare_all_pairs",
    "comparison_row",
    "holm_adjust",
    "pair_on_task_id",
    "task_clusters",
    "with_holm",
]

#: The columns of one comparison row (see :func:`comparison_row`), in order. Every one
#: but ``n_dropped`` (which comes from the pairing) is a field of
#: :class:`~promptlab.experiments.stats.PairedComparison`.
COMPARISON_COLUMNS = (
    "n_pairs",
    "n_dropped",
    "mean_a",
    "mean_b",
    "correlation",
    "diff",
    "ci_low",
    "ci_high",
    "ci_method",
    "test",
    "statistic",
    "p_value",
    "a_only_correct",
    "b_only_correct",
    "note",
)


@dataclass(frozen=True, eq=False)
class PairedScores:
    """Two arms' scores aligned on the tasks both arms scored.

    Attributes:
        arm_a: Label of arm A.
        arm_b: Label of arm B.
        task_ids: The paired task ids, sorted; element i of each score array is this task.
        a_scores: Arm A's mean score per task (repeats averaged).
        b_scores: Arm B's mean score per task (repeats averaged).
        only_in_a: Task ids scored by A but not by B (dropped), sorted.
        only_in_b: Task ids scored by B but not by A (dropped), sorted.
    """

    arm_a: Hashable
    arm_b: Hashable
    task_ids: tuple[Hashable, ...]
    a_scores: NDArray[np.float64]
    b_scores: NDArray[np.float64]
    only_in_a: tuple[Hashable, ...]
    only_in_b: tuple[Hashable, ...]

    @property
    def n_dropped(self) -> int:
        """Number of tasks dropped because only one of the two arms scored them."""
        return len(self.only_in_a) + len(self.only_in_b)


def pair_on_task_id(
    df: pd.DataFrame,
    arm_col: str,
    a: Hashable,
    b: Hashable,
    task_col: str = "task_id",
    score_col: str = "score",
) -> PairedScores:
    """Align two arms' scores by task id from a long results table.

    Repeats of a task within an arm are averaged (so 0/1 scores with repeats can become
    fractions, and :func:`compare_paired` then treats them as continuous). Tasks scored by
    only one of the arms are dropped and listed in the result.

    Args:
        df: Long table with one row per scored (arm, task[, repeat]).
        arm_col: Column holding the arm label.
        a: Label of arm A.
        b: Label of arm B.
        task_col: Column holding the task id.
        score_col: Column holding the numeric score.

    Returns:
        A :class:`PairedScores`.

    Raises:
        StatisticsInputError: A column or arm is missing, ``a == b``, or a score is
            missing or not numeric.
    """
    _check_table(df, arm_col, task_col, score_col)
    if a == b:
        raise StatisticsInputError(f"a and b are both {a!r}; pick two different arms to compare.")
    per_task = {arm: _mean_per_task(df, arm_col, arm, task_col, score_col) for arm in (a, b)}
    a_means, b_means = per_task[a], per_task[b]
    shared = a_means.index.intersection(b_means.index).sort_values()
    return PairedScores(
        arm_a=a,
        arm_b=b,
        task_ids=tuple(shared),
        a_scores=a_means.loc[shared].to_numpy(dtype=np.float64),
        b_scores=b_means.loc[shared].to_numpy(dtype=np.float64),
        only_in_a=tuple(a_means.index.difference(b_means.index).sort_values()),
        only_in_b=tuple(b_means.index.difference(a_means.index).sort_values()),
    )


def holm_adjust(p_values: ArrayLike) -> NDArray[np.float64]:
    """Holm step-down adjusted p-values (statsmodels ``multipletests(method="holm")``).

    NaN p-values (comparisons that could not be made) stay NaN and do not count towards
    the number of tests.

    Args:
        p_values: Raw p-values, each in [0, 1] or NaN.

    Returns:
        Adjusted p-values in the input order; reject where ``adjusted <= alpha``.

    Raises:
        StatisticsInputError: A p-value is outside [0, 1].
    """
    raw = np.asarray(p_values, dtype=np.float64).ravel()
    known = ~np.isnan(raw)
    if ((raw[known] < 0) | (raw[known] > 1)).any():
        raise StatisticsInputError(
            f"p_values must lie in [0, 1] (or be NaN); got {raw[known].tolist()}."
        )
    adjusted = np.full(raw.shape, np.nan)
    if known.any():
        from statsmodels.stats.multitest import multipletests

        adjusted[known] = multipletests(raw[known], method="holm")[1]
    return adjusted


def compare_all_pairs(
    df: pd.DataFrame,
    arm_col: str,
    *,
    seed: int | None,
    arms: Sequence[Hashable] | None = None,
    baseline: Hashable | None = None,
    task_col: str = "task_id",
    score_col: str = "score",
    n_bootstrap: int = 10_000,
    confidence: float = 0.95,
    alpha: float = 0.05,
    clusters: Mapping[Any, Any] | None = None,
) -> pd.DataFrame:
    """Compare arms pairwise on shared tasks, with Holm-adjusted p-values.

    Every comparison uses the same ``seed`` for its bootstrap, so the table is reproducible.

    Args:
        df: Long table with one row per scored (arm, task[, repeat]).
        arm_col: Column holding the arm label.
        seed: Seed for the bootstrap intervals (``None`` for fresh entropy).
        arms: Arms to compare, in this order; default: every arm, in order of first
            appearance in ``df``.
        baseline: If given, compare only each other arm against this one (fewer tests, so
            more power); ``arm_a`` is the other arm and ``arm_b`` the baseline, so ``diff``
            is "arm minus baseline". Otherwise every pair ``(arms[i], arms[j]), i < j``.
        task_col: Column holding the task id.
        score_col: Column holding the numeric score.
        n_bootstrap: Bootstrap resamples per comparison.
        confidence: Coverage of each interval (intervals are *not* multiplicity-adjusted).
        alpha: Family-wise error rate for the ``significant`` column.
        clusters: Task id -> cluster label, when tasks come in clusters; the intervals
            are then cluster-bootstrap ones (see :func:`compare_paired`).

    Returns:
        One row per comparison with columns ``arm_a, arm_b, n_pairs, n_dropped, mean_a,
        mean_b, correlation, diff, ci_low, ci_high, ci_method, test, statistic, p_value,
        p_adjusted, significant, a_only_correct, b_only_correct, note`` (the two counts
        are nullable integers, missing for continuous scores).

    Raises:
        StatisticsInputError: Fewer than two arms, an unknown arm or column, bad scores,
            a task without a cluster, or ``alpha``/``confidence`` out of (0, 1).
    """
    _check_table(df, arm_col, task_col, score_col)
    check_confidence(confidence)
    _check_alpha(alpha)
    chosen = list(pd.unique(df[arm_col])) if arms is None else list(arms)
    if baseline is not None and baseline not in chosen:
        chosen.insert(0, baseline)
    if len(chosen) < 2:
        raise StatisticsInputError(
            f"compare_all_pairs needs at least two arms; got {chosen!r}. "
            f"Add another arm to the experiment or pass arms=[...] with two or more labels."
        )
    rows = [
        {
            "arm_a": arm_a,
            "arm_b": arm_b,
            **comparison_row(
                df,
                arm_col,
                arm_a,
                arm_b,
                seed=seed,
                n_bootstrap=n_bootstrap,
                confidence=confidence,
                clusters=clusters,
                task_col=task_col,
                score_col=score_col,
            ),
        }
        for arm_a, arm_b in arm_pairs(chosen, baseline)
    ]
    table = with_holm(pd.DataFrame(rows), alpha)
    for column in ("a_only_correct", "b_only_correct"):
        table[column] = table[column].astype("Int64")
    return table


def arm_pairs(arms: Sequence[Hashable], baseline: Hashable | None) -> list[tuple[Any, Any]]:
    """The pairs to compare: each other arm against ``baseline``, or else every pair.

    With a baseline the pairs are ``(arm, baseline)``, so a difference reads "arm minus
    baseline"; without one, ``(arms[i], arms[j])`` for ``i < j``.
    """
    if baseline is None:
        return list(itertools.combinations(arms, 2))
    return [(arm, baseline) for arm in arms if arm != baseline]


def comparison_row(
    df: pd.DataFrame,
    arm_col: str,
    a: Hashable,
    b: Hashable,
    *,
    seed: int | None,
    n_bootstrap: int = 10_000,
    confidence: float = 0.95,
    clusters: Mapping[Any, Any] | None = None,
    task_col: str = "task_id",
    score_col: str = "score",
) -> dict[str, Any]:
    """Pair arms ``a`` and ``b`` on task id and compare them: one row of a comparison table.

    The one place a comparison becomes a row, with the keys of :data:`COMPARISON_COLUMNS`
    (no labels, no multiplicity adjustment: the caller names the pair and adjusts the
    whole family with :func:`with_holm`). Arguments as for :func:`compare_all_pairs`.
    """
    paired = pair_on_task_id(df, arm_col, a, b, task_col, score_col)
    result = compare_paired(
        paired.a_scores,
        paired.b_scores,
        seed=seed,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
        clusters=task_clusters(paired.task_ids, clusters),
    )
    return {
        column: paired.n_dropped if column == "n_dropped" else getattr(result, column)
        for column in COMPARISON_COLUMNS
    }


def with_holm(table: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """``table`` with ``p_adjusted`` (Holm over all its rows, one family) and ``significant``.

    Both columns go right after ``p_value``. Adjust a family once, over every test in it:
    adjusting parts of it and then the whole would only hide the first adjustment.

    Raises:
        StatisticsInputError: ``alpha`` is not strictly between 0 and 1.
    """
    _check_alpha(alpha)
    table = table.copy()
    at = list(table.columns).index("p_value") + 1
    table.insert(at, "p_adjusted", holm_adjust(table["p_value"]))
    table.insert(at + 1, "significant", table["p_adjusted"] <= alpha)
    return table


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise StatisticsInputError(
            f"alpha={alpha!r} is not allowed: it must be strictly between 0 and 1, e.g. 0.05."
        )


def task_clusters(
    task_ids: Sequence[Hashable], clusters: Mapping[Any, Any] | None
) -> list[str] | None:
    """Each task's cluster label, in order; None when there are no clusters.

    Raises:
        StatisticsInputError: A task id has no cluster in ``clusters``.
    """
    if clusters is None:
        return None
    missing = [task for task in task_ids if task not in clusters]
    if missing:
        raise StatisticsInputError(
            f"task {missing[0]!r} has no cluster ({len(missing)} task(s) without one); give "
            f"every task a cluster label, or leave clusters out to treat tasks as independent."
        )
    return [str(clusters[task]) for task in task_ids]


def _check_table(df: pd.DataFrame, arm_col: str, task_col: str, score_col: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise StatisticsInputError(
            f"df must be a pandas DataFrame in long format; got {type(df).__name__}."
        )
    missing = [c for c in (arm_col, task_col, score_col) if c not in df.columns]
    if missing:
        raise StatisticsInputError(
            f"column(s) {missing} not found in the results table; available columns: "
            f"{list(df.columns)}. Pass arm_col=, task_col= or score_col= to name them."
        )


def _mean_per_task(
    df: pd.DataFrame, arm_col: str, arm: Hashable, task_col: str, score_col: str
) -> pd.Series:
    rows = df[df[arm_col] == arm]
    if rows.empty:
        raise StatisticsInputError(
            f"arm {arm!r} not found in column {arm_col!r}; available arms: "
            f"{list(pd.unique(df[arm_col]))}."
        )
    scores = pd.to_numeric(rows[score_col], errors="coerce")
    bad = scores.isna() | ~np.isfinite(scores.to_numpy(dtype=np.float64, na_value=np.nan))
    if bad.any():
        first = rows.loc[bad, task_col].iloc[0]
        raise StatisticsInputError(
            f"arm {arm!r} has {int(bad.sum())} missing or non-numeric {score_col!r} value(s) "
            f"(first on task {first!r}). Score failed tasks explicitly (e.g. 0.0) or drop "
            f"those rows before comparing."
        )
    return scores.groupby(rows[task_col], sort=True).mean()
