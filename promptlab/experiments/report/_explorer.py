"""The explorer's data: every task and cell of a run (or of two runs) as one JSON document.

The report embeds this document in a ``<script type="application/json">`` element and the
explorer's script (``explorer.js`` beside this module) renders rows from it on demand.
Nothing here is HTML: the script puts every string into the page as text, never as
markup, and :func:`embedded_json` escapes ``<``, ``>`` and ``&`` so that no string can
close the element it sits in.

Layout (keys kept short; a 10,000-cell run is one document)::

    {"scorer": str, "binary": bool, "runs": [label, ...],
     "columns": [{"arm", "provider", "run": 0 | 1, "match": column index | None}],
     "tasks": [{"id", "expected", "input", "cells": [[cell index, ...] per column],
                "change": [None | "improved" | "regressed" | "same" per column]}],
     "cells": [{...one cell, see _cell...}]}
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from promptlab.experiments.store import CellRecord

if TYPE_CHECKING:
    from promptlab.experiments.analysis import Run

__all__ = ["embedded_json", "explorer_data", "run_label"]


def run_label(run: Run, fallback: str) -> str:
    """A short name for a run: its directory's name, else its experiment's, else ``fallback``."""
    if run.run_dir is not None:
        return run.run_dir.name
    return str(run.experiment.get("name") or fallback)


def explorer_data(
    run: Run,
    scorer: str,
    *,
    against: Run | None = None,
    diff: pd.DataFrame | None = None,
    changes: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """The explorer's document for ``run`` (and, with ``against``, the other run beside it).

    Args:
        run: The run reported on.
        scorer: The main score, shown in the table and used by the filters.
        against: The other run of a run diff.
        diff: ``run.diff(against)``: which of the other run's cells match which of this
            run's (one row per match).
        changes: ``run.diff_tasks(against)``: each shared task's change per match.
    """
    runs = [run] if against is None else [run, against]
    labels = [run_label(r, name) for r, name in zip(runs, ("this run", "other run"), strict=False)]
    if len(labels) == 2 and labels[0] == labels[1]:
        labels = [f"{labels[0]} (this)", f"{labels[1]} (other)"]
    columns = _columns(runs, diff)
    index = {(c["run"], c["arm"], c["provider"]): i for i, c in enumerate(columns)}
    cells: list[dict[str, Any]] = []
    tasks: dict[str, dict[str, Any]] = {}
    for number, each in enumerate(runs):
        for record in each.records:
            column = index.get((number, record.arm, record.provider))
            if column is None:
                continue
            task = tasks.get(str(record.task_id))
            if task is None:
                task = tasks[str(record.task_id)] = _task(record, len(columns))
            if not task["input"]:
                task["input"] = _task_input(record)
            task["cells"][column].append(len(cells))
            cells.append(_cell(record, scorer))
    for task in tasks.values():
        # Repeats in order, whatever order the runner finished them in.
        for column_cells in task["cells"]:
            column_cells.sort(key=lambda i: cells[i]["repeat"])
    if changes is not None:
        for row in changes.itertuples(index=False):
            column = index.get((0, str(row.arm), str(row.provider)))
            task = tasks.get(str(row.task_id))
            if column is not None and task is not None:
                task["change"][column] = row.change
    binary = any(
        isinstance(s, Mapping) and s.get("name") == scorer and s.get("binary")
        for s in run.experiment.get("scorers") or []
    )
    return {
        "scorer": scorer,
        "binary": bool(binary),
        "runs": labels,
        "columns": columns,
        "tasks": list(tasks.values()),
        "cells": cells,
    }


def _columns(runs: Sequence[Run], diff: pd.DataFrame | None) -> list[dict[str, Any]]:
    """One column per arm x provider with cells; a matched other-run column right after."""
    present = [{(r.arm, r.provider) for r in each.records} for each in runs]
    columns: list[dict[str, Any]] = []
    partner: dict[tuple[str, str], tuple[str, str]] = {}
    if diff is not None:
        for row in diff.itertuples(index=False):
            partner[(str(row.arm), str(row.provider))] = (
                str(row.other_arm),
                str(row.other_provider),
            )
    placed: set[tuple[str, str]] = set()
    for arm in runs[0].arms:
        for provider in runs[0].providers:
            if (arm, provider) not in present[0]:
                continue
            columns.append({"arm": arm, "provider": provider, "run": 0, "match": None})
            other = partner.get((arm, provider))
            if other is not None and other in present[1]:
                columns[-1]["match"] = len(columns)
                columns.append(
                    {"arm": other[0], "provider": other[1], "run": 1, "match": len(columns) - 1}
                )
                placed.add(other)
    if len(runs) == 2:
        for arm in runs[1].arms:
            for provider in runs[1].providers:
                if (arm, provider) in present[1] and (arm, provider) not in placed:
                    columns.append({"arm": arm, "provider": provider, "run": 1, "match": None})
    return columns


def _task(record: CellRecord, n_columns: int) -> dict[str, Any]:
    return {
        "id": str(record.task_id),
        "expected": _text(record.expected),
        "input": "",
        "cells": [[] for _ in range(n_columns)],
        "change": [None] * n_columns,
    }


def _task_input(record: CellRecord) -> str:
    """The task as the model saw it: the last user message of the rendered prompt."""
    messages = _messages(record)
    users = [m["content"] for m in messages if m.get("role") == "user"]
    return users[-1] if users else ""


def _messages(record: CellRecord) -> list[dict[str, str]]:
    # Records written before prompts were stored have none.
    stored = getattr(record, "messages", None) or []
    return [
        {"role": str(m.get("role", "")), "content": _text(m.get("content"))}
        for m in stored
        if isinstance(m, Mapping)
    ]


def _retrieved(record: CellRecord) -> list[dict[str, Any]]:
    # Passages a retrieval arm put into the prompt (id, score, text), where recorded.
    stored = getattr(record, "retrieved", None) or []
    return [
        {"id": _text(p.get("id")), "score": _number(p.get("score")), "text": _text(p.get("text"))}
        for p in stored
        if isinstance(p, Mapping)
    ]


def _cell(record: CellRecord, scorer: str) -> dict[str, Any]:
    error = record.error or None
    return {
        "repeat": record.repeat,
        "model": record.model,
        "strategy": record.strategy,
        "template": record.template,
        "ok": record.ok,
        "error": None if error is None else f"{error.get('type')}: {error.get('message')}",
        "answer": None if record.answer is None else _text(record.answer),
        "score": _number(record.scores.get(scorer)),
        "scores": {name: _number(value) for name, value in record.scores.items()},
        "notes": {name: _text(note) for name, note in record.score_notes.items()},
        "samples": [
            {
                "text": _text(text),
                "answer": None if answer is None else _text(answer),
                "finish": finish,
            }
            for text, answer, finish in zip(
                record.outputs,
                _padded(record.answers, len(record.outputs)),
                _padded(record.finish_reasons, len(record.outputs)),
                strict=True,
            )
        ],
        "votes": record.votes,
        "confidence": _number(record.confidence),
        "no_answer": record.no_answer,
        "stop_reason": record.stop_reason,
        "messages": _messages(record),
        "retrieved": _retrieved(record),
        "input_tokens": record.input_tokens,
        "output_tokens": record.output_tokens,
        "cached_input_tokens": record.cached_input_tokens,
        "cost": _number(record.cost_usd),
        "latency": _number(record.latency_s),
        "calls": record.calls,
        "cached": record.cached,
        "params": _finite(record.params),
    }


def _padded(values: Sequence[Any], n: int) -> list[Any]:
    return list(values[:n]) + [None] * max(0, n - len(values))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _number(value: Any) -> float | None:
    """A finite float, or None (JSON has no NaN or infinity)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
        return number if math.isfinite(number) else None
    return None


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by None (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def embedded_json(data: Any) -> str:
    """JSON safe inside an HTML ``<script type="application/json">`` element.

    ``<``, ``>`` and ``&`` become ``\\u003c``, ``\\u003e`` and ``\\u0026`` (still the same
    JSON strings), so a model reply holding ``</script>`` cannot end the element.
    """
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
