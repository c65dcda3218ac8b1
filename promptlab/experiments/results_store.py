"""The run directory on disk: ``experiment.json`` plus ``cells.jsonl``, appended as cells finish.

``cells.jsonl`` holds one :class:`~promptlab.experiments.records.CellRecord` per line.
Lines are appended in the order cells finish and flushed one by one, so a killed run loses
only the cells that were still running. A run killed in the middle of writing a line
leaves a partial last line; opening the directory again cuts it off.

A cell may appear more than once: an errored cell is retried on the next run and its new
record is appended. Readers take the **last record per cell id**; a cell with a
successful record is never run again.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import IO, Any

from promptlab.errors import ConfigurationError, DataError
from promptlab.experiments.records import CELLS_FILE, CellRecord

EXPERIMENT_FILE = "experiment.json"


class RunDirectory:
    """Reads what a run directory already holds, and appends new cell records to it.

    Args:
        path: The run directory; created if missing.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.cells_path = self.path / CELLS_FILE
        self.definition_path = self.path / EXPERIMENT_FILE
        self._file: IO[str] | None = None
        #: Whether a partial last line (from a killed run) was cut off when opening.
        self.repaired = False

    def prepare(self, definition: dict[str, Any]) -> set[str]:
        """Create the directory, check and write ``experiment.json``, return finished ids.

        Raises:
            ConfigurationError: An arm or provider of the same name is defined
                differently from the run already in this directory.
        """
        self.path.mkdir(parents=True, exist_ok=True)
        self._check_definition(definition)
        self.definition_path.write_text(
            json.dumps(definition, indent=2, ensure_ascii=False, default=str) + "\n",
            encoding="utf-8",
        )
        self.repaired = _cut_partial_last_line(self.cells_path)
        return self.finished_ids()

    def finished_ids(self) -> set[str]:
        """Ids of cells that already have a successful record."""
        finished: set[str] = set()
        if not self.cells_path.exists():
            return finished
        with self.cells_path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                    cell = f"{data['task_id']}|{data['arm']}|{data['provider']}|{data['repeat']}"
                except (json.JSONDecodeError, KeyError, TypeError) as exc:
                    raise DataError(
                        f"not a cell record ({exc}). Fix or delete that line; the cell will "
                        "then run again.",
                        source=str(self.cells_path),
                        line=number,
                    ) from None
                if data.get("error") is None:
                    finished.add(cell)
        return finished

    def append(self, record: CellRecord) -> None:
        """Write one record as one line and flush it to the operating system."""
        if self._file is None:
            self._file = self.cells_path.open("a", encoding="utf-8")
        self._file.write(record.to_json() + "\n")
        # flush() hands the line to the OS, which keeps it even if this process is killed;
        # fsync per line would only guard against power loss, at a large cost.
        self._file.flush()

    def close(self) -> None:
        """Close the cells file."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def _check_definition(self, definition: dict[str, Any]) -> None:
        if not self.definition_path.exists():
            return
        try:
            previous = json.loads(self.definition_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            return  # unreadable: it is rewritten below, cells decide what is finished
        old_tasks, new_tasks = previous.get("tasks") or {}, definition.get("tasks") or {}
        if old_tasks.get("fingerprint") not in (None, new_tasks.get("fingerprint")):
            warnings.warn(
                f"The task set differs from the one the run in {self.path} started with. "
                "Finished cells keep their records (with the old expected answers); use a "
                "new --out directory to score every task afresh.",
                stacklevel=3,
            )
        for section, label in (("arms", "arm"), ("providers", "provider")):
            old, new = previous.get(section) or {}, definition.get(section) or {}
            for name in sorted(set(old) & set(new)):
                if _comparable(old[name], section) != _comparable(new[name], section):
                    raise ConfigurationError(
                        f"The {label} {name!r} is defined differently from the run already in "
                        f"{self.path} (see {EXPERIMENT_FILE}), so its finished cells would "
                        f"not match. Use a new --out directory, rename the {label}, or delete "
                        f"{self.path} to start over."
                    )


def _comparable(entry: Any, section: str) -> Any:
    if section == "providers" and isinstance(entry, dict):
        return {"provider": entry.get("provider"), "model": entry.get("model")}
    return json.loads(json.dumps(entry, sort_keys=True, default=str))


def _cut_partial_last_line(path: Path) -> bool:
    """Truncate ``path`` after its last newline; True if anything was cut."""
    if not path.exists():
        return False
    with path.open("rb+") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return False
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return False
        # Walk back in blocks to the last newline; everything after it is a partial record.
        position = size
        while position > 0:
            start = max(0, position - 65536)
            handle.seek(start)
            block = handle.read(position - start)
            index = block.rfind(b"\n")
            if index >= 0:
                handle.truncate(start + index + 1)
                return True
            position = start
        handle.truncate(0)
        return True
