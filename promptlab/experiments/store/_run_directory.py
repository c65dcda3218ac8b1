"""The run directory on disk: ``experiment.json`` plus ``cells.jsonl``, appended as cells finish.

``cells.jsonl`` holds one :class:`~promptlab.experiments.store.CellRecord` per line.
Lines are appended in the order cells finish and flushed one by one, so a killed run loses
only the cells that were still running.

A cell may appear more than once: an errored cell is retried on the next run and its new
record is appended. Readers take the **last record per cell id**; a cell with a
successful record is never run again.

One writer: a run holds an exclusive lock on the directory (``run.lock``, with the
holder's process id in ``run.pid``) from start to end, so a second run on the same
directory fails at once with :class:`~promptlab.errors.RunLockedError`.

Opening a directory for a run (under the lock):

1. ``fresh`` moves ``cells.jsonl`` and ``experiment.json`` aside to ``*.bak-<time>``.
2. The stored definition fingerprint is compared with the experiment's (see
   :mod:`promptlab.experiments.store`); a conflict raises
   :class:`~promptlab.errors.ConfigurationError`.
3. Damaged lines (a write cut off by a kill) move to ``cells.damaged.jsonl``, with one
   warning; their cells run again.
4. ``experiment.json`` is written atomically (a temporary file, then ``os.replace``), after
   any rescore, so a crash never leaves a definition that the cells do not match.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from filelock import FileLock, Timeout

from promptlab.errors import ConfigurationError, RunLockedError
from promptlab.experiments.store._fingerprint import (
    FORMAT,
    DefinitionChanges,
    compare,
    with_retired,
)
from promptlab.experiments.store._reading import (
    DAMAGED_FILE,
    EXPERIMENT_FILE,
    CellEntry,
    CellScan,
    DamagedCellsWarning,
    scan_cells,
    scan_entries,
)
from promptlab.experiments.store._records import CELLS_FILE, CellRecord

__all__ = ["EXPERIMENT_FILE", "LOCK_FILE", "PID_FILE", "OpenedRun", "RunDirectory"]

LOCK_FILE = "run.lock"
PID_FILE = "run.pid"


@dataclass
class OpenedRun:
    """What a run directory holds once opened for a run.

    Only each cell's identity and outcome are read (not its prompt, replies and scores):
    that is all a resume needs, and it keeps opening a large run quick and small.

    Attributes:
        cells: Every cell's latest entry (damaged lines left out).
        changes: How the experiment differs from the definition stored here.
        backup: Where ``fresh`` moved the old records, if it did.
    """

    cells: list[CellEntry] = field(default_factory=list)
    changes: DefinitionChanges = field(default_factory=DefinitionChanges)
    backup: Path | None = None

    def finished_ids(self) -> set[str]:
        """Ids of cells whose latest record is a success."""
        return {entry.id for entry in self.cells if entry.ok}


class RunDirectory:
    """One run directory: its lock, its stored definition, and appending cell records.

    Args:
        path: The run directory; created if missing.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.cells_path = self.path / CELLS_FILE
        self.definition_path = self.path / EXPERIMENT_FILE
        self._file: IO[str] | None = None
        self._lock: FileLock | None = None

    # -- the lock ---------------------------------------------------------------------

    def lock(self) -> None:
        """Take the directory's exclusive lock, or fail at once.

        Raises:
            RunLockedError: Another run (in this process or another) holds it; the
                message names the directory and the holder's process id.
        """
        self.path.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.path / LOCK_FILE, timeout=0, thread_local=False)
        try:
            lock.acquire()
        except Timeout:
            raise RunLockedError(str(self.path), self._holder_pid()) from None
        self._lock = lock
        (self.path / PID_FILE).write_text(f"{os.getpid()}\n", encoding="utf-8")

    def unlock(self) -> None:
        """Release the lock (a no-op when not held)."""
        if self._lock is None:
            return
        with contextlib.suppress(OSError):
            (self.path / PID_FILE).unlink()
        self._lock.release()
        self._lock = None

    def _holder_pid(self) -> int | None:
        try:
            return int((self.path / PID_FILE).read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            return None  # the holder has not written it yet

    # -- opening for a run --------------------------------------------------------------

    def open(self, fingerprint: Mapping[str, Any], *, fresh: bool = False) -> OpenedRun:
        """Check what the directory holds against ``fingerprint``; call with the lock held.

        Args:
            fingerprint: The experiment's definition fingerprint.
            fresh: Move the old records and definition aside first and start over.

        Raises:
            ConfigurationError: The cells here come from a definition that conflicts with
                this one, or from a run that recorded no fingerprint.
        """
        opened = OpenedRun()
        if fresh:
            opened.backup = self._move_aside()
        scan = scan_entries(self.cells_path)
        if scan.damaged or scan.missing_newline:
            self._repair(scan)
        opened.cells = scan.latest()
        if opened.cells:
            stored = self.stored_fingerprint()
            opened.changes = compare(stored, fingerprint)
            if opened.changes.conflicts:
                raise ConfigurationError(self._conflict_message(opened.changes.conflicts))
        return opened

    def latest_records(self) -> list[CellRecord]:
        """Every cell's latest whole record (a rescore needs them; a resume does not)."""
        return scan_cells(self.cells_path).latest()

    def stored_fingerprint(self) -> dict[str, Any]:
        """The definition fingerprint in ``experiment.json``.

        Raises:
            ConfigurationError: There is none (an older promptlab wrote the directory, or
                the file is missing or unreadable) or it has another format.
        """
        data: Any = None
        with contextlib.suppress(OSError, json.JSONDecodeError):
            data = json.loads(self.definition_path.read_text(encoding="utf-8"))
        stored = data.get("fingerprint") if isinstance(data, dict) else None
        if not isinstance(stored, dict) or stored.get("format") != FORMAT:
            raise ConfigurationError(
                f"{self.path} holds cells but no definition fingerprint in {EXPERIMENT_FILE} "
                "(it was written by an older promptlab, or the file is missing or damaged), "
                "so they cannot be checked against this experiment and are not resumed. "
                "Start over in this directory with --fresh (Experiment.run(fresh=True); the "
                "old records are kept in a backup file), or use a new --out directory."
            )
        return stored

    def write_definition(
        self,
        definition: Mapping[str, Any],
        fingerprint: Mapping[str, Any],
        records: Iterable[CellRecord | CellEntry] | None = None,
    ) -> None:
        """Write ``experiment.json`` atomically: the description plus the fingerprint.

        Entries of the stored fingerprint that the experiment dropped but that still have
        records are kept as ``retired`` (see
        :func:`~promptlab.experiments.store.with_retired`). ``records``: the directory's
        latest records or entries when the caller already read them (saves reading the
        file again).
        """
        try:
            stored = self.stored_fingerprint()
        except ConfigurationError:
            stored = {}
        if records is None:
            records = scan_entries(self.cells_path).latest()
        records = list(records)
        recorded = {
            "arms": {r.arm for r in records},
            "providers": {r.provider for r in records},
            "tasks": {str(r.task_id) for r in records},
        }
        data = {**definition, "fingerprint": with_retired(fingerprint, stored, recorded)}
        if self._holds(data):
            return  # a resume of the same definition: nothing to write (large for many tasks)
        _write_atomic(
            self.definition_path,
            json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n",
        )

    def _holds(self, data: Mapping[str, Any]) -> bool:
        """Does ``experiment.json`` already hold ``data`` (the same JSON, keys in any order)?"""
        try:
            on_disk = json.loads(self.definition_path.read_text(encoding="utf-8"))
            return _canonical(on_disk) == _canonical(data)
        except (OSError, ValueError, TypeError):  # unreadable, or keys that do not sort
            return False

    def replace_records(self, records: Iterable[CellRecord]) -> None:
        """Rewrite ``cells.jsonl`` with ``records`` only, atomically (used by a rescore)."""
        self.close()
        _write_atomic(self.cells_path, "".join(record.to_json() + "\n" for record in records))

    def back_up_records(self, records: Iterable[CellRecord]) -> Path | None:
        """Append ``records`` to a timestamped backup file beside ``cells.jsonl``."""
        lines = [record.to_json() + "\n" for record in records]
        if not lines:
            return None
        backup = self.path / f"{CELLS_FILE}.bak-{_stamp()}"
        with backup.open("a", encoding="utf-8") as handle:
            handle.writelines(lines)
        return backup

    # -- appending ----------------------------------------------------------------------

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

    # -- helpers ------------------------------------------------------------------------

    def _move_aside(self) -> Path | None:
        stamp = _stamp()
        backup = None
        if self.cells_path.exists():
            backup = self.path / f"{CELLS_FILE}.bak-{stamp}"
            os.replace(self.cells_path, backup)
        if self.definition_path.exists():
            os.replace(self.definition_path, self.path / f"{EXPERIMENT_FILE}.bak-{stamp}")
        return backup

    def _repair(self, scan: CellScan[Any]) -> None:
        """Move damaged lines to ``cells.damaged.jsonl`` and keep only whole records."""
        lines = self.cells_path.read_text(encoding="utf-8", errors="replace").split("\n")
        damaged = dict(scan.damaged)
        kept = []
        for number, line in enumerate(lines, start=1):
            if number in damaged:
                rest = line[len(damaged[number]) :]
                if rest.strip():
                    kept.append(rest)
            elif line.strip():
                kept.append(line)
        if scan.damaged:
            with (self.path / DAMAGED_FILE).open("a", encoding="utf-8") as handle:
                handle.writelines(text + "\n" for _, text in scan.damaged)
            warnings.warn(
                scan.damage_note(self.cells_path, moved=True),
                DamagedCellsWarning,
                stacklevel=4,
            )
        _write_atomic(self.cells_path, "".join(line + "\n" for line in kept))

    def _conflict_message(self, conflicts: list[str]) -> str:
        listed = "\n".join(f"  - {line}" for line in conflicts)
        return (
            f"The experiment is defined differently from the run already in {self.path} "
            f"(see its {EXPERIMENT_FILE}), so its finished cells would not match:\n{listed}\n"
            "To proceed, use a new --out directory, or start over in this directory with "
            "--fresh (Experiment.run(fresh=True)), which keeps the old records in a backup "
            f"file ({CELLS_FILE}.bak-<time>)."
        )


def _canonical(data: Any) -> str:
    """One text per JSON value: sorted keys, and ``true``, ``1`` and ``1.0`` kept apart."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
