"""The cells table built column by column equals the table built from whole records."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from promptlab.experiments.analysis import Run, _cell_columns
from promptlab.experiments.analysis._cell_columns import LIST_OF_STRINGS
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


LISTS = ("answers", "outputs", "finish_reasons")


def _from_whole_records(records: list[CellRecord]) -> pd.DataFrame:
    """The table as it was built before: one dict per whole record, then typed; the lists
    of strings as Arrow lists."""
    latest = {r.id: r for r in records}
    frame = pd.DataFrame([_row(r, SCORERS) for r in latest.values()])
    types: dict[str, Any] = {"ok": bool, "cached": bool, "latency_s": float, "cost_usd": float}
    types |= dict.fromkeys(LISTS, LIST_OF_STRINGS)
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
    assert all(table[name].dtype == LIST_OF_STRINGS for name in LISTS)


def _varied_lines(superseded: bool = True) -> list[str]:
    """A run's lines: errors, repeats, self-consistency cells, scores missing or NaN, lines
    of an older promptlab (fields missing), and (``superseded``) later records of cells."""
    lines = []
    for i in range(40):
        record = CellRecord(
            f"t{i % 13}",
            ("zs", "cot", "sc")[i % 3],
            ("p", "q")[i % 2],
            model=f"m-{i % 2}",
            repeat=i // 26,
            strategy="ZeroShot(zs)",
            template="zs",
            template_hash="abc",
            params={"seed": i},
            expected=i if i % 5 else str(i),
            expected_answer=str(i) if i % 7 else None,
            outputs=[f"Answer: {i}"] * (1 + i % 3) if i % 11 else [],
            answers=[str(i) if i % 4 else None] * (1 + i % 3) if i % 11 else [],
            finish_reasons=["length" if i % 6 == 0 else "stop"] * (1 + i % 3) if i % 11 else [],
            answer=str(i) if i % 4 else None,
            votes={str(i): 2} if i % 3 == 2 else None,
            confidence=0.5 if i % 3 == 2 else None,
            stop_reason="budget" if i % 9 == 0 else None,
            scores={"exact": float(i % 2)} if i % 8 != 3 else {"judge": math.nan},
            score_notes={"judge": "no verdict"} if i % 8 == 3 else {},
            input_tokens=i,
            output_tokens=2 * i,
            cost_usd=None if i % 10 == 0 else i / 1000,
            latency_s=i / 100,
            calls=i % 2,
            cached=i % 2 == 0,
            error={"type": "ProviderError", "message": f"failed {i}"} if i % 12 == 5 else None,
            timestamp=f"2026-12-01T10:{i:02d}:00+00:00",
        )
        line = record.to_json()
        if i % 15 == 14:  # an older promptlab's line: no finish reasons, no expected answer
            data = json.loads(line)
            for name in ("finish_reasons", "expected_answer", "messages", "score_notes"):
                del data[name]
            line = json.dumps(data)
        lines.append(line)
    if not superseded:
        return lines
    # Later records of cells seen before: a retry that succeeded, one that failed again,
    # and one whose answer is now None (its column can no longer be all text).
    for i, error in ((5, None), (17, {"type": "RateLimitError", "message": "slow"}), (2, None)):
        data = json.loads(lines[i])
        data["error"], data["answer"], data["timestamp"] = error, None if i == 2 else "9", "late"
        lines.append(json.dumps(data))
    return lines


@pytest.mark.parametrize(("piece", "superseded"), [(3, True), (4096, True), (3, False)])
def test_table_read_in_pieces_equals_the_table_of_whole_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, piece: int, superseded: bool
) -> None:
    # Text columns go to pandas a piece of rows at a time; with 3-row pieces a later
    # record replaces a row of a piece already handed over, and some pieces hold None.
    # Without later records the table is built without an index of cells.
    monkeypatch.setattr(_cell_columns, "_PIECE", piece)
    lines = _varied_lines(superseded)
    (tmp_path / "cells.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    records = [CellRecord.from_json(line) for line in lines]
    expected = _from_whole_records(records)

    table = Run.load(tmp_path).cells

    pd.testing.assert_frame_equal(table, expected, check_dtype=True)
    pd.testing.assert_frame_equal(
        Run(list({r.id: r for r in records}.values())).cells, expected, check_dtype=True
    )
    assert table["timestamp"].tolist().count("late") == (3 if superseded else 0)
    assert len(table) == 40


def test_numbers_expected_by_every_task_are_the_same_int_column_as_before(tmp_path: Path) -> None:
    # Expected answers are held as C integers while every one is an int.
    scores = {"exact": 1.0, "judge": 0.5}
    records = [
        CellRecord(f"t{i}", "a", "p", "m", 0, expected=2**40 + i, scores=scores) for i in range(3)
    ]
    lines = [r.to_json() for r in records]
    (tmp_path / "cells.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    table = Run.load(tmp_path).cells

    pd.testing.assert_frame_equal(table, _from_whole_records(records), check_dtype=True)
    assert table["expected"].dtype == "int64" and table["expected"][2] == 2**40 + 2


def test_list_columns_read_back_as_python_lists(tmp_path: Path) -> None:
    lines = [record.to_json() for record in _records()]
    (tmp_path / "cells.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    table = Run.load(tmp_path).cells

    assert table["answers"].dtype == LIST_OF_STRINGS
    sc = table["answers"][2]
    assert type(sc) is list and sc == ["4", "5", None, "4"]
    assert table.iloc[2]["finish_reasons"] == ["stop", "stop", "length", None]
    assert [type(v) for v in table["outputs"]] == [list] * 4
    assert table.to_dict("records")[0]["outputs"] == ["x\nAnswer: 4"]
    assert table["outputs"].tolist()[1] == ["Answer: 9"]  # t2's retry, in t2's place
    assert table["answers"].list.len().tolist() == [1, 1, 4, 1]
    assert table["answers"].map(len).tolist() == [1, 1, 4, 1]


def test_lists_holding_other_values_stay_python_objects() -> None:
    # Lists of strings go to Arrow; a list holding anything else (records built in
    # memory can hold numbers) keeps the whole column as the lists they were.
    records = [
        CellRecord("t1", "a", "p", "m", 0, outputs=["Answer: 4"], answers=[4, None]),
        CellRecord("t2", "a", "p", "m", 0, outputs=["Answer: 5"], answers=["5"]),
    ]

    table = Run(records).cells

    assert table["answers"].dtype == object
    assert table["answers"].tolist() == [[4, None], ["5"]]
    assert type(table["answers"][0][0]) is int
    assert table["outputs"].dtype == LIST_OF_STRINGS


@pytest.mark.parametrize(
    "outputs",
    [
        [["r0"], ["r1"], ["r2"], ["r3"], ["r4"]],  # one reply per cell: the lists' own strings
        [["r0"], ["r1"], ["r2"], [], ["r4"]],  # an errored cell among them
        [["a", "b"], ["c"], [], ["d", "e", "f"], ["g"]],  # samples
        [[], [], [], [], []],  # every cell errored: a column of None, as objects
    ],
)
@pytest.mark.parametrize("piece", [2, 4096])
def test_the_first_reply_column_is_what_whole_records_give(
    monkeypatch: pytest.MonkeyPatch, outputs: list[list[str]], piece: int
) -> None:
    monkeypatch.setattr(_cell_columns, "_PIECE", piece)
    records = [
        CellRecord(f"t{i}", "a", "p", "m", 0, outputs=replies, scores={"exact": 1.0, "judge": 0.5})
        for i, replies in enumerate(outputs)
    ]

    table = Run(records).cells

    expected = _from_whole_records(records)
    pd.testing.assert_frame_equal(table, expected, check_dtype=True)
    firsts = [None if pd.isna(reply) else reply for reply in table["output"]]
    assert firsts == [replies[0] if replies else None for replies in outputs]


def test_a_row_replaced_in_a_packed_piece_leaves_every_piece_packed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A retried cell lands in a piece already in Arrow: that piece comes back as a list
    # for the change, and both the first replies and the column pack it again (else a
    # large run with one retry would hold every reply as Python objects once more).
    monkeypatch.setattr(_cell_columns, "_PIECE", 2)
    column = _cell_columns.ListColumn()
    for replies in (["a"], ["b"], ["c"], ["d"]):
        column.append(replies)
    column[0] = ["a2"]

    firsts = column.firsts()

    assert column._packed == [True, True]
    assert firsts.tolist() == ["a2", "b", "c", "d"]
    assert column.series().tolist() == [["a2"], ["b"], ["c"], ["d"]]
