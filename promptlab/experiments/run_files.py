"""Read a run directory (``experiment.json`` + ``cells.jsonl``) into records and a table.

Reading is forgiving where a killed run leaves damage and strict elsewhere:

- The **last record per cell id wins**: an errored attempt followed by a successful
  retry counts as the success.
- A **truncated final line** (the process died mid-write) is skipped with a warning.
- A line where a partial record was glued to the next one is read from the start of the
  complete record it contains; anything else unreadable raises
  :class:`~promptlab.errors.DataError` naming the file and line.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from promptlab.errors import DataError
from promptlab.experiments.records import CELLS_FILE, CellRecord
from promptlab.experiments.results_store import EXPERIMENT_FILE

__all__ = ["cells_frame", "read_cells", "read_experiment", "scorer_names"]

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


def read_cells(run_dir: Path) -> list[CellRecord]:
    """Every cell's latest record, in the order cells first appeared.

    Raises:
        DataError: ``cells.jsonl`` is missing, or a line other than the last is unreadable.
    """
    path = run_dir / CELLS_FILE
    if not path.exists():
        raise DataError(
            f"no {CELLS_FILE} here, so this is not a run directory (or the run has not "
            f"finished any cell yet). Pass the directory given to --out / Experiment.run(out=).",
            source=str(path),
        )
    lines = path.read_text(encoding="utf-8").splitlines()
    last_nonblank = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    latest: dict[str, CellRecord] = {}
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        record = _parse_line(line)
        if record is None:
            start = line.find(_RECORD_START, 1)
            record = _parse_line(line[start:]) if start > 0 else None
            if record is not None:
                warnings.warn(
                    f"{path}, line {index + 1}: skipped a partial record glued to a full one.",
                    stacklevel=3,
                )
        if record is None:
            if index == last_nonblank:
                warnings.warn(
                    f"{path}, line {index + 1}: skipped a truncated last record (the run was "
                    f"killed while writing it; that cell runs again on resume).",
                    stacklevel=3,
                )
                continue
            raise DataError(
                "not a cell record. Fix or delete that line; the cell then runs again on the "
                "next run.",
                source=str(path),
                line=index + 1,
            )
        latest[record.id] = record
    return list(latest.values())


def _parse_line(line: str) -> CellRecord | None:
    try:
        return CellRecord.from_json(line)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def scorer_names(records: Iterable[CellRecord], declared: Iterable[str] = ()) -> list[str]:
    """Scorer names: those declared in ``experiment.json`` first, then any others seen."""
    names = list(dict.fromkeys(declared))
    for record in records:
        for name in record.scores:
            if name not in names:
                names.append(name)
    return names


def cells_frame(records: list[CellRecord], scorers: list[str]) -> pd.DataFrame:
    """One row per cell: identity, answers, a ``score_<name>`` column per scorer, usage.

    ``cost_usd`` is NaN where unknown; ``ok`` is False for errored cells, whose
    ``error_type`` and ``error_message`` say what went wrong. An empty run gives an empty
    table with the same columns.
    """
    columns = list(_row(CellRecord("", "", "", "", 0), scorers))
    frame = pd.DataFrame([_row(r, scorers) for r in records], columns=columns)
    # Typed even when empty: an empty object column used as a mask would select columns.
    types: dict[str, Any] = {"ok": bool, "cached": bool, "latency_s": float, "cost_usd": float}
    types.update({f"score_{name}": float for name in scorers})
    return frame.astype(types)


def _row(r: CellRecord, scorers: list[str]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "cell_id": r.id,
        "task_id": str(r.task_id),
        "arm": r.arm,
        "provider": r.provider,
        "model": r.model,
        "repeat": r.repeat,
        "strategy": r.strategy,
        "template": r.template,
        "template_hash": r.template_hash,
        "expected": r.expected,
        "answer": r.answer,
        "n_samples": len(r.outputs),
        "answers": list(r.answers),
        "outputs": list(r.outputs),
        "output": r.outputs[0] if r.outputs else None,
        "votes": r.votes,
        "confidence": math.nan if r.confidence is None else float(r.confidence),
        "no_answer": r.no_answer,
        "stop_reason": r.stop_reason,
    }
    for name in scorers:
        value = r.scores.get(name)
        row[f"score_{name}"] = math.nan if value is None else float(value)
    row.update(
        {
            "score_notes": dict(r.score_notes),
            "input_tokens": r.input_tokens,
            "output_tokens": r.output_tokens,
            "cached_input_tokens": r.cached_input_tokens,
            "total_tokens": r.input_tokens + r.output_tokens,
            "cost_usd": math.nan if r.cost_usd is None else float(r.cost_usd),
            "latency_s": float(r.latency_s),
            "calls": r.calls,
            "cached": bool(r.cached),
            "ok": r.error is None,
            "error_type": (r.error or {}).get("type"),
            "error_message": (r.error or {}).get("message"),
            "params": dict(r.params),
            "timestamp": r.timestamp,
        }
    )
    return row
