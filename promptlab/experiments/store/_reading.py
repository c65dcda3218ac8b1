"""Read a run directory (``experiment.json`` + ``cells.jsonl``) into records.

Reading rules (one scanner, :func:`scan_cells`, for the runner and for :class:`Run`):

- The **last record per cell id wins**: an errored attempt followed by a successful
  retry counts as the success.
- A **damaged line** (a write cut off when a run was killed, anywhere in the file) is
  skipped, and one warning names every such line. Its cell counts as not run. A line
  where a partial record was glued to a full one keeps the full record.
- A run on the directory moves damaged lines to ``cells.damaged.jsonl`` before it
  starts, so they are reported once and their cells run again.

Two ways to read, one set of rules: :func:`scan_cells` parses whole records;
:func:`scan_entries` reads only each cell's identity and outcome (:class:`CellEntry`),
which is what resuming a run and listing a run's cells need. A line in the format
:meth:`CellRecord.to_json` writes is read from its first and last fields without parsing
the rest (the replies and prompts in between are most of the bytes); any other line goes
through the full parse, so both readers accept and reject the same lines.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

from promptlab.errors import DataError
from promptlab.experiments.store._records import CELLS_FILE, CellRecord, cell_id

__all__ = [
    "DAMAGED_FILE",
    "EXPERIMENT_FILE",
    "CellEntry",
    "CellScan",
    "DamagedCellsWarning",
    "cells_file",
    "definition_filter",
    "in_definition",
    "parse_experiment",
    "read_cells",
    "read_experiment",
    "read_experiment_text",
    "scan_cells",
    "scan_entries",
    "stream_cells",
]

EXPERIMENT_FILE = "experiment.json"
#: Where a run moves damaged lines of ``cells.jsonl`` (appended, never read back).
DAMAGED_FILE = "cells.damaged.jsonl"


class DamagedCellsWarning(UserWarning):
    """``cells.jsonl`` holds lines that are not cell records; they were skipped."""


# Records are written by CellRecord.to_json (dataclass field order), so each one starts so.
_RECORD_START = '{"task_id"'

# A JSON string literal, written as "unrolled" runs of plain characters between escapes:
# the same strings as '"(?:[^"\\]|\\.)*"', matched a run at a time (twice as fast).
_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'
# The first and the last fields of a line CellRecord.to_json wrote; what lies between
# (prompts, replies, scores) is not needed to know which cell it is and how it ended.
_HEAD = re.compile(
    rf'\{{"task_id": ({_STRING}), "arm": ({_STRING}), "provider": ({_STRING}), '
    rf'"model": {_STRING}, "repeat": (\d+), '
)
_TAIL_START = ', "cost_usd": '
_TAIL = re.compile(
    r', "cost_usd": (null|-?[0-9.eE+-]+), "latency_s": [^,]+, "calls": -?\d+, '
    rf'"cached": (true|false), "error": (null|\{{.*\}}), "promptlab_version": {_STRING}, '
    rf'"timestamp": {_STRING}\}}'
)


class CellEntry(NamedTuple):
    """Which cell a line of ``cells.jsonl`` is and how it ended: what resuming needs.

    Attributes:
        task_id, arm, provider, repeat: The cell (see :func:`cell_id`).
        ok: The cell finished without error.
        cost_usd: Its cost, None when unknown.
        cached: Its response came from the response cache.
    """

    task_id: str
    arm: str
    provider: str
    repeat: int
    ok: bool
    cost_usd: float | None
    cached: bool

    @property
    def id(self) -> str:
        """See :func:`cell_id`."""
        return cell_id(self.task_id, self.arm, self.provider, self.repeat)

    @classmethod
    def of(cls, record: CellRecord) -> CellEntry:
        """The entry of a whole record."""
        return cls(
            str(record.task_id),
            record.arm,
            record.provider,
            record.repeat,
            record.error is None,
            record.cost_usd,
            record.cached,
        )


def read_experiment(run_dir: Path) -> dict[str, Any]:
    """The run's ``experiment.json`` as a dict; ``{}`` when the file is missing.

    Raises:
        DataError: The file exists but is not a JSON object.
    """
    return parse_experiment(read_experiment_text(run_dir), run_dir)


def read_experiment_text(run_dir: Path) -> str | None:
    """The run's ``experiment.json`` as text, unparsed; None when the file is missing."""
    path = run_dir / EXPERIMENT_FILE
    return path.read_text(encoding="utf-8") if path.exists() else None


