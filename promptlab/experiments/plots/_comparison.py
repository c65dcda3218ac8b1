"""A forest plot of paired differences: one row per comparison, its interval, and whether
it survives the Holm correction."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from promptlab.experiments.plots._figure import plot_area
from promptlab.experiments.stats import with_holm

__all__ = ["SIGNIFICANT_LABEL", "forest_figure"]

SIGNIFICANT_LABEL = "significant after Holm"
NOT_SIGNIFICANT_LABEL = "not significant"


def forest_figure(
    comparison: pd.DataFrame,
    scorer: str = "score",
    *,
    alpha: float = 0.05,
    ax: Axes | None = None,
) -> Figure:
    """Each comparison's difference (A - B) with its 95% interval, and a line at zero.

    A comparison is marked (filled red) when its Holm-adjusted p-value is at most
    ``alpha``: the table's own ``significant`` column when it has one
    (``Run.compare_all``), else Holm over the table's rows (``Run.compare``). The interval
    is the paired (or cluster) bootstrap one; it can exclude zero while the test does not
    reject, or the reverse, since they are different procedures. Rows without a
    difference (an arm with no scored cells) are left out; the title says how many.

    Args:
        comparison: ``Run.compare()`` or ``Run.compare_all()`` (``by="arm"`` or
            ``"provider"``).
        scorer: The score's name, for the axis label.
        alpha: Family-wise error rate for the marking when the table has no
            ``significant`` column.
        ax: Draw on these axes instead of a new figure.
    """
    by = "arm" if "arm_a" in comparison.columns else "provider"
    within = "provider" if by == "arm" else "arm"
    table = comparison[comparison["diff"].notna()].reset_index(drop=True)
    if "significant" not in table.columns and len(table):
        table = with_holm(table, alpha)
    figure, axes = plot_area(ax, (7, 1.4 + 0.42 * max(len(table), 1)))
    contexts = table[within].nunique() if len(table) else 0
    labels = [
        f"{a} − {b}" + (f" ({context})" if contexts > 1 else "")
        for a, b, context in zip(table[f"{by}_a"], table[f"{by}_b"], table[within], strict=True)
    ]
    y = np.arange(len(table))
    diff = table["diff"].to_numpy(dtype=float)
    low = np.clip(np.nan_to_num(diff - table["ci_low"].to_numpy(dtype=float), nan=0.0), 0, None)
    high = np.clip(np.nan_to_num(table["ci_high"].to_numpy(dtype=float) - diff, nan=0.0), 0, None)
    if "significant" in table.columns:
        marked = table["significant"].fillna(False).to_numpy(dtype=bool)
    else:
        marked = np.zeros(len(table), dtype=bool)
    axes.axvline(0.0, color="#555555", linestyle="--", linewidth=1)
    for chosen, label, colour, face in (
        (marked, SIGNIFICANT_LABEL, "#c0392b", "#c0392b"),
        (~marked, NOT_SIGNIFICANT_LABEL, "#555555", "white"),
    ):
        if chosen.any():
            axes.errorbar(
                diff[chosen],
                y[chosen],
                xerr=[low[chosen], high[chosen]],
                fmt="o",
                capsize=4,
                label=label,
                color=colour,
                markerfacecolor=face,
            )
    axes.set_yticks(y, labels)
    axes.set_ylim(max(len(table), 1) - 0.5, -0.5)
    axes.set_xlabel(f"difference in mean {scorer}, A − B (95% CI)")
    dropped = len(comparison) - len(table)
    title = f"Paired differences between {by}s"
    if dropped:
        title += f" ({dropped} without scored pairs not shown)"
    axes.set_title(title, fontsize=10)
    axes.grid(axis="x", alpha=0.3)
    if len(table):
        axes.legend(fontsize=8, loc="best")
    return figure
