"""Latency distributions: one box (with every cell as a dot) per arm x provider."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from promptlab.experiments.plots._figure import plot_area

__all__ = ["latency_figure"]


def latency_figure(
    latencies: Mapping[str, Sequence[float]],
    *,
    left_out: int = 0,
    ax: Axes | None = None,
) -> Figure:
    """Each arm x provider's cell latencies: a box (quartiles, median) and the cells as dots.

    Args:
        latencies: Label -> seconds per cell, in the order to draw (top to bottom).
            Labels with no latency are drawn as an empty row.
        left_out: Cells not drawn (cache hits, errors), for the title.
        ax: Draw on these axes instead of a new figure.
    """
    labels = list(latencies)
    figure, axes = plot_area(ax, (7, 1.1 + 0.45 * max(len(labels), 1)))
    data = [np.asarray(latencies[label], dtype=float) for label in labels]
    data = [values[np.isfinite(values)] for values in data]
    positions = np.arange(len(labels))
    drawn = [i for i, values in enumerate(data) if values.size]
    if drawn:
        axes.boxplot(
            [data[i] for i in drawn],
            positions=positions[drawn],
            orientation="horizontal",
            widths=0.5,
            showfliers=False,  # every cell is drawn as a dot below
            medianprops={"color": "#c0392b"},
        )
    jitter = np.random.default_rng(0)  # a fixed jitter: the same run draws the same figure
    for i in drawn:
        values = data[i]
        axes.scatter(
            values,
            i + jitter.uniform(-0.15, 0.15, values.size),
            s=10,
            color="#1f5fa8",
            alpha=0.6,
        )
    axes.set_yticks(positions, labels)
    axes.set_ylim(max(len(labels), 1) - 0.5, -0.5)
    axes.set_xlabel("latency per cell (s)")
    title = "Latency per cell"
    if left_out:
        title += f" ({left_out} cache hit(s) or errored cell(s) left out)"
    axes.set_title(title, fontsize=10)
    axes.grid(axis="x", alpha=0.3)
    return figure
