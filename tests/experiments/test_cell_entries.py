"""Reading a run directory lightly: cell entries for a resume, a lazily read Run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from promptlab.errors import DataError
from promptlab.experiments.analysis import Run
from promptlab.experiments.store import (
    CellEntry,
    CellRecord,
    DamagedCellsWarning,
    scan_cells,
    scan_entries,
)


def record(task: str, **fields: object) -> CellRecord:
    base = CellRecord(task, "a", "p", "m", 0, outputs=["x"], scores={"s": 1.0})
    for name, value in fields.items():
        setattr(base, name, value)
    return base


def tricky_lines() -> list[str]:
    """Lines in to_json's format whose middles and ends hold what could fool a reader."""
    quote = record("t1", outputs=['he said "}, "cost_usd": 5, "error": null}'])
    failed = record(
        "t2",
        error={"type": "ProviderError", "message": 'bad "error": null}', "status": 500},
        cost_usd=None,
    )
    unusual = record('t"3\\', arm="é\u2028arm", cached=True, cost_usd=0.25, repeat=2)
    nested = record("t4", score_notes={"judge": {"task_id": "x", "cost_usd": 1}})
    nan_cost = record("t5", cost_usd=float("nan"))
    lines = [r.to_json() for r in (quote, failed, unusual, nested, nan_cost)]
    old_order = json.loads(record("t6").to_json())
    old_order.pop("promptlab_version")  # an older record's fields, in another order
    lines.append(json.dumps(dict(reversed(list(old_order.items())))))
    return lines


def test_entries_agree_with_whole_records_on_every_kind_of_line(tmp_path: Path) -> None:
    lines = tricky_lines()
    whole = record("t7").to_json()
    damaged = [whole[:-40], '{"task_id": "t8", "arm' + whole, "not json", '{"task_id": 3}']
    path = tmp_path / "cells.jsonl"
    path.write_text("\n".join([*lines, *damaged]) + "\n" + whole[:30], encoding="utf-8")
    entries, records = scan_entries(path), scan_cells(path)
    assert entries.damaged == records.damaged and len(entries.damaged) == 5
    assert entries.missing_newline and records.missing_newline
    assert entries.latest() == [CellEntry.of(r) for r in records.latest()]
    by_task = {e.task_id: e for e in entries.latest()}
    assert by_task['t"3\\'] == CellEntry('t"3\\', "é\u2028arm", "p", 2, True, 0.25, True)
    assert not by_task["t2"].ok and by_task["t2"].cost_usd is None
    assert len(by_task) == 7  # t1..t7: the line glued after a partial one counts


def test_an_entry_is_read_from_the_ends_of_the_line_without_parsing_it_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cells.jsonl"
    path.write_text("".join(r.to_json() + "\n" for r in map(record, "abc")), encoding="utf-8")

    def refuse(line: str) -> CellRecord:
        raise AssertionError("a whole record was parsed")

    monkeypatch.setattr(CellRecord, "from_json", staticmethod(refuse))
    assert [e.task_id for e in scan_entries(path).latest()] == ["a", "b", "c"]


def write_run(path: Path, records: list[CellRecord]) -> Path:
    path.mkdir(parents=True)
    text = "".join(r.to_json() + "\n" for r in records)
    (path / "cells.jsonl").write_text(text, encoding="utf-8")
    return path


