"""Running an experiment: scheduling its cells, running and scoring each, resuming.

:class:`ExperimentRunner` runs one experiment into one run directory (see
:mod:`promptlab.experiments.store`); ``Experiment.run`` and ``Experiment.arun`` build one.
"""

from promptlab.experiments.execution._cell import Cell, error_dict, iter_cells, run_cell
from promptlab.experiments.execution._progress import RunProgress
from promptlab.experiments.execution._rescore import rescore_records, stored_result
from promptlab.experiments.execution._runner import (
    ExperimentRunner,
    RunInterrupted,
    interrupts_cancel,
)

__all__ = [
    "Cell",
    "ExperimentRunner",
    "RunInterrupted",
    "RunProgress",
    "error_dict",
    "interrupts_cancel",
    "iter_cells",
    "rescore_records",
    "run_cell",
    "stored_result",
]
