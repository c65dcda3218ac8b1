"""Paired comparisons and sample sizes behind ``Run.compare``, ``compare_all`` and ``tasks_needed``.

Comparisons run *within* a context: arms are compared within each provider (``by="arm"``)
or providers within each arm (``by="provider"``), always paired on task id, on cells
without error whose score is a finite number. Cells left out for want of a score are
counted in ``n_unscored``. When the run's tasks name clusters, intervals are
cluster-bootstrap ones (``ci_method``).
"""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd

from promptlab.errors import ConfigurationError
from promptlab.experiments.analysis._cells import CellsTable
from promptlab.experiments.analysis._unscored import unscored_cells
from promptlab.experiments.stats import (
    COMPARISON_COLUMNS,
    TasksNeeded,
    arm_pairs,
    comparison_row,
    pair_on_task_id,
    tasks_needed_from_scores,
    with_holm,
)

__all__ = ["By", "compare_all_within", "compare_two", "paired_tasks_needed"]

By = Literal["arm", "provider"]


def _axes(
    cells: CellsTable, by: str, provider: str | None, arm: str | None
) -> tuple[str, str, list[str]]:
    """(column compared, column held fixed, the fixed values to go through)."""
    if by == "arm":
        if provider is not None and provider not in cells.providers:
            raise ConfigurationError(
                f"provider={provider!r} is not in this run; known providers: {cells.providers}."
            )
        return "arm", "provider", [provider] if provider else cells.providers
    if by == "provider":
        if arm is not None and arm not in cells.arms:
            raise ConfigurationError(f"arm={arm!r} is not in this run; known arms: {cells.arms}.")
        return "provider", "arm", [arm] if arm else cells.arms
    raise ConfigurationError(f"by={by!r} is not allowed: use 'arm' or 'provider'.")


def _columns(by: str, within_col: str) -> list[str]:
    """The table's columns: the context, the pair, the scorer, then the comparison's own."""
    own = list(COMPARISON_COLUMNS)
    own.insert(own.index("n_dropped") + 1, "n_unscored")
    return [within_col, f"{by}_a", f"{by}_b", "scorer", *own]


def compare_two(
    cells: CellsTable, a: str, b: str, *, provider: str | None, arm: str | None, by: By, scorer: str
) -> pd.DataFrame:
    """See :meth:`Run.compare`."""
    group_col, within_col, within = _axes(cells, by, provider, arm)
    known = cells.arms if by == "arm" else cells.providers
    for label in (a, b):
        if label not in known:
            raise ConfigurationError(f"{by} {label!r} is not in this run; known {by}s: {known}.")
    if a == b:
        raise ConfigurationError(f"a and b are both {a!r}; pick two different {by}s.")
    data = cells.scored(scorer)
    missing = unscored_cells(cells.frame, scorer)
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
        row.update(
            comparison_row(subset, group_col, a, b, seed=cells.seed, clusters=cells.clusters)
        )
        row["n_unscored"] = _n_unscored(missing, within_col, value, group_col, (a, b))
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
    cells: CellsTable, *, by: By, baseline: str | None, scorer: str, alpha: float
) -> pd.DataFrame:
    """See :meth:`Run.compare_all`."""
    group_col, within_col, within = _axes(cells, by, None, None)
    known = cells.arms if by == "arm" else cells.providers
    if baseline is not None and baseline not in known:
        raise ConfigurationError(f"baseline={baseline!r} is not in this run; known {by}s: {known}.")
    data = cells.scored(scorer)
    missing = unscored_cells(cells.frame, scorer)
    rows: list[dict[str, Any]] = []
    for value in within:
        subset = data[data[within_col] == value]
        present = [label for label in known if label in set(subset[group_col])]
        if len(present) < 2 or (baseline is not None and baseline not in present):
            continue
        for label_a, label_b in arm_pairs(present, baseline):
            row = comparison_row(
                subset, group_col, label_a, label_b, seed=cells.seed, clusters=cells.clusters
            )
            row["n_unscored"] = _n_unscored(
                missing, within_col, value, group_col, (label_a, label_b)
            )
            rows.append(
                {within_col: value, f"{by}_a": label_a, f"{by}_b": label_b, "scorer": scorer, **row}
            )
    # One family across every context: Holm once, over the whole table, not per provider.
    table = with_holm(pd.DataFrame(rows, columns=_columns(by, within_col)), alpha)
    for column in ("a_only_correct", "b_only_correct"):
        table[column] = table[column].astype("Int64")
    return table


def paired_tasks_needed(
    cells: CellsTable,
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
        a = next((arm for arm in cells.arms if arm != b), None)
    if b is None:
        b = next((arm for arm in cells.arms if arm != a), None)
    if a is None or b is None:
        raise ConfigurationError(
            f"tasks_needed needs two arms to compare; this run has {cells.arms}."
        )
    _axes(cells, "arm", provider, None)
    provider = provider or cells.providers[0]
    data = cells.scored(scorer)
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