def test_a_loaded_run_reads_records_only_when_asked_and_as_they_were_at_load(
    tmp_path: Path,
) -> None:
    path = write_run(tmp_path / "r", [record("t1"), record("t2", error={"type": "X"})])
    run = Run.load(path)
    assert run._records is None and run._frame is None  # nothing read beyond the ids
    assert repr(run).startswith("Run(1 cells done, 1 errored")
    with (path / "cells.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(record("t3").to_json() + "\n")  # a later run appends a cell
    assert list(run.cells["task_id"]) == ["t1", "t2"]
    assert [r.task_id for r in run.records] == ["t1", "t2"]
    assert len(Run.load(path).cells) == 3


def test_a_loaded_run_whose_file_was_replaced_is_an_error_not_other_data(tmp_path: Path) -> None:
    path = write_run(tmp_path / "r", [record("t1")])
    run = Run.load(path)
    (path / "cells.jsonl").rename(path / "old.jsonl")
    (path / "cells.jsonl").write_text(record("t9").to_json() + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="was replaced since this Run was loaded"):
        run.summary()


def test_the_latest_record_of_a_cell_keeps_the_place_it_first_had(tmp_path: Path) -> None:
    retried = record("t1", outputs=["second"])
    failed = record("t1", error={"type": "X", "message": "m", "status": None}, outputs=[])
    path = write_run(tmp_path / "r", [failed, record("t2"), retried])
    run = Run.load(path)
    cells = run.cells
    assert list(cells["task_id"]) == ["t1", "t2"] and list(cells["output"]) == ["second", "x"]
    assert cells["ok"].all() and run.scorers == ["s"]


def test_damage_is_reported_once_when_the_run_loads(tmp_path: Path) -> None:
    path = write_run(tmp_path / "r", [record("t1")])
    with (path / "cells.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"task_id": "t2", "ar')
    with pytest.warns(DamagedCellsWarning, match="line 2"):
        run = Run.load(path)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # reading the table later warns no more
        assert len(run.cells) == 1 and len(run.records) == 1


def test_entries_read_from_bytes_are_the_ones_read_from_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from promptlab.experiments.store import _reading

    whole = record("t7").to_json()
    odd = [
        whole.replace('"repeat": 0', '"repeat": \u0663'),  # a non-ASCII digit
        whole.replace('"task_id": "t7"', '"task_id": "t\\u00e9\\"7"'),
        whole.replace('"cost_usd": null', '"cost_usd": 1e400'),
        whole.replace('"cost_usd": null', '"cost_usd": 1.5.2'),
        "   ",
    ]
    raws = [line.encode() for line in [*tricky_lines(), whole, *odd]]
    raws.append(whole.encode().replace(b'"t7"', b'"t\xff7"'))  # bad UTF-8 in an id
    raws.append(whole.encode().replace(b'"x"', b'"\xfe\xff"'))  # and in a reply
    read_quickly = 0
    for raw in raws:
        quick = _reading._entry_of_bytes(raw)
        if quick is not None:  # else the line is decoded and read as text
            read_quickly += 1
            whole_record = CellRecord.from_json(raw.decode("utf-8", errors="replace"))
            assert quick == CellEntry.of(whole_record), raw
    assert read_quickly == 7
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_bytes(b"\n".join(raws) + b"\n")
    entries, records = scan_entries(mixed), scan_cells(mixed)
    # The non-ASCII digit and the "1.5.2" cost are not JSON: damaged for both readers (a
    # text pattern's \d once read the digit as repeat 3 where the whole parse refused it).
    assert [n for n, _ in entries.damaged] == [n for n, _ in records.damaged] == [8, 11]
    assert entries.latest() == [CellEntry.of(r) for r in records.latest()]
    assert len(entries.latest()) == 9
    # A plain line is read from its bytes: never decoded whole.
    path = tmp_path / "cells.jsonl"
    path.write_text(whole + "\n", encoding="utf-8")

    def refuse(raw: bytes) -> str:
        raise AssertionError("the whole line was decoded")

    monkeypatch.setattr(_reading, "_decoded", refuse)
    with pytest.raises(AssertionError, match="decoded"):
        _reading._decoded(b"")
    monkeypatch.setattr(_reading, "_decoded", lambda raw: raw.decode())
    assert [e.task_id for e in scan_entries(path).latest()] == ["t7"]


@pytest.mark.parametrize(
    "text",
    ['""', '"a"', '"a\\"b"', '"\\\\"', '"\\\\\\""', '"a\\', '"a"b"', '"\\u00e9 \\n"', '"x', '"\\"'],
)
def test_the_string_pattern_of_the_entry_scan_matches_what_json_string_literals_are(
    text: str,
) -> None:
    # Written as runs between escapes for speed; it must take exactly the strings that
    # the plain "any character but a quote or backslash, or an escape" pattern takes.
    from promptlab.experiments.store._reading import _STRING

    plain = r'"(?:[^"\\]|\\.)*"'
    assert bool(re.fullmatch(_STRING, text)) == bool(re.fullmatch(plain, text))
    assert bool(re.fullmatch(_STRING, text)) == _is_json_string(text)


def _is_json_string(text: str) -> bool:
    try:
        return isinstance(json.loads(text), str)
    except ValueError:
        return False
