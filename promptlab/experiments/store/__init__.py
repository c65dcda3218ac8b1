"""The run directory on disk: the one owner of its file format.

A run directory holds ``cells.jsonl`` (one :class:`CellRecord` per line, appended as
cells finish; the last record per :func:`cell_id` wins), ``experiment.json`` (the
described definition and its fingerprint), in batch mode ``batches/`` (the write-ahead
batch log, :class:`BatchLog`) and, while a run writes, ``run.lock``.
:class:`RunDirectory` writes it under the lock; :func:`read_cells` and
:func:`read_experiment` read it, skipping damaged lines with a
:class:`DamagedCellsWarning`.
"""

from promptlab.experiments.store._batch_log import BATCHES_FOLDER, BatchLog, BatchRecord
from promptlab.experiments.store._fingerprint import (
    FORMAT,
    MOVED_MODULES,
    DefinitionChanges,
    compare,
    definition_fingerprint,
    differences,
    settings_of,
    task_hash,
    with_current_names,
    with_retired,
)
from promptlab.experiments.store._reading import (
    DAMAGED_FILE,
    EXPERIMENT_FILE,
    CellEntry,
    CellScan,
    DamagedCellsWarning,
    cells_file,
    definition_filter,
    in_definition,
    parse_experiment,
    read_cells,
    read_experiment,
    read_experiment_text,
    scan_cells,
    scan_entries,
    stream_cells,
)
from promptlab.experiments.store._records import CELLS_FILE, CellRecord, cell_id
from promptlab.experiments.store._run_directory import (
    LOCK_FILE,
    PID_FILE,
    OpenedRun,
    RunDirectory,
)
from promptlab.experiments.store._stop import STOP_FILE, clear_stop, read_stop, write_stop

__all__ = [
    "BATCHES_FOLDER",
    "CELLS_FILE",
    "DAMAGED_FILE",
    "EXPERIMENT_FILE",
    "FORMAT",
    "LOCK_FILE",
    "MOVED_MODULES",
    "PID_FILE",
    "STOP_FILE",
    "BatchLog",
    "BatchRecord",
    "CellEntry",
    "CellRecord",
    "CellScan",
    "DamagedCellsWarning",
    "DefinitionChanges",
    "OpenedRun",
    "RunDirectory",
    "cell_id",
    "cells_file",
    "clear_stop",
    "compare",
    "definition_filter",
    "definition_fingerprint",
    "differences",
    "in_definition",
    "parse_experiment",
    "read_cells",
    "read_experiment",
    "read_experiment_text",
    "read_stop",
    "scan_cells",
    "scan_entries",
    "settings_of",
    "stream_cells",
    "task_hash",
    "with_current_names",
    "with_retired",
    "write_stop",
]
