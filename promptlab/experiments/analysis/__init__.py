"""A run's results: :class:`Run`, the cells table, and the summaries and views built on it.

:class:`Run` reads a run directory (through :mod:`promptlab.experiments.store`) into one
row per cell. The helpers here take that table (a DataFrame) and the run's names, never a
:class:`Run`: summaries, paired comparisons, Pareto and model-choice views,
disagreements and majority@k curves; and the fine-tuning export, which takes the cells'
records. The statistics are in :mod:`promptlab.experiments.stats`.

Only :class:`Run` is imported with the package: ``Experiment.run`` returns one, and a run
that is only resumed or listed never needs pandas. Every other name is imported from its
module on first use, and ``Run`` itself loads pandas when it is first asked for data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import lazy_loader

from promptlab.experiments.analysis._run import Run

if TYPE_CHECKING:
    from promptlab.experiments.analysis._cells import CellsTable, cells_frame, scorer_names
    from promptlab.experiments.analysis._finetuning import FineTuningExport, format_problem
    from promptlab.experiments.analysis._plotting import RunPlots
    from promptlab.experiments.analysis._readable import readable_table, text_width
    from promptlab.experiments.analysis._summary import SUMMARY_COLUMNS, summarize_cells
    from promptlab.experiments.analysis._unscored import (
        UnscoredWarning,
        unscored_cells,
        unscored_message,
        warn_unscored,
    )
    from promptlab.experiments.analysis._views import provider_setup

# The same lazy-export mechanism as promptlab.retrieval and promptlab.strategies.
__getattr__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "_cells": ["CellsTable", "cells_frame", "scorer_names"],
        "_finetuning": ["FineTuningExport", "format_problem"],
        "_plotting": ["RunPlots"],
        "_readable": ["readable_table", "text_width"],
        "_summary": ["SUMMARY_COLUMNS", "summarize_cells"],
        "_unscored": ["UnscoredWarning", "unscored_cells", "unscored_message", "warn_unscored"],
        "_views": ["provider_setup"],
    },
)[0]

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
