"""Self-consistency: how much the samples agreed (vote shares), and accuracy vs votes (maj@k)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from promptlab.experiments.plots._figure import plot_area

__all__ = ["majority_at_k_figure", "vote_share_figure"]

#: Ten bins of width 0.1 over [0, 1]: a share of exactly 1 falls in the last one.
SHARE_BINS = [i / 10 for i in range(11)]


def vote_share_figure(shares: Mapping[str, Sequence[float]], *, ax: Axes | None = None) -> Figure:
    """Histogram of the winning answer's vote share, one outline per self-consistency arm.

    A share near 1 means the samples agreed; near 1/n means the vote was a scramble. NaN
    shares (cells without a vote) are left out; the legend gives each arm's count.

    Args:
        shares: Label (``arm`` or ``arm · provider``) -> each cell's winning share.
        ax: Draw on these axes instead of a new figure.
    """
    figure, axes = plot_area(ax, (7, 3.6))
    for label, values in shares.items():
        finite = [float(v) for v in values if not math.isnan(float(v))]
        axes.hist(
            finite,
            bins=SHARE_BINS,
            histtype="step",
            linewidth=2,
            label=f"{label} (n={len(finite)})",
        )
    axes.set_xlabel("winning answer's share of the votes")
    axes.set_ylabel("cells")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # a count of cells
    axes.set_xlim(0, 1)
    axes.set_title("How much the samples agreed", fontsize=10)
    if shares:
        axes.legend(fontsize=8)
    axes.grid(alpha=0.3)
    return figure


def majority_at_k_figure(curves: Mapping[str, pd.DataFrame], *, ax: Axes | None = None) -> Figure:
    """Expected majority-vote accuracy vs the number of samples k, one line per arm.

    Args:
        curves: Label -> ``Run.majority_at_k()`` (columns ``k`` and ``accuracy``).
        ax: Draw on these axes instead of a new figure.
    """
    figure, axes = plot_area(ax, (7, 3.6))
    for label, curve in curves.items():
        axes.plot(curve["k"], curve["accuracy"], "o-", label=label)
    axes.set_xlabel("samples voted on (k)")
    axes.set_ylabel("expected accuracy (maj@k)")
    axes.set_title("Accuracy of a majority vote over k samples", fontsize=10)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # k is a count of samples
    axes.grid(alpha=0.3)
    if curves:
        axes.legend(fontsize=8)
    return figure
