"""Where a plot draws: a new figure of its own, or the axes a user hands in.

The plots use matplotlib's object API only (``Figure``, never pyplot): a new
:class:`~matplotlib.figure.Figure` renders through the Agg canvas without touching pyplot's
global state, so drawing a report inside a notebook leaves the notebook's own backend and
current figure alone, and a figure shows inline in Jupyter as the value of a cell.
"""

from __future__ import annotations

import io

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["PlotFigure", "figure_png", "labels_of", "pair_label", "plot_area"]


class PlotFigure(Figure):
    """A matplotlib Figure that shows itself as a PNG in Jupyter, with or without pyplot.

    IPython draws a figure inline only through the formatter that pyplot's inline backend
    registers, so a ``Figure`` built with the object API would show as
    ``<Figure size 700x400 with 1 Axes>`` in a notebook that never imported pyplot.
    ``_repr_png_`` is IPython's fallback when no formatter claims the object; with the
    inline backend active its own formatter wins, so the figure is drawn once either way.
    """

    def _repr_png_(self) -> bytes:
        return figure_png(self)


def plot_area(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    """``(figure, axes)`` to draw on: ``ax`` and its figure, or a new figure of ``size``."""
    if ax is not None:
        figure = ax.get_figure(root=True)
        if not isinstance(figure, Figure):
            raise TypeError("ax= must be a matplotlib Axes placed on a figure")
        return figure, ax
    figure = PlotFigure(figsize=size, layout="constrained")
    return figure, figure.subplots()


def pair_label(arm: object, provider: object, providers: int) -> str:
    """How a plot names an arm x provider: the arm alone when there is one provider."""
    return str(arm) if providers <= 1 else f"{arm} · {provider}"


def labels_of(table: pd.DataFrame) -> list[str]:
    """The ``pair_label`` of every row of a table with ``arm`` and ``provider`` columns."""
    providers = table["provider"].nunique() if len(table) else 0
    return [
        pair_label(a, p, providers) for a, p in zip(table["arm"], table["provider"], strict=True)
    ]


def figure_png(figure: Figure, dpi: int = 110) -> bytes:
    """The figure as PNG bytes (what the reports embed and write beside the Markdown)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()