def parse_experiment(text: str | None, run_dir: Path) -> dict[str, Any]:
    """``text`` read from ``run_dir``'s ``experiment.json`` as a dict; ``{}`` for None (no
    file). An empty file is damaged, not missing: it raises like any text that is not JSON.

    Raises:
        DataError: The text is not a JSON object.
    """
    if text is None:
        return {}
    path = run_dir / EXPERIMENT_FILE
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"not valid JSON ({exc}). Re-run the experiment to rewrite it.", source=str(path)
        ) from None
    if not isinstance(data, dict):
        raise DataError("expected a JSON object describing the experiment.", source=str(path))
    return data


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


T = TypeVar("T", bound=_HasId)


@dataclass
class CellScan(Generic[T]):
    """What ``cells.jsonl`` holds, line by line.

    Attributes:
        records: ``(line number, record)`` for every readable record, in file order
            (:class:`CellRecord` from :func:`scan_cells`, :class:`CellEntry` from
            :func:`scan_entries`).
        damaged: ``(line number, text)`` for every line that is not a cell record: a
            truncated write, or the partial start of a line glued to a full record.
        missing_newline: The file does not end with a newline (a killed write).
    """

    records: list[tuple[int, T]] = field(default_factory=list)
    damaged: list[tuple[int, str]] = field(default_factory=list)
    missing_newline: bool = False

    def latest(self) -> list[T]:
        """Every cell's last record, in the order cells first appeared."""
        latest: dict[str, T] = {}
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


def scan_cells(path: Path) -> CellScan[CellRecord]:
    """Read ``cells.jsonl`` at ``path`` line by line; unreadable lines are listed, not fatal.

    The one reading rule for the runner (which cells are finished), :func:`read_cells`
    and :func:`scan_entries`, so they always agree.
    """
    return _scan(path, _parse_line)


def scan_entries(path: Path) -> CellScan[CellEntry]:
    """:func:`scan_cells`, keeping only each line's :class:`CellEntry` (resume, listings).

    Same lines accepted, same damaged lines listed; a record is parsed whole only when
    its line is not in the format :meth:`CellRecord.to_json` writes.
    """
    return _scan(path, _parse_entry, _entry_of_bytes)


def _lines(path: Path, limit: int | None = None) -> Iterator[tuple[int, bytes]]:
    """``(line number, line)`` of ``path`` without the newline, as bytes, one at a time;
    the last item is ``(0, b"")`` when the file does not end with a newline. ``limit``:
    read only the file's first ``limit`` bytes (what it held when a reader first looked).
    Lines are decoded (UTF-8, bad bytes replaced) by :func:`_decoded` when needed."""
    # Binary lines end at b"\n" only; a reply may hold U+2028 and the like.
    with path.open("rb") as handle:
        raw = b""
        read = 0
        for number, raw in enumerate(handle, start=1):
            if limit is not None and read + len(raw) > limit:
                raw = raw[: limit - read]
                if raw:
                    yield number, raw.rstrip(b"\n")
                break
            read += len(raw)
            yield number, raw.rstrip(b"\n")
        if raw and not raw.endswith(b"\n"):
            yield 0, b""


