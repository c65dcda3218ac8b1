"""Task sets: every source loads the same way, and malformed data fails before any call."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from promptlab.errors import DataError
from promptlab.experiments.tasks import Task, TaskSet, content_id

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def jsonl(path: Path, rows: list[object]) -> Path:
    return write(path, "".join(json.dumps(row) + "\n" for row in rows))


def test_jsonl_reads_ids_inputs_and_expected(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "t.jsonl",
        [{"id": "a", "question": "2+3?", "answer": 5}, {"id": 7, "question": "1+1?", "answer": 2}],
    )
    tasks = TaskSet.from_jsonl(path)
    assert [t.id for t in tasks] == ["a", "7"]
    assert tasks[0] == Task("a", {"question": "2+3?"}, 5)
    assert tasks.name == "t"
    assert str(path) in tasks.source


def test_rows_without_ids_get_ids_from_their_content(tmp_path: Path) -> None:
    rows = [{"question": "2+3?", "answer": 5}, {"question": "1+1?", "answer": 2}]
    before = {
        t.inputs["question"]: t.id for t in TaskSet.from_jsonl(jsonl(tmp_path / "a.jsonl", rows))
    }
    # A row inserted at the top must not move the other rows' ids (positional ids did).
    inserted = [{"question": "9+9?", "answer": 18}, *rows]
    after = {
        t.inputs["question"]: t.id
        for t in TaskSet.from_jsonl(jsonl(tmp_path / "b.jsonl", inserted))
    }
    assert after["2+3?"] == before["2+3?"] and after["1+1?"] == before["1+1?"]
    assert len(set(after.values())) == 3
    assert before["2+3?"] == content_id({"question": "2+3?", "answer": 5})
    assert len(before["2+3?"]) == 12 and before["2+3?"] != "1"


def test_identical_rows_without_ids_are_numbered_not_rejected(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "t.jsonl", [{"question": "x", "answer": 1}] * 3)
    ids = [t.id for t in TaskSet.from_jsonl(path)]
    base = content_id({"question": "x", "answer": 1})
    assert ids == [base, f"{base}-2", f"{base}-3"]


def test_content_id_changes_with_the_expected_answer() -> None:
    assert content_id({"question": "x", "answer": 1}) != content_id({"question": "x", "answer": 2})


def test_expected_field_named_expected_is_accepted(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "t.jsonl", [{"question": "x", "expected": "yes"}])
    task = TaskSet.from_jsonl(path)[0]
    assert task.expected == "yes"
    assert task.inputs == {"question": "x"}


def test_custom_fields(tmp_path: Path) -> None:
    rows = [{"key": "k1", "q": "hello", "gold": "hi", "note": "ignored"}]
    path = jsonl(tmp_path / "t.jsonl", rows)
    task = TaskSet.from_jsonl(path, id_field="key", expected_field="gold", input_fields=["q"])[0]
    assert task == Task("k1", {"q": "hello"}, "hi")


def test_blank_lines_are_skipped_but_line_numbers_stay_true(tmp_path: Path) -> None:
    path = write(tmp_path / "t.jsonl", '{"answer": 1}\n\n{"answer": 2}\n{"answer": \n')
    with pytest.raises(DataError) as info:
        TaskSet.from_jsonl(path)
    assert info.value.line == 4
    assert str(path) in str(info.value)
    assert "line 4" in str(info.value)


def test_missing_expected_field_names_line_and_field(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "t.jsonl", [{"question": "a", "answer": 1}, {"question": "b"}])
    with pytest.raises(DataError) as info:
        TaskSet.from_jsonl(path)
    assert (info.value.line, info.value.field) == (2, "answer")
    assert "line 2, field 'answer'" in str(info.value)


def test_duplicate_ids_name_the_second_line(tmp_path: Path) -> None:
    rows = [{"id": "x", "answer": 1}, {"id": "y", "answer": 1}, {"id": "x", "answer": 2}]
    path = jsonl(tmp_path / "t.jsonl", rows)
    with pytest.raises(DataError, match="duplicate task id 'x'") as info:
        TaskSet.from_jsonl(path)
    assert (info.value.line, info.value.field) == (3, "id")


def test_non_object_line(tmp_path: Path) -> None:
    path = write(tmp_path / "t.jsonl", '{"answer": 1}\n[1, 2]\n')
    with pytest.raises(DataError, match="object") as info:
        TaskSet.from_jsonl(path)
    assert info.value.line == 2


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    path = write(tmp_path / "t.jsonl", text)
    with pytest.raises(DataError, match="empty") as info:
        TaskSet.from_jsonl(path)
    assert info.value.source == str(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        TaskSet.load(tmp_path / "nope.jsonl")


def test_missing_input_field(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "t.jsonl", [{"question": "a", "answer": 1}, {"answer": 2}])
    with pytest.raises(DataError) as info:
        TaskSet.from_jsonl(path, input_fields=["question"])
    assert (info.value.line, info.value.field) == (2, "question")


def test_csv_counts_the_header_as_line_one(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", "id,question,answer\nq1,2+2?,4\nq2,3+3?,6\n")
    tasks = TaskSet.from_csv(path)
    assert [(t.id, t.inputs, t.expected) for t in tasks] == [
        ("q1", {"question": "2+2?"}, "4"),
        ("q2", {"question": "3+3?"}, "6"),
    ]
    broken = write(tmp_path / "b.csv", "id,question,answer\nq1,2+2?,4\nq2,3+3?\n")
    with pytest.raises(DataError, match="fewer values") as info:
        TaskSet.from_csv(broken)
    assert info.value.line == 3


def test_csv_without_expected_column(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", "id,question\nq1,2+2?\n")
    with pytest.raises(DataError) as info:
        TaskSet.from_csv(path)
    assert (info.value.line, info.value.field) == (2, "answer")


def test_dataframe_and_records_agree() -> None:
    rows = [{"id": "a", "question": "q", "answer": 1}, {"id": "b", "question": "r", "answer": 2}]
    from_frame = TaskSet.from_dataframe(pd.DataFrame(rows))
    from_records = TaskSet.from_records(rows)
    assert list(from_frame) == list(from_records)
    assert TaskSet.load(pd.DataFrame(rows))[1].id == "b"
    with pytest.raises(DataError) as info:
        TaskSet.from_records([*rows, {"id": "c", "question": "s"}])
    assert info.value.line == 3


def test_hugging_face_dataset_from_local_files(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    path = jsonl(tmp_path / "t.jsonl", [{"id": "h1", "question": "q", "answer": "yes"}])
    data = datasets.load_dataset(
        "json", data_files=str(path), split="train", cache_dir=str(tmp_path / "hf")
    )
    tasks = TaskSet.load(data)
    assert list(tasks) == [Task("h1", {"question": "q"}, "yes")]
    whole = datasets.load_dataset("json", data_files=str(path), cache_dir=str(tmp_path / "hf"))
    assert TaskSet.from_hf_dataset(whole)[0].id == "h1"  # a DatasetDict with one split


def test_load_passes_task_sets_through_and_rejects_unknown_files(tmp_path: Path) -> None:
    tasks = TaskSet([Task("1", {}, 1)])
    assert TaskSet.load(tasks) is tasks
    with pytest.raises(DataError, match=r"\.txt"):
        TaskSet.load(write(tmp_path / "t.txt", "x"))


def test_fingerprint_changes_with_content() -> None:
    a = TaskSet.from_records([{"question": "q", "answer": 1}])
    b = TaskSet.from_records([{"question": "q", "answer": 2}])
    assert a.fingerprint != b.fingerprint
    assert a.fingerprint == TaskSet.from_records([{"question": "q", "answer": 1}]).fingerprint


def test_example_task_sets_are_well_formed() -> None:
    arithmetic = TaskSet.load(EXAMPLES / "arithmetic.jsonl")
    assert 50 <= len(arithmetic) <= 70
    assert all(isinstance(t.expected, int) for t in arithmetic)
    choice = TaskSet.load(EXAMPLES / "multiple_choice.jsonl")
    assert all(t.expected in "ABCD" and "A) " in t.inputs["question"] for t in choice)
    yes_no = TaskSet.load(EXAMPLES / "yes_no.jsonl")
    assert {t.expected for t in yes_no} == {"yes", "no"}
    shots = [json.loads(line) for line in (EXAMPLES / "arithmetic_shots.jsonl").open()]
    assert all({"question", "rationale", "answer"} <= set(s) for s in shots)
    assert not {s["question"] for s in shots} & {t.inputs["question"] for t in arithmetic}
