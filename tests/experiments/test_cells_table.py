"""The cells table built column by column equals the table built from whole records."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from promptlab.experiments.analysis import Run
from promptlab.experiments.analysis._cells import _row
from promptlab.experiments.store import CellRecord

SCORERS = ["exact", "judge"]


def _records() -> list[CellRecord]:
    common: dict[str, Any] = {"model": "m-1", "strategy": "ZeroShot(a)", "template": "zs"}
    return [
        CellRecord(
            "t1",
            "a",
            "p",
            repeat=0,
            outputs=["x\nAnswer: 4"],
            answers=["4"],
            answer="4",
            expected=4,
            expected_answer="4",
            finish_reasons=["stop"],
            params={"seed": 7},
            scores={"exact": 1.0},
            input_tokens=12,
            output_tokens=3,
            cost_usd=0.001,
            latency_s=0.5,
            calls=1,
            **common,
        ),
        # Errored first, then retried: the retry's row, in the place the cell first appeared.
        CellRecord(
            "t2",
            "a",
            "p",
            repeat=0,
            error={"type": "RateLimitError", "message": "slow down"},
            **common,
        ),
        # Self-consistency: votes, confidence, a cut-off sample, a sample without an answer.
        CellRecord(
            "t1",
            "sc",
            "p",
            repeat=0,
            outputs=["Answer: 4", "Answer: 5", "...", "Answer: 4"],
            answers=["4", "5", None, "4"],
            answer="4",
            votes={"4": 2, "5": 1},
            confidence=0.5,
            no_answer=1,
            stop_reason="budget",
            finish_reasons=["stop", "stop", "length", None],
            expected="4",
            expected_answer="4",
            scores={"exact": 1.0, "judge": 0.75},
            score_notes={"judge": "mostly right"},
            cached=True,
            cost_usd=None,
            **common,
        ),
        # A score the scorer could not give (NaN), retrieved passages, a huge token count.
        CellRecord(
            "t3",
            "rag",
            "p",
            repeat=1,
            outputs=["no idea"],
            answers=[None],
            retrieved=[{"id": "d1", "score": 0.9, "text": "passage"}],
            expected=[1, 2],
            scores={"exact": math.nan},
            score_notes={"exact": "scorer failed: ValueError"},
            input_tokens=2**70,
            **common,
        ),
        CellRecord(
            "t2",
            "a",
            "p",
            repeat=0,
            outputs=["Answer: 9"],
            answers=["9"],
            answer="9",
            expected=9,
            expected_answer="9",
            finish_reasons=["stop"],
            scores={"exact": 1.0},
            **common,
        ),
    ]


def _from_whole_records(records: list[CellRecord]) -> pd.DataFrame:
    """The table as it was built before: one dict per whole record, then typed."""
    latest = {r.id: r for r in records}
    frame = pd.DataFrame([_row(r, SCORERS) for r in latest.values()])
    types: dict[str, Any] = {"ok": bool, "cached": bool, "latency_s": float, "cost_usd": float}
    return frame.astype(types | {f"score_{name}": float for name in SCORERS})


def test_table_read_from_the_directory_equals_the_table_of_whole_records(
    tmp_path: Path,
) -> None:
    lines = [record.to_json() for record in _records()]
    (tmp_path / "cells.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected = _from_whole_records([CellRecord.from_json(line) for line in lines])

    table = Run.load(tmp_path).cells

    pd.testing.assert_frame_equal(table, expected)
    assert list(table["answers"][2]) == ["4", "5", None, "4"]
    assert table["votes"][2] == {"4": 2, "5": 1}
    assert table["error_type"].tolist() == [None, None, None, None]  # t2 was retried
    assert table["input_tokens"].dtype == object and table["input_tokens"][3] == 2**70
    assert math.isnan(table["score_exact"][3]) and math.isnan(table["cost_usd"][2])


def test_table_from_records_in_memory_equals_the_table_read_from_the_directory(
    tmp_path: Path,
) -> None:
    records = _records()
    (tmp_path / "cells.jsonl").write_text(
        "".join(r.to_json() + "\n" for r in records), encoding="utf-8"
    )
    latest = list({r.id: r for r in records}.values())

    pd.testing.assert_frame_equal(Run(latest).cells, Run.load(tmp_path).cells)


def test_an_empty_run_has_the_same_typed_columns(tmp_path: Path) -> None:
    (tmp_path / "cells.jsonl").write_text("", encoding="utf-8")
    table = Run.load(tmp_path).cells
    assert len(table) == 0
    assert list(table.columns) == list(_row(CellRecord("", "", "", "", 0), []))
    assert table["ok"].dtype == bool and table["latency_s"].dtype == float
