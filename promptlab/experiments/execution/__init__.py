"""Running an experiment: scheduling its cells, running and scoring each, resuming.

:class:`ExperimentRunner` runs one experiment into one run directory (see
:mod:`promptlab.experiments.store`); ``Experiment.run`` and ``Experiment.arun`` build one.
In batch mode (:mod:`~promptlab.experiments.execution._batching`), cache misses go to
vendor batch APIs through a :class:`BatchScheduler`, recorded ahead in the run directory.
"""

from promptlab.experiments.execution._batch_cell import BatchCellProvider, BatchOptions
from promptlab.experiments.execution._batch_control import (
    BatchReport,
    batch_status,
    cancel_batches,
)
from promptlab.experiments.execution._batch_files import (
    export_batch_file,
    import_batch_results,
)
from promptlab.experiments.execution._batching import BatchScheduler
from promptlab.experiments.execution._budget import Budget
from promptlab.experiments.execution._cell import Cell, error_dict, iter_cells, run_cell
from promptlab.experiments.execution._estimate import (
    CostEstimate,
    DryRunProvider,
    EstimateRow,
    estimate_experiment,
)
from promptlab.experiments.execution._progress import RunProgress
from promptlab.experiments.execution._rescore import rescore_records, stored_result
from promptlab.experiments.execution._runner import (
    ExperimentRunner,
    RunInterrupted,
    interrupts_cancel,
)

__all__ = [
    "BatchCellProvider",
    "BatchOptions",
    "BatchReport",
    "BatchScheduler",
    "Budget",
    "Cell",
    "CostEstimate",
    "DryRunProvider",
    "EstimateRow",
    "ExperimentRunner",
    "RunInterrupted",
    "RunProgress",
    "batch_status",
    "cancel_batches",
    "error_dict",
    "estimate_experiment",
    "export_batch_file",
    "import_batch_results",
    "interrupts_cancel",
    "iter_cells",
    "rescore_records",
    "run_cell",
    "stored_result",
]
