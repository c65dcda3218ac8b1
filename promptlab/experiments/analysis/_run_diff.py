"""Two runs side by side: which tasks improved, regressed or stayed, and is it significant.

A run diff compares *this* run with *another* (say, the same arms before and after a
template change, or the same arm on two models) on the tasks both runs scored, paired on
task id with the same tests as ``Run.compare`` (McNemar's exact test on right/wrong
scores, Wilcoxon signed-rank on graded ones, a paired-bootstrap interval for the
difference). ``diff`` is this run minus the other, so a positive ``diff`` is an
improvement. Every row is one test of one family: the Holm correction runs over the
whole table.

Cells are matched by arm and provider name. When both runs have a single arm (or a
single provider) those are matched whatever their names, so two one-model runs compare
as "model A vs model B".
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from promptlab.errors import ConfigurationError
from promptlab.experiments.analysis._cells import CellsTable
from promptlab.experiments.stats import comparison_row, pair_on_task_id, with_holm

__all__ = ["DIFF_COLUMNS", "Match", "matched_cells", "run_diff", "task_changes"]

#: A matched pair: ``((arm, provider) in this run, (arm, provider) in the other run)``.
Match = tuple[tuple[str, str], tuple[str, str]]

#: Columns of :func:`run_diff`, before Holm adds ``p_adjusted`` and ``significant``.
DIFF_COLUMNS = (
    "arm",
    "provider",
    "other_arm",
    "other_provider",
    "scorer",
    "n_pairs",
    "n_dropped",
    "improved",
    "regressed",
    "same",
    "mean_this",
    "mean_other",
    "diff",
    "ci_low",
    "ci_high",
    "ci_method",
    "test",
    "statistic",
    "p_value",
    "correlation",
    "note",
)


def matched_cells(this: CellsTable, other: CellsTable) -> list[Match]:
    """The (arm, provider) pairs of ``this`` run matched to those of ``other``.

    Names match exactly, except that a single arm (or provider) on both sides matches
    whatever its name.

    Raises:
        ConfigurationError: Nothing matches; the message lists both runs' names.
    """

    def pick(mine: list[str], theirs: list[str], name: str) -> str | None:
        if name in theirs:
            return name
        return theirs[0] if len(mine) == 1 and len(theirs) == 1 else None

    matches: list[Match] = []
    for arm in this.arms:
        other_arm = pick(this.arms, other.arms, arm)
        for provider in this.providers:
            other_provider = pick(this.providers, other.providers, provider)
            if other_arm is not None and other_provider is not None:
                matches.append(((arm, provider), (other_arm, other_provider)))
    if not matches:
        raise ConfigurationError(
            f"the two runs share no arm and provider to compare: this run has arms "
            f"{this.arms} on {this.providers}, the other arms {other.arms} on "
            f"{other.providers}. Compare runs of the same arms, or of one arm each."
        )
    return matches


def _paired_long(this: CellsTable, other: CellsTable, match: Match, scorer: str) -> pd.DataFrame:
    """Both sides' usable scores in one long table, ``run`` = ``"this"`` or ``"other"``."""
    parts = []
    for label, table, (arm, provider) in (("this", this, match[0]), ("other", other, match[1])):
        scored = table.scored(scorer)
        chosen = scored[(scored["arm"] == arm) & (scored["provider"] == provider)]
        parts.append(chosen[["task_id", "score"]].assign(run=label))
    return pd.concat(parts, ignore_index=True)


def task_changes(this: CellsTable, other: CellsTable, scorer: str) -> pd.DataFrame:
    """Per matched arm x provider and shared task: both runs' scores and the change.

    Repeats are averaged per task first. ``change`` is ``"improved"`` (this run scored
    higher), ``"regressed"`` or ``"same"``. Tasks scored in only one run are left out.

    Returns:
        Columns ``arm, provider, other_arm, other_provider, task_id, score_this,
        score_other, change``.
    """
    rows: list[dict[str, Any]] = []
    for match in matched_cells(this, other):
        data = _paired_long(this, other, match, scorer)
        if not {"this", "other"} <= set(data["run"]):
            continue
        paired = pair_on_task_id(data, "run", "this", "other")
        for task, mine, theirs in zip(
            paired.task_ids, paired.a_scores, paired.b_scores, strict=True
        ):
            rows.append(
                {
                    "arm": match[0][0],
                    "provider": match[0][1],
                    "other_arm": match[1][0],
                    "other_provider": match[1][1],
                    "task_id": task,
                    "score_this": float(mine),
                    "score_other": float(theirs),
                    "change": _change(float(mine), float(theirs)),
                }
            )
    columns = ["arm", "provider", "other_arm", "other_provider", "task_id"]
    columns += ["score_this", "score_other", "change"]
    return pd.DataFrame(rows, columns=columns)


def _change(mine: float, theirs: float) -> str:
    if np.isclose(mine, theirs, rtol=0.0, atol=1e-9):
        return "same"
    return "improved" if mine > theirs else "regressed"


def run_diff(this: CellsTable, other: CellsTable, scorer: str, alpha: float) -> pd.DataFrame:
    """See :meth:`Run.diff`."""
    clusters = {**(other.clusters or {}), **(this.clusters or {})} or None
    changes = task_changes(this, other, scorer)
    rows = []
    for match in matched_cells(this, other):
        row: dict[str, Any] = {
            "arm": match[0][0],
            "provider": match[0][1],
            "other_arm": match[1][0],
            "other_provider": match[1][1],
            "scorer": scorer,
        }
        data = _paired_long(this, other, match, scorer)
        missing = [label for label in ("this", "other") if label not in set(data["run"])]
        if missing:
            row["note"] = f"no scored cells in {' or '.join(missing)} run; nothing to compare"
            rows.append(row)
            continue
        compared = comparison_row(data, "run", "this", "other", seed=this.seed, clusters=clusters)
        counts = changes[(changes["arm"] == match[0][0]) & (changes["provider"] == match[0][1])]
        counted = counts["change"].value_counts()
        row.update({k: compared[k] for k in DIFF_COLUMNS if k in compared})
        row.update(
            mean_this=compared["mean_a"],
            mean_other=compared["mean_b"],
            improved=int(counted.get("improved", 0)),
            regressed=int(counted.get("regressed", 0)),
            same=int(counted.get("same", 0)),
        )
        rows.append(row)
    if not any(row.get("n_pairs") for row in rows):
        raise ConfigurationError(
            "the two runs share no scored task: a run diff pairs tasks by id, so compare "
            "runs over the same task set (task ids come from the task's content)."
        )
    table = with_holm(pd.DataFrame(rows, columns=list(DIFF_COLUMNS)), alpha)
    for column in ("n_pairs", "n_dropped", "improved", "regressed", "same"):
        table[column] = table[column].astype("Int64")
    return table
