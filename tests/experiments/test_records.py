"""The cell record: what a line of cells.jsonl holds, and reading older lines."""

from __future__ import annotations

import json
from dataclasses import fields
from decimal import Decimal

from promptlab.experiments.store import CellRecord


def test_finish_reasons_round_trip_and_count_truncated_samples() -> None:
    record = CellRecord(
        "t1", "cot", "local", "m", 0, finish_reasons=["length", "stop", "max_tokens", None]
    )
    again = CellRecord.from_json(record.to_json())
    assert again.finish_reasons == ["length", "stop", "max_tokens", None]
    assert again.truncated == 2


def test_a_record_written_before_finish_reasons_reads_as_none_truncated() -> None:
    line = json.loads(CellRecord("t1", "cot", "local", "m", 0).to_json())
    del line["finish_reasons"]
    old = CellRecord.from_json(json.dumps(line))
    assert old.finish_reasons == [] and old.truncated == 0


def field_by_field_line(record: CellRecord) -> str:
    """The line as to_json wrote it before copying the instance dict: field by field."""
    data = {f.name: getattr(record, f.name) for f in fields(CellRecord)}
    data["scores"] = {k: (None if v != v else v) for k, v in record.scores.items()}
    return json.dumps(data, ensure_ascii=False, default=str)


def varied_records() -> list[CellRecord]:
    full = CellRecord(
        "t 7",
        "cot",
        "local",
        "m",
        2,
        strategy="ChainOfThought(chain_of_thought)",
        params={"seed": 5, "stop": ["\n"]},
        expected=Decimal("1.50"),  # not JSON: written with str()
        expected_answer="1.5",
        outputs=['é 😀 \u2028 "quoted"', ""],
        answers=["1.5", None],
        finish_reasons=["stop", "length"],
        answer="1.5",
        votes={"1.5": 1},
        confidence=float("inf"),
        messages=[{"role": "user", "content": "Q?"}],
        shots=["e1"],
        retrieved=[{"id": "d1", "score": None, "text": "passage"}],
        scores={"numeric": 1.0, "judge": float("nan")},
        score_notes={"judge": {"why": ["x"]}},
        cost_usd=None,
        latency_s=0.125,
        calls=3,
        cached=True,
        error={"type": "ProviderError", "message": "boom", "status": 500},
    )
    read_back = CellRecord.from_json(full.to_json())
    assigned = CellRecord("t1", "zs", "p", "m", 0)
    assigned.error = {"type": "X", "message": "y", "status": None}  # set after building
    assigned.scores["s"] = 0.0
    with_extra = CellRecord("t2", "zs", "p", "m", 0)
    with_extra.note = "not a field"  # type: ignore[attr-defined]
    return [CellRecord("t1", "zs", "p", "m", 0), full, read_back, assigned, with_extra]


def test_a_line_is_the_field_by_field_json_of_the_record() -> None:
    for record in varied_records():
        assert record.to_json() == field_by_field_line(record)
        assert list(json.loads(record.to_json())) == [f.name for f in fields(CellRecord)]
