"""Accuracy per arm x provider with its 95% interval (the summary table, drawn)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from promptlab.experiments.plots._figure import labels_of, plot_area

__all__ = ["accuracy_figure"]

#: One colour per provider, in the run's provider order (matplotlib's default cycle).
PROVIDER_COLOURS = ["#1f5fa8", "#c0392b", "#2e8b57", "#8e44ad", "#d35400", "#7f8c8d"]


def accuracy_figure(
    summary: pd.DataFrame, scorer: str = "score", *, ax: Axes | None = None
) -> Figure:
    """One point per arm x provider at its accuracy, with the 95% interval as a bar.

    Rows are in the summary's order, top to bottom; with several providers each has its own
    colour and a legend entry. Rows with no scored task (accuracy NaN) have no point; the
    title says how many.

    Args:
        summary: ``Run.summary()``: ``arm, provider, accuracy, ci_low, ci_high``.
        scorer: The score's name, for the axis label.
        ax: Draw on these axes instead of a new figure.
    """
    figure, axes = plot_area(ax, (7, 0.9 + 0.42 * max(len(summary), 1)))
    labels = labels_of(summary)
    y = np.arange(len(summary))
    mean = summary["accuracy"].to_numpy(dtype=float)
    # matplotlib refuses negative error bars; an interval from another method (or rounding)
    # can sit a hair past the estimate, which draws as no bar on that side.
    low = np.clip(np.nan_to_num(mean - summary["ci_low"].to_numpy(dtype=float), nan=0.0), 0, None)
    high = np.clip(np.nan_to_num(summary["ci_high"].to_numpy(dtype=float) - mean, nan=0.0), 0, None)
    providers = list(dict.fromkeys(summary["provider"]))
    for index, provider in enumerate(providers):
        rows = (summary["provider"] == provider).to_numpy() & ~np.isnan(mean)
        axes.errorbar(
            mean[rows],
            y[rows],
            xerr=[low[rows], high[rows]],
            fmt="o",
            capsize=4,
            color=PROVIDER_COLOURS[index % len(PROVIDER_COLOURS)],
            label=str(provider),
        )
    axes.set_yticks(y, labels)
    axes.set_ylim(max(len(summary), 1) - 0.5, -0.5)  # first row on top
    axes.set_xlabel(f"mean {scorer} (95% CI)")
    lows = summary["ci_low"].to_numpy(dtype=float)
    lows = lows[np.isfinite(lows)]
    axes.set_xlim(min(0.0, float(lows.min())) if lows.size else 0.0, None)
    missing = int(np.isnan(mean).sum())
    title = "Accuracy per arm" + (" and provider" if len(providers) > 1 else "")
    if missing:
        title += f" ({missing} without a scored task not shown)"
    axes.set_title(title, fontsize=10)
    axes.grid(axis="x", alpha=0.3)
    if len(providers) > 1:
        axes.legend(title="provider", fontsize=8, loc="best")
    return figure
