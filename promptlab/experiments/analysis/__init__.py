"""A run's results: :class:`Run`, the cells table, and the summaries and views built on it.

:class:`Run` reads a run directory (through :mod:`promptlab.experiments.store`) into one
row per cell. The helpers here take that table (a DataFrame) and the run's names, never a
:class:`Run`: summaries, paired comparisons, Pareto and model-choice views,
disagreements and majority@k curves; and the fine-tuning export, which takes the cells'
records. The statistics are in :mod:`promptlab.experiments.stats`.
"""

from promptlab.experiments.analysis._cells import CellsTable, cells_frame, scorer_names
from promptlab.experiments.analysis._finetuning import FineTuningExport, format_problem
from promptlab.experiments.analysis._plotting import RunPlots
from promptlab.experiments.analysis._readable import readable_table, text_width
from promptlab.experiments.analysis._run import Run
from promptlab.experiments.analysis._summary import SUMMARY_COLUMNS, summarize_cells
from promptlab.experiments.analysis._unscored import (
    UnscoredWarning,
    unscored_cells,
    unscored_message,
    warn_unscored,
)
from promptlab.experiments.analysis._views import provider_setup

__all__ = [
    "SUMMARY_COLUMNS",
    "CellsTable",
    "FineTuningExport",
    "Run",
    "RunPlots",
    "UnscoredWarning",
    "cells_frame",
    "format_problem",
    "provider_setup",
    "readable_table",
    "scorer_names",
    "summarize_cells",
    "text_width",
    "unscored_cells",
    "unscored_message",
    "warn_unscored",
]
