"""The plots of a run, drawn from its tables: one function per figure, one code path.

``Run.plot`` (in :mod:`promptlab.experiments.analysis`) and the HTML and Markdown reports
(:mod:`promptlab.experiments.report`, which calls ``Run.plot``) both draw with these
functions. Each takes the table it draws (a summary, a comparison, a Pareto view, curves or
per-cell values), never a ``Run``, returns a matplotlib :class:`~matplotlib.figure.Figure`
and accepts ``ax=`` to draw on a user's own axes. This room sits below ``report`` and
``analysis`` in the experiment layer's contract and imports only ``stats``.
"""

from promptlab.experiments.plots._accuracy import accuracy_figure
from promptlab.experiments.plots._comparison import SIGNIFICANT_LABEL, forest_figure
from promptlab.experiments.plots._cost import FRONT_LABEL, cost_figure
from promptlab.experiments.plots._figure import figure_png, pair_label
from promptlab.experiments.plots._latency import latency_figure
from promptlab.experiments.plots._votes import majority_at_k_figure, vote_share_figure

__all__ = [
    "FRONT_LABEL",
    "SIGNIFICANT_LABEL",
    "accuracy_figure",
    "cost_figure",
    "figure_png",
    "forest_figure",
    "latency_figure",
    "majority_at_k_figure",
    "pair_label",
    "vote_share_figure",
]
