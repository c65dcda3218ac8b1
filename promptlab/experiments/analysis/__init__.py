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

import importlib
from typing import TYPE_CHECKING, Any

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

#: Name -> the module defining it, imported on first use (the same names as above).
_ON_FIRST_USE = {
    "CellsTable": "_cells",
    "cells_frame": "_cells",
    "scorer_names": "_cells",
    "FineTuningExport": "_finetuning",
    "format_problem": "_finetuning",
    "RunPlots": "_plotting",
    "readable_table": "_readable",
    "text_width": "_readable",
    "SUMMARY_COLUMNS": "_summary",
    "summarize_cells": "_summary",
    "UnscoredWarning": "_unscored",
    "unscored_cells": "_unscored",
    "unscored_message": "_unscored",
    "warn_unscored": "_unscored",
    "provider_setup": "_views",
}

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


def __getattr__(name: str) -> Any:
    module = _ON_FIRST_USE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
