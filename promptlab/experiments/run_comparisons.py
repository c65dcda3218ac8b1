"""Paired comparisons and sample sizes behind ``Run.compare``, ``compare_all`` and ``tasks_needed``.

Comparisons run *within* a context: arms are compared within each provider (``by="arm"``)
or providers within each arm (``by="provider"``), always paired on task id, on cells
without error whose score is a finite number. Cells left out for want of a score are
counted in ``n_unscored``. When the run's tasks name clusters, intervals are
cluster-bootstrap ones (``ci_method``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from promptlab.errors import ConfigurationError
from promptlab.experiments.arm_comparison import (
    compare_all_pairs,
    holm_adjust,
    pair_on_task_id,
    task_clusters,
)
from promptlab.experiments.paired_tests import compare_paired
from promptlab.experiments.sample_size import TasksNeeded, tasks_needed_from_scores
from promptlab.experiments.unscored import unscored_cells

if TYPE_CHECKING:
    from promptlab.experiments.run import Run

__all__ = ["By", "compare_all_within", "compare_two", "paired_tasks_needed"]

By = Literal["arm", "provider"]


def _axes(run: Run, by: str, provider: str | None, arm: str | None) -> tuple[str, str, list[str]]:
    """(column compared, column held fixed, the fixed values to go through)."""
    if by == "arm":
        if provider is not None and provider not in run.providers:
            raise ConfigurationError(
                f"provider={provider!r} is not in this run; known providers: {run.providers}."
            )
        return "arm", "provider", [provider] if provider else run.providers
    if by == "provider":
        if arm is not None and arm not in run.arms:
            raise ConfigurationError(f"arm={arm!r} is not in this run; known arms: {run.arms}.")
        return "provider", "arm", [arm] if arm else run.arms
    raise ConfigurationError(f"by={by!r} is not allowed: use 'arm' or 'provider'.")


def _columns(by: str, within_col: str) -> list[str]:
    return [
        within_col,
        f"{by}_a",
        f"{by}_b",
        "scorer",
        "n_pairs",
        "n_dropped",
        "n_unscored",
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
    ]


def compare_two(
    run: Run, a: str, b: str, *, provider: str | None, arm: str | None, by: By, scorer: str
) -> pd.DataFrame:
    """See :meth:`Run.compare`."""
    group_col, within_col, within = _axes(run, by, provider, arm)
    known = run.arms if by == "arm" else run.providers
    for label in (a, b):
        if label not in known:
            raise ConfigurationError(f"{by} {label!r} is not in this run; known {by}s: {known}.")
    if a == b:
        raise ConfigurationError(f"a and b are both {a!r}; pick two different {by}s.")
    data = run.scored(scorer)
    missing = unscored_cells(run.cells, scorer)
    rows = []
    for value in within:
        subset = data[data[within_col] == value]
        present = set(subset[group_col])
        row: dict[str, Any] = {within_col: value, f"{by}_a": a, f"{by}_b": b, "scorer": scorer}
        absent = [label for label in (a, b) if label not in present]
        if absent:
            row["note"] = f"{by} {absent[0]!r} has no scored cells for {within_col} {value!r}"
            rows.append(row)
            continue
        paired = pair_on_task_id(subset, group_col, a, b)
        result = compare_paired(
            paired.a_scores,
            paired.b_scores,
            seed=run.seed,
            clusters=task_clusters(paired.task_ids, run.clusters),
        )
        row.update(
            n_pairs=result.n_pairs,
            n_dropped=paired.n_dropped,
            n_unscored=_n_unscored(missing, within_col, value, group_col, (a, b)),
            mean_a=result.mean_a,
            mean_b=result.mean_b,
            correlation=result.correlation,
            diff=result.diff,
            ci_low=result.ci_low,
            ci_high=result.ci_high,
            ci_method=result.ci_method,
            test=result.test,
            statistic=result.statistic,
            p_value=result.p_value,
            a_only_correct=result.a_only_correct,
            b_only_correct=result.b_only_correct,
            note=result.note,
        )
        rows.append(row)
    table = pd.DataFrame(rows, columns=_columns(by, within_col))
    for column in ("n_pairs", "n_dropped", "n_unscored", "a_only_correct", "b_only_correct"):
        table[column] = table[column].astype("Int64")
    return table


def _n_unscored(
    missing: pd.DataFrame, within_col: str, value: str, group_col: str, labels: tuple[str, ...]
) -> int:
    """Cells in ``missing`` (unscored ones) of these labels in this context."""
    chosen = (missing[within_col] == value) & missing[group_col].isin(labels)
    return int(chosen.sum())


def compare_all_within(
    run: Run, *, by: By, baseline: str | None, scorer: str, alpha: float
) -> pd.DataFrame:
    """See :meth:`Run.compare_all`."""
    group_col, within_col, within = _axes(run, by, None, None)
    known = run.arms if by == "arm" else run.providers
    if baseline is not None and baseline not in known:
        raise ConfigurationError(f"baseline={baseline!r} is not in this run; known {by}s: {known}.")
    data = run.scored(scorer)
    missing = unscored_cells(run.cells, scorer)
    tables = []
    for value in within:
        subset = data[data[within_col] == value]
        present = [label for label in known if label in set(subset[group_col])]
        if len(present) < 2 or (baseline is not None and baseline not in present):
            continue
        table = compare_all_pairs(
            subset,
            group_col,
            seed=run.seed,
            arms=present,
            baseline=baseline,
            alpha=alpha,
            clusters=run.clusters,
        )
        table.insert(0, within_col, value)
        table.insert(3, "scorer", scorer)
        unscored = [
            _n_unscored(missing, within_col, value, group_col, (arm_a, arm_b))
            for arm_a, arm_b in zip(table["arm_a"], table["arm_b"], strict=True)
        ]
        table.insert(list(table.columns).index("n_dropped") + 1, "n_unscored", unscored)
        tables.append(table)
    if not tables:
        columns = [*_columns("arm", within_col), "p_adjusted", "significant"]
        combined = pd.DataFrame(columns=columns)
    else:
        combined = pd.concat(tables, ignore_index=True)
        # One family across every context: Holm over the whole table, not per provider.
        combined["p_adjusted"] = holm_adjust(combined["p_value"])
        combined["significant"] = combined["p_adjusted"] <= alpha
    if by == "provider":
        combined = combined.rename(columns={"arm_a": "provider_a", "arm_b": "provider_b"})
    return combined


def paired_tasks_needed(
    run: Run,
    a: str | None,
    b: str | None,
    *,
    p_a: float | None,
    p_b: float | None,
    difference: float | None,
    discordance: float | None,
    provider: str | None,
    scorer: str,
    alpha: float,
    power: float,
) -> TasksNeeded:
    """See :meth:`Run.tasks_needed`."""
    if a is None:
        a = next((arm for arm in run.arms if arm != b), None)
    if b is None:
        b = next((arm for arm in run.arms if arm != a), None)
    if a is None or b is None:
        raise ConfigurationError(
            f"tasks_needed needs two arms to compare; this run has {run.arms}."
        )
    _axes(run, "arm", provider, None)
    provider = provider or run.providers[0]
    data = run.scored(scorer)
    data = data[data["provider"] == provider]
    paired = pair_on_task_id(data, "arm", a, b)  # repeats are averaged per task
    if paired.a_scores.size == 0 and (p_a is None or p_b is None or discordance is None):
        raise ConfigurationError(
            f"arms {a!r} and {b!r} share no scored tasks on provider {provider!r}, so nothing "
            f"can be estimated from this run; pass p_a=, p_b= and discordance=."
        )
    pair = data[data["arm"].isin([a, b])]
    repeats = int(pair.groupby(["arm", "task_id"]).size().max()) if len(pair) else 1
    return tasks_needed_from_scores(
        paired.a_scores,
        paired.b_scores,
        p_a=p_a,
        p_b=p_b,
        difference=difference,
        discordance=discordance,
        alpha=alpha,
        power=power,
        repeats=repeats,
    )
