"""The report's plots, drawn with matplotlib's object API (no pyplot, no global backend).

Building :class:`matplotlib.figure.Figure` objects directly renders through the Agg
canvas without touching pyplot's global state, so writing a report inside a notebook
does not change the notebook's own plotting backend.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

__all__ = [
    "accuracy_figure",
    "cost_figure",
    "figure_png",
    "majority_at_k_figure",
    "vote_share_figure",
]


def _label(row: pd.Series) -> str:
    return f"{row['arm']} · {row['provider']}"


def figure_png(figure: Figure, dpi: int = 110) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def accuracy_figure(summary: pd.DataFrame, scorer: str = "score") -> Figure:
    """Accuracy per arm x provider with its 95% interval as error bars."""
    labels = [_label(row) for _, row in summary.iterrows()]
    figure = Figure(figsize=(7, 0.5 + 0.45 * max(len(labels), 1)))
    axes = figure.subplots()
    y = np.arange(len(labels))
    mean = summary["accuracy"].to_numpy(dtype=float)
    # matplotlib refuses negative error bars; an interval from another method (or rounding)
    # can sit a hair past the estimate, which draws as no bar on that side.
    low = np.clip(np.nan_to_num(mean - summary["ci_low"].to_numpy(dtype=float), nan=0.0), 0, None)
    high = np.clip(np.nan_to_num(summary["ci_high"].to_numpy(dtype=float) - mean, nan=0.0), 0, None)
    axes.errorbar(mean, y, xerr=[low, high], fmt="o", capsize=4, color="#1f5fa8")
    axes.set_yticks(y, labels)
    axes.invert_yaxis()
    axes.set_xlabel(f"mean {scorer} (95% CI)")
    axes.grid(axis="x", alpha=0.3)
    return figure


def cost_figure(
    pareto: pd.DataFrame,
    cost_col: str = "cost_per_task_usd",
    cost_label: str = "cost per task (USD)",
) -> Figure:
    """Cost vs accuracy; Pareto-front points are filled and joined by a line.

    Rows with unknown cost cannot be placed; the title says how many were left out.
    Points at the same place share one label.

    Args:
        pareto: One row per arm x provider with ``accuracy``, ``cost_col`` and
            ``on_pareto_front``.
        cost_col: The cost axis, e.g. dollars or tokens per task.
        cost_label: The axis label.
    """
    figure = Figure(figsize=(7, 4.2))
    axes = figure.subplots()
    known = pareto[pareto[cost_col].notna() & pareto["accuracy"].notna()]
    front = known[known["on_pareto_front"]].sort_values(cost_col)
    rest = known[~known["on_pareto_front"]]
    axes.scatter(rest[cost_col], rest["accuracy"], facecolors="none", edgecolors="#777777")
    axes.plot(front[cost_col], front["accuracy"], "o-", color="#c0392b", label="Pareto front")
    labels: dict[tuple[float, float], list[str]] = {}
    for _, row in known.iterrows():
        labels.setdefault((row[cost_col], row["accuracy"]), []).append(_label(row))
    for (x, y), names in labels.items():
        axes.annotate(
            "\n".join(names), (x, y), textcoords="offset points", xytext=(5, 4), fontsize=8
        )
    missing = len(pareto) - len(known)
    title = f"{cost_label.split(' (')[0].capitalize()} vs accuracy"
    if missing:
        title += f" ({missing} arm(s) with unknown cost not shown)"
    axes.set_title(title, fontsize=10)
    axes.set_xlabel(cost_label)
    axes.set_ylabel("accuracy")
    axes.grid(alpha=0.3)
    if not front.empty:
        axes.legend(loc="lower right", fontsize=8)
    return figure


def vote_share_figure(shares: Mapping[str, Sequence[float]]) -> Figure:
    """Histogram of the winning answer's vote share, one outline per self-consistency arm.

    A share near 1 means the samples agreed; near 1/n means the vote was a scramble.
    """
    figure = Figure(figsize=(7, 3.6))
    axes = figure.subplots()
    bins = [i / 10 for i in range(11)]
    for label, values in shares.items():
        finite = [v for v in values if not math.isnan(v)]
        axes.hist(
            finite, bins=bins, histtype="step", linewidth=2, label=f"{label} (n={len(finite)})"
        )
    axes.set_xlabel("winning answer's share of the votes")
    axes.set_ylabel("cells")
    axes.set_xlim(0, 1)
    axes.legend(fontsize=8)
    axes.grid(alpha=0.3)
    return figure


def majority_at_k_figure(curves: Mapping[str, pd.DataFrame]) -> Figure:
    """Expected majority-vote accuracy vs the number of samples k, one line per arm."""
    figure = Figure(figsize=(7, 3.6))
    axes = figure.subplots()
    for label, curve in curves.items():
        axes.plot(curve["k"], curve["accuracy"], "o-", label=label)
    axes.set_xlabel("samples voted on (k)")
    axes.set_ylabel("expected accuracy (maj@k)")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    return figure
