"""The cells table: one row per cell record, the input of every summary, comparison and view.

The helpers of this room take a :class:`CellsTable` (the table and the names to read it
by), never a :class:`~promptlab.experiments.analysis.Run`: ``Run`` builds one and calls them.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Mapping, MutableSequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from promptlab.experiments.analysis._cell_columns import LIST_OF_STRINGS, ListColumn, TextColumn
from promptlab.experiments.store import CellRecord

__all__ = ["CellsBuilder", "CellsTable", "cells_frame", "copy_of", "scorer_names"]

#: Columns with few distinct values: one string object each, shared by every row.
_SHARED = (
    "arm",
    "provider",
    "model",
    "strategy",
    "template",
    "template_hash",
    "task_id",
    "stop_reason",
    "error_type",
)
#: Float columns, held as C doubles while rows are added (no float object per row).
_FLOATS = ("confidence", "cost_usd", "latency_s")
#: Columns held as C integers while every value is an int (else as objects): the counts,
#: and the expected answer (a number for most tasks; pandas makes int64 of either).
_INTS = (
    "expected",
    "repeat",
    "n_samples",
    "no_answer",
    "truncated",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "total_tokens",
    "calls",
)


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
        usable = frame["ok"] & np.isfinite(frame[f"score_{scorer}"])
        # Columns first, then rows: masking the whole table would copy every column.
        table = frame[["arm", "provider", "task_id", "repeat", f"score_{scorer}"]][usable]
        return table.rename(columns={f"score_{scorer}": "score"}).reset_index(drop=True)


def copy_of(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` that changes to either leave the other as it was.

    With pandas' copy-on-write (always on from pandas 3) a shallow copy is one, and shares
    the columns until one side writes (a 100,000-row table's deep copy is about 20 MB).
    """
    return frame.copy(deep=not _copy_on_write())


def _copy_on_write() -> bool:
    if int(pd.__version__.split(".")[0]) >= 3:
        return True  # the option is deprecated there: reading it warns
    return pd.get_option("mode.copy_on_write") is True


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
    builder = CellsBuilder(scorers)
    for record in records:
        builder.add(record)
    return builder.frame()


class CellsBuilder:
    """Builds the cells table (see :func:`cells_frame`) one record at a time.

    Records are not kept: each becomes one row of column values (the rendered prompt,
    retrieved passages and the rest of the record are dropped), so a run directory of
    any size can be read into its table in one pass over ``cells.jsonl``.

    Args:
        scorers: The scorers' names known beforehand (``experiment.json``); any other
            name found in the records' scores gets a column too, after these.
    """

    def __init__(self, scorers: Iterable[str] = ()) -> None:
        self.scorers = list(dict.fromkeys(scorers))
        self._columns: dict[str, MutableSequence[Any]] = {}
        self._scores: dict[str, array[float]] = {name: array("d") for name in self.scorers}
        self._index: dict[str, int] = {}
        self._shared: dict[str, str] = {}
        self._rows = 0

    def add(self, record: CellRecord, *, latest: bool = False) -> None:
        """Add ``record``'s row; with ``latest``, a later record of a cell replaces its row
        (in the place the cell first appeared), as readers of ``cells.jsonl`` do."""
        row = _row(record, ())
        del row["output"]  # the first reply: read from the outputs when the table is made
        self._share(row)
        for name in record.scores:
            if name not in self._scores:
                self.scorers.append(name)
                self._scores[name] = array("d", [math.nan]) * self._rows
        place = self._index.get(row["cell_id"]) if latest else None
        if place is None:
            if latest:
                self._index[row["cell_id"]] = self._rows
            if not self._columns:
                self._columns = {key: _column(key) for key in row}
            for key, value in row.items():
                self._put(key, value, None)
            for name, column in self._scores.items():
                column.append(_score(record, name))
            self._rows += 1
        else:
            for key, value in row.items():
                self._put(key, value, place)
            for name, column in self._scores.items():
                column[place] = _score(record, name)

    def _share(self, row: dict[str, Any]) -> None:
        """Make equal strings of ``row`` one object: a table of 100,000 rows holds each
        arm name, task id, answer and parameter name once, not once per row."""
        shared = self._shared
        for name in _SHARED:
            value = row[name]
            if isinstance(value, str):
                row[name] = shared.setdefault(value, value)
        # Each line's JSON gives its own copy of every key ("seed" 100,000 times).
        row["params"] = {
            shared.setdefault(k, k) if type(k) is str else k: v for k, v in row["params"].items()
        }
        # An answer and the expected answer are mostly one of the sample answers.
        same = {a: a for a in row["answers"] if isinstance(a, str)}
        for name in ("answer", "expected_answer"):
            value = row[name]
            if isinstance(value, str):
                row[name] = same.get(value, value)

    def _put(self, key: str, value: Any, place: int | None) -> None:
        """Append ``value`` to column ``key`` (or set it at row ``place``)."""
        column = self._columns[key]
        try:
            if isinstance(value, bool) and isinstance(column, array):
                raise TypeError("a bool is kept as a bool, not as 0 or 1")
            if place is None:
                column.append(value)
            else:
                column[place] = value
        except (TypeError, OverflowError):  # not a C integer: the column holds objects
            self._columns[key] = column = list(column)
            self._put(key, value, place)

    def frame(self) -> pd.DataFrame:
        """The table of the rows added so far."""
        columns = list(_row(CellRecord("", "", "", "", 0), self.scorers))
        # Typed even when empty: an empty object column used as a mask would select columns.
        types: dict[str, Any] = {"ok": bool, "cached": bool, "latency_s": float, "cost_usd": float}
        types.update({f"score_{name}": float for name in self.scorers})
        types.update(dict.fromkeys(_LISTS, LIST_OF_STRINGS))
        data = {}
        firsts = pd.Series([])  # the first replies (below), for an empty table
        for name in columns:  # one column at a time, each list freed once it is an array
            if name == "output":
                data[name] = firsts
                continue
            scorer = name[len("score_") :]
            values: Any = (
                self._scores.pop(scorer, [])
                if name.startswith("score_") and scorer in self._scores
                else self._columns.pop(name, [])
            )
            if isinstance(values, array):  # C numbers: no Python object per row
                values = np.frombuffer(values, dtype=values.typecode) if len(values) else []
            if isinstance(values, ListColumn) and name == "outputs":
                firsts = values.firsts()
            if isinstance(values, TextColumn | ListColumn):
                data[name] = values.series()
            else:
                data[name] = pd.Series(values, dtype=types.get(name))
            del values
        self._rows, self._index = 0, {}
        return pd.DataFrame(data, columns=columns)


def _column(name: str) -> MutableSequence[Any]:
    if name in _FLOATS:
        return array("d")
    if name in _INTS:
        return array("q")
    if name in _TEXTS:
        return TextColumn()
    if name in _LISTS:
        return ListColumn()
    return []


#: Columns whose values are mostly strings.
_TEXTS = frozenset((*_SHARED, "cell_id", "expected_answer", "answer", "error_message", "timestamp"))
#: Columns of lists of strings (see :mod:`._cell_columns`).
_LISTS = frozenset(("answers", "outputs", "finish_reasons"))


def _score(record: CellRecord, name: str) -> float:
    value = record.scores.get(name)
    return math.nan if value is None else float(value)


def _row(r: CellRecord, scorers: Iterable[str]) -> dict[str, Any]:
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
        row[f"score_{name}"] = _score(r, name)
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