def _decoded(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def stream_cells(
    path: Path, scan: CellScan[Any], *, limit: int | None = None
) -> Iterator[CellRecord]:
    """Every readable record of ``cells.jsonl`` at ``path``, one at a time, in file order.

    The same rules as :func:`scan_cells`, without holding the records: the damaged lines
    and a missing final newline are noted in ``scan`` as the lines go by. ``limit``: read
    only the first ``limit`` bytes.
    """
    for _, record in _iter_scan(path, _parse_line, scan, limit):
        yield record


def _scan(
    path: Path,
    parse: Callable[[str], T | None],
    quick: Callable[[bytes], T | None] | None = None,
) -> CellScan[T]:
    scan: CellScan[T] = CellScan()
    scan.records = list(_iter_scan(path, parse, scan, quick=quick))
    return scan


def _iter_scan(
    path: Path,
    parse: Callable[[str], T | None],
    scan: CellScan[Any],
    limit: int | None = None,
    quick: Callable[[bytes], T | None] | None = None,
) -> Iterator[tuple[int, T]]:
    """``quick``: reads a line's bytes when they are plainly one well-formed record and
    gives the same result ``parse`` would (else None, and the line is decoded and parsed)."""
    if not path.exists():
        return
    for number, raw in _lines(path, limit):
        if number == 0:
            scan.missing_newline = True
            continue
        if quick is not None:
            found = quick(raw)
            if found is not None:
                yield number, found
                continue
        line = _decoded(raw)
        if not line.strip():
            continue
        record = parse(line)
        if record is None:
            start = line.find(_RECORD_START, 1)
            record = parse(line[start:]) if start > 0 else None
            scan.damaged.append((number, line[:start] if record is not None else line))
        if record is not None:
            yield number, record


def read_cells(run_dir: Path) -> list[CellRecord]:
    """Every cell's latest record, in the order cells first appeared.

    Damaged lines are skipped with one warning naming them; the cells they held count as
    not run (the runner reads the file the same way, see :func:`scan_cells`).

    Raises:
        DataError: ``cells.jsonl`` is missing.
    """
    path = cells_file(run_dir)
    scan = scan_cells(path)
    if scan.damaged:
        warnings.warn(scan.damage_note(path), DamagedCellsWarning, stacklevel=3)
    return scan.latest()


def cells_file(run_dir: Path) -> Path:
    """The run directory's ``cells.jsonl``.

    Raises:
        DataError: It is missing.
    """
    path = run_dir / CELLS_FILE
    if not path.exists():
        raise DataError(
            f"no {CELLS_FILE} here, so this is not a run directory (or the run has not "
            f"finished any cell yet). Pass the directory given to --out / Experiment.run(out=).",
            source=str(path),
        )
    return path


def in_definition(records: list[CellRecord], experiment: Mapping[str, Any]) -> list[CellRecord]:
    """The records of cells in the run's current definition (per its fingerprint).

    Cells of tasks, arms or providers no longer in the experiment, and repeats beyond
    ``repeats``, stay on disk but are left out. A run without a fingerprint (written by
    an older promptlab) keeps every record.
    """
    keep = definition_filter(experiment)
    if keep is None:
        return records
    return [r for r in records if keep(str(r.task_id), r.arm, r.provider, r.repeat)]


def definition_filter(
    experiment: Mapping[str, Any],
) -> Callable[[str, str, str, int], bool] | None:
    """``keep(task_id, arm, provider, repeat)``: is the cell in the run's definition?

    None when the run has no fingerprint (an older promptlab): every cell is kept. See
    :func:`in_definition`.
    """
    fingerprint = experiment.get("fingerprint")
    if not isinstance(fingerprint, Mapping):
        return None
    tasks = set(fingerprint.get("tasks") or {})
    arms = set(fingerprint.get("arms") or {})
    providers = set(fingerprint.get("providers") or {})
    repeats = fingerprint.get("repeats")
    limit = repeats if isinstance(repeats, int) else None

    def keep(task_id: str, arm: str, provider: str, repeat: int) -> bool:
        return (
            task_id in tasks
            and arm in arms
            and provider in providers
            and (limit is None or repeat < limit)
        )

    return keep


def _parse_line(line: str) -> CellRecord | None:
    try:
        return CellRecord.from_json(line)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def _parse_entry(line: str) -> CellEntry | None:
    record = _parse_line(line)
    return None if record is None else CellEntry.of(record)


_HEAD_BYTES = re.compile(_HEAD.pattern.encode())
_TAIL_BYTES = re.compile(_TAIL.pattern.encode())
_RECORD_START_BYTES = _RECORD_START.encode()
_TAIL_START_BYTES = _TAIL_START.encode()


def _entry_of_bytes(line: bytes) -> CellEntry | None:
    """The entry from the line's first and last fields, read from its bytes without
    decoding or parsing the rest (the replies and prompts in between are most of it).

    None when the line is not plainly one record in :meth:`CellRecord.to_json`'s format:
    the caller then decodes and parses it whole (:func:`_parse_entry`), so a line is
    either read here exactly as a whole parse would read it, or parsed whole.
    """
    head = _HEAD_BYTES.match(line)
    if head is None or line.find(_RECORD_START_BYTES, 1) != -1:  # not ours, or glued records
        return None
    start = line.rfind(_TAIL_START_BYTES)
    tail = _TAIL_BYTES.fullmatch(line, start) if start > 0 else None
    if tail is None:
        return None
    cost = tail.group(1)
    try:
        cost_usd = None if cost == b"null" else float(cost)
    except ValueError:
        return None
    if cost_usd is not None and not math.isfinite(cost_usd):
        return None
    return CellEntry(
        _text(_decoded(head.group(1))),
        _text(_decoded(head.group(2))),
        _text(_decoded(head.group(3))),
        int(head.group(4)),
        tail.group(3) == b"null",
        cost_usd,
        tail.group(2) == b"true",
    )


def _text(quoted: str) -> str:
    """A JSON string literal's text (escapes decoded only when there are any)."""
    if "\\" in quoted:
        text: str = json.loads(quoted)
        return text
    return quoted[1:-1]
