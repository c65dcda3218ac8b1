"""The cells table: one row per cell record, the input of every summary, comparison and view.

The helpers of this room take a :class:`CellsTable` (the table and the names to read it
by), never a :class:`~promptlab.experiments.analysis.Run`: ``Run`` builds one and calls them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from promptlab.experiments.store import CellRecord

__all__ = ["CellsTable", "cells_frame", "scorer_names"]


@dataclass(frozen=True, eq=False)
class CellsTable:
    """A run's cells table and the names to read it by: what the analysis helpers take.

    Attributes:
        frame: One row per cell (see :func:`cells_frame`).
        arms: Arm names, in the run's order.
        providers: Provider names, in the run's order.
        seed: Seed for bootstrap intervals, so tables reproduce.
        clusters: Task id -> cluster label when the tasks name clusters, else None.
    """

    frame: pd.DataFrame
    arms: list[str]
    providers: list[str]
    seed: int = 0
    clusters: Mapping[str, str] | None = None

    def scored(self, scorer: str) -> pd.DataFrame:
        """Long table of usable scores: cells without error whose score is a finite number.

        Columns: ``arm, provider, task_id, repeat, score``.
        """
        frame = self.frame
        usable = frame[frame["ok"] & np.isfinite(frame[f"score_{scorer}"])]
        table = usable[["arm", "provider", "task_id", "repeat", f"score_{scorer}"]]
        return table.rename(columns={f"score_{scorer}": "score"}).reset_index(drop=True)


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
        "expected_answer": r.expected_answer,
        "answer": r.answer,
        "n_samples": len(r.outputs),
        "answers": list(r.answers),
        "outputs": list(r.outputs),
        "output": r.outputs[0] if r.outputs else None,
        "votes": r.votes,
        "confidence": math.nan if r.confidence is None else float(r.confidence),
        "no_answer": r.no_answer,
        "stop_reason": r.stop_reason,
        "finish_reasons": list(r.finish_reasons),
        "truncated": r.truncated,
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
