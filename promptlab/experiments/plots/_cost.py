"""Cost (or tokens) per task against accuracy, with the Pareto front marked."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from promptlab.experiments.plots._figure import labels_of, plot_area

__all__ = ["FRONT_LABEL", "cost_figure"]

FRONT_LABEL = "Pareto front"


def cost_figure(
    pareto: pd.DataFrame,
    cost_col: str = "cost_per_task_usd",
    cost_label: str = "cost per task (USD)",
    *,
    ax: Axes | None = None,
) -> Figure:
    """Cost vs accuracy; Pareto-front points are filled red and joined by a line.

    The other points are hollow. Rows with unknown cost cannot be placed; the title says
    how many were left out. Points at the same place share one label.

    Args:
        pareto: One row per arm x provider with ``arm``, ``provider``, ``accuracy``,
            ``cost_col`` and ``on_pareto_front`` (``Run.pareto()``).
        cost_col: The cost axis, e.g. dollars or tokens per task.
        cost_label: The axis label.
        ax: Draw on these axes instead of a new figure.
    """
    figure, axes = plot_area(ax, (7, 4.2))
    labelled = pareto.assign(_label=labels_of(pareto))
    known = labelled[labelled[cost_col].notna() & labelled["accuracy"].notna()]
    on_front = known["on_pareto_front"].astype(bool)
    front = known[on_front].sort_values(cost_col)
    rest = known[~on_front]
    if not rest.empty:
        axes.scatter(
            rest[cost_col],
            rest["accuracy"],
            facecolors="none",
            edgecolors="#777777",
            label="dominated",
        )
    if not front.empty:
        axes.plot(front[cost_col], front["accuracy"], "o-", color="#c0392b", label=FRONT_LABEL)
    names: dict[tuple[float, float], list[str]] = {}
    for x, y, label in zip(known[cost_col], known["accuracy"], known["_label"], strict=True):
        names.setdefault((float(x), float(y)), []).append(label)
    for (x, y), shared in names.items():
        axes.annotate(
            "\n".join(shared), (x, y), textcoords="offset points", xytext=(5, 4), fontsize=8
        )
    missing = len(pareto) - len(known)
    title = f"{cost_label.split(' (')[0].capitalize()} vs accuracy"
    if missing:
        title += f" ({missing} arm(s) with unknown cost not shown)"
    axes.set_title(title, fontsize=10)
    axes.set_xlabel(cost_label)
    axes.set_ylabel("accuracy")
    axes.grid(alpha=0.3)
    if not known.empty:
        axes.legend(loc="lower right", fontsize=8)
    return figure
