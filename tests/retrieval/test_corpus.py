"""load_corpus: every accepted form, and a clear error for each malformed one."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from promptlab.errors import CorpusNotFoundError, DataError, EmptyCorpusError
from promptlab.retrieval import Document, load_corpus


def test_a_list_of_strings_is_numbered() -> None:
    docs = load_corpus(["first", "second"])
    assert [(d.id, d.text) for d in docs] == [("0", "first"), ("1", "second")]


def test_dicts_give_id_text_and_metadata_and_fields_can_be_renamed() -> None:
    rows = [{"key": "a", "body": "Alpha.", "lang": "en"}, {"body": "Beta."}]
    docs = load_corpus(rows, text_field="body", id_field="key")
    assert docs[0] == Document("a", "Alpha.", {"lang": "en"})
    assert docs[1].id == "1"  # no id field: its position


def test_jsonl_and_csv_files(tmp_path: Path) -> None:
    jsonl = tmp_path / "c.jsonl"
    jsonl.write_text('{"id": "x", "text": "Ex."}\n\n{"id": "y", "text": "Why."}\n', "utf-8")
    assert [d.id for d in load_corpus(jsonl)] == ["x", "y"]

    table = tmp_path / "c.csv"
    table.write_text("\ufeffid,text,topic\nx,Ex.,letters\ny,Why.,letters\n", "utf-8")
    docs = load_corpus(str(table))
    assert [(d.id, d.text, dict(d.metadata)) for d in docs] == [
        ("x", "Ex.", {"topic": "letters"}),
        ("y", "Why.", {"topic": "letters"}),
    ]


def test_a_folder_of_text_and_markdown_files(tmp_path: Path) -> None:
    (tmp_path / "guides").mkdir()
    (tmp_path / "guides" / "returns.md").write_text("# Returns\nFree for 30 days.", "utf-8")
    (tmp_path / "about.txt").write_text("We sell kettles.", "utf-8")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / ".hidden.txt").write_text("secret", "utf-8")
    (tmp_path / "empty.txt").write_text("  \n", "utf-8")
    docs = load_corpus(tmp_path)
    assert [d.id for d in docs] == ["about.txt", "guides/returns.md"]
    assert docs[1].metadata["source"] == "guides/returns.md"


def test_a_missing_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.jsonl"
    with pytest.raises(
        CorpusNotFoundError, match=r"nowhere\.jsonl: no such file or folder"
    ) as info:
        load_corpus(missing)
    assert isinstance(info.value, FileNotFoundError)


def test_an_empty_corpus_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EmptyCorpusError, match="nothing to index: it is empty"):
        load_corpus([])
    with pytest.raises(EmptyCorpusError, match="its 2 document"):
        load_corpus(["", "   "])
    with pytest.raises(EmptyCorpusError, match="it is empty"):
        load_corpus(tmp_path)  # a folder with no .txt/.md files


def test_malformed_rows_name_the_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "text": "ok"}\n{"id": "b", "body": "no text"}\n', "utf-8")
    with pytest.raises(DataError, match=r"bad.jsonl, line 2, field 'text': the row has no text"):
        load_corpus(bad)
    bad.write_text('{"id": "a", "text": "ok"}\n{not json\n', "utf-8")
    with pytest.raises(DataError, match=r"line 2: not valid JSON"):
        load_corpus(bad)


def test_duplicate_ids_and_unknown_file_types_are_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="'a' appears more than once"):
        load_corpus([{"id": "a", "text": "x"}, {"id": "a", "text": "y"}])
    other = tmp_path / "c.parquet"
    other.write_bytes(b"PAR1")
    with pytest.raises(DataError, match=r"must be \.jsonl or \.csv"):
        load_corpus(other)


def test_documents_are_frozen_and_picklable() -> None:
    doc = Document("a", "text", {"k": [1]})
    with pytest.raises(TypeError):
        doc.metadata["k"] = 2  # type: ignore[index]
    assert pickle.loads(pickle.dumps(doc)) == doc
    assert doc.with_score(0.5).to_dict() == {
        "id": "a",
        "text": "text",
        "metadata": {"k": [1]},
        "score": 0.5,
    }
    assert hash(doc) == hash(Document("a", "text", {"other": 1}))
