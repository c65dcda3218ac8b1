"""Read a run directory (``experiment.json`` + ``cells.jsonl``) into records.

Reading rules (one scanner, :func:`scan_cells`, for the runner and for :class:`Run`):

- The **last record per cell id wins**: an errored attempt followed by a successful
  retry counts as the success.
- A **damaged line** (a write cut off when a run was killed, anywhere in the file) is
  skipped, and one warning names every such line. Its cell counts as not run. A line
  where a partial record was glued to a full one keeps the full record.
- A run on the directory moves damaged lines to ``cells.damaged.jsonl`` before it
  starts, so they are reported once and their cells run again.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptlab.errors import DataError
from promptlab.experiments.store._records import CELLS_FILE, CellRecord

__all__ = [
    "DAMAGED_FILE",
    "EXPERIMENT_FILE",
    "CellScan",
    "DamagedCellsWarning",
    "in_definition",
    "read_cells",
    "read_experiment",
    "scan_cells",
]

EXPERIMENT_FILE = "experiment.json"
#: Where a run moves damaged lines of ``cells.jsonl`` (appended, never read back).
DAMAGED_FILE = "cells.damaged.jsonl"


class DamagedCellsWarning(UserWarning):
    """``cells.jsonl`` holds lines that are not cell records; they were skipped."""


# Records are written by CellRecord.to_json (dataclass field order), so each one starts so.
_RECORD_START = '{"task_id"'


def read_experiment(run_dir: Path) -> dict[str, Any]:
    """The run's ``experiment.json`` as a dict; ``{}`` when the file is missing.

    Raises:
        DataError: The file exists but is not a JSON object.
    """
    path = run_dir / EXPERIMENT_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(
            f"not valid JSON ({exc}). Re-run the experiment to rewrite it.", source=str(path)
        ) from None
    if not isinstance(data, dict):
        raise DataError("expected a JSON object describing the experiment.", source=str(path))
    return data


@dataclass
class CellScan:
    """What ``cells.jsonl`` holds, line by line.

    Attributes:
        records: ``(line number, record)`` for every readable record, in file order.
        damaged: ``(line number, text)`` for every line that is not a cell record: a
            truncated write, or the partial start of a line glued to a full record.
        missing_newline: The file does not end with a newline (a killed write).
    """

    records: list[tuple[int, CellRecord]] = field(default_factory=list)
    damaged: list[tuple[int, str]] = field(default_factory=list)
    missing_newline: bool = False

    def latest(self) -> list[CellRecord]:
        """Every cell's last record, in the order cells first appeared."""
        latest: dict[str, CellRecord] = {}
        for _, record in self.records:
            latest[record.id] = record
        return list(latest.values())

    def damage_note(self, path: Path, *, moved: bool = False) -> str:
        """One message naming the damaged lines, for the single warning about them.

        Args:
            path: The cells file.
            moved: The lines were just moved aside by a run (else: only skipped).
        """
        numbers = [number for number, _ in self.damaged]
        shown = ", ".join(str(n) for n in numbers[:5]) + (", ..." if len(numbers) > 5 else "")
        what = f"{len(numbers)} damaged line(s) (line {shown}) that are not cell records"
        if moved:
            return (
                f"{path}: moved {what} to {DAMAGED_FILE} (e.g. a write cut off when a run "
                "was killed); their cells run again."
            )
        return (
            f"{path}: skipped {what}, e.g. a write cut off when a run was killed. Those cells "
            f"count as not run; the next run on this directory moves the lines to "
            f"{DAMAGED_FILE} and runs the cells again."
        )


def scan_cells(path: Path) -> CellScan:
    """Read ``cells.jsonl`` at ``path`` line by line; unreadable lines are listed, not fatal.

    The one reading rule for both the runner (which cells are finished) and
    :func:`read_cells`, so the two always agree.
    """
    scan = CellScan()
    if not path.exists():
        return scan
    text = path.read_text(encoding="utf-8", errors="replace")
    scan.missing_newline = bool(text) and not text.endswith("\n")
    # Split on "\n" only: a reply may hold U+2028 and the like, which splitlines() splits on.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        record = _parse_line(line)
        if record is None:
            start = line.find(_RECORD_START, 1)
            record = _parse_line(line[start:]) if start > 0 else None
            scan.damaged.append((number, line[:start] if record is not None else line))
        if record is not None:
            scan.records.append((number, record))
    return scan


def read_cells(run_dir: Path) -> list[CellRecord]:
    """Every cell's latest record, in the order cells first appeared.

    Damaged lines are skipped with one warning naming them; the cells they held count as
    not run (the runner reads the file the same way, see :func:`scan_cells`).

    Raises:
        DataError: ``cells.jsonl`` is missing.
    """
    path = run_dir / CELLS_FILE
    if not path.exists():
        raise DataError(
            f"no {CELLS_FILE} here, so this is not a run directory (or the run has not "
            f"finished any cell yet). Pass the directory given to --out / Experiment.run(out=).",
            source=str(path),
        )
    scan = scan_cells(path)
    if scan.damaged:
        warnings.warn(scan.damage_note(path), DamagedCellsWarning, stacklevel=3)
    return scan.latest()


def in_definition(records: list[CellRecord], experiment: Mapping[str, Any]) -> list[CellRecord]:
    """The records of cells in the run's current definition (per its fingerprint).

    Cells of tasks, arms or providers no longer in the experiment, and repeats beyond
    ``repeats``, stay on disk but are left out. A run without a fingerprint (written by
    an older promptlab) keeps every record.
    """
    fingerprint = experiment.get("fingerprint")
    if not isinstance(fingerprint, Mapping):
        return records
    tasks = set(fingerprint.get("tasks") or {})
    arms = set(fingerprint.get("arms") or {})
    providers = set(fingerprint.get("providers") or {})
    repeats = fingerprint.get("repeats")
    limit = repeats if isinstance(repeats, int) else None
    return [
        r
        for r in records
        if str(r.task_id) in tasks
        and r.arm in arms
        and r.provider in providers
        and (limit is None or r.repeat < limit)
    ]


def _parse_line(line: str) -> CellRecord | None:
    try:
        return CellRecord.from_json(line)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
