"""The cell record: what a line of cells.jsonl holds, and reading older lines."""

from __future__ import annotations

import json

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
