"""Reading a retrieval corpus into :class:`Document` objects: :func:`load_corpus`.

A corpus is any of:

- a ``.jsonl`` file, one JSON object per line;
- a ``.csv`` file with a header row;
- a folder of ``.txt`` and ``.md`` files (searched recursively; each file is a document
  whose id is its path relative to the folder, e.g. ``"guides/returns.md"``);
- a list of strings, of dicts (like JSONL rows) or of :class:`Document` objects.

A row's text is in ``text_field`` (default ``"text"``) and its id in ``id_field``
(default ``"id"``); without an id field a document's id is its position in the corpus,
``"0"``, ``"1"``, ...; every other field goes into ``metadata``. A bare string is always
a path, never a document: pass ``["some text"]`` for a one-document corpus. Documents
whose text is blank are left out; ids must be unique.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from os import PathLike
from pathlib import Path
from typing import Any, TypeAlias

from promptlab.errors import CorpusNotFoundError, DataError, EmptyCorpusError
from promptlab.retrieval._document import Document

#: What :func:`load_corpus` accepts.
CorpusSource: TypeAlias = "str | PathLike[str] | Iterable[str | Mapping[str, Any] | Document]"

#: File types read from a corpus folder.
TEXT_SUFFIXES = (".txt", ".md")


def load_corpus(
    source: CorpusSource, *, text_field: str = "text", id_field: str = "id"
) -> list[Document]:
    """Read a corpus into documents (see the module docstring for the accepted forms).

    Args:
        source: A ``.jsonl``/``.csv`` file, a folder of ``.txt``/``.md`` files, or a list
            of strings, dicts or documents.
        text_field: The field holding each row's text.
        id_field: The field holding each row's id (optional in the rows).

    Raises:
        CorpusNotFoundError: The file or folder does not exist.
        DataError: A row is malformed (the message gives the line), an id repeats, or
            the file type is not one of the above.
        EmptyCorpusError: No document has any text.
    """
    if isinstance(source, (str, PathLike)):
        path = Path(source).expanduser()
        where = str(path)
        documents = list(_read_path(path, text_field, id_field))
    else:
        where = "the corpus list"
        documents = list(_read_items(source, text_field, id_field))
    return _checked(documents, where)


def _read_path(path: Path, text_field: str, id_field: str) -> Iterator[Document]:
    if path.is_dir():
        yield from _read_folder(path)
        return
    if not path.is_file():
        raise CorpusNotFoundError(
            "no such file or folder. Give the path of a .jsonl or .csv file or of a folder "
            "of .txt/.md files (relative paths start from the current directory, "
            f"{Path.cwd()}).",
            source=str(path),
        )
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        rows: Iterable[tuple[int, Any]] = _jsonl_rows(path)
    elif suffix == ".csv":
        rows = _csv_rows(path)
    elif suffix in TEXT_SUFFIXES:
        yield Document(path.name, path.read_text(encoding="utf-8"), {"source": path.name})
        return
    else:
        raise DataError(
            f"a corpus file must be .jsonl or .csv (or a folder of .txt/.md files), not "
            f"{suffix or 'a file without a suffix'!r}. Convert it, or pass a list of dicts.",
            source=str(path),
        )
    for index, (line, row) in enumerate(rows):
        yield _from_row(row, index, text_field, id_field, source=str(path), line=line)


def _read_folder(folder: Path) -> Iterator[Document]:
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix.lower() in TEXT_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    for file in files:
        relative = file.relative_to(folder).as_posix()
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(
                f"the file is not UTF-8 text ({exc.reason}). Save it as UTF-8.", source=str(file)
            ) from exc
        yield Document(relative, text, {"source": relative})


def _jsonl_rows(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield line_number, json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(
                    f"not valid JSON ({exc.msg}). Each line must be one JSON object, "
                    'e.g. {"id": "a1", "text": "..."}.',
                    source=str(path),
                    line=line_number,
                ) from exc


def _csv_rows(path: Path) -> Iterator[tuple[int, Any]]:
    # utf-8-sig: spreadsheet programs often start the file with a byte-order mark.
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            yield reader.line_num, row


def _read_items(
    items: Iterable[str | Mapping[str, Any] | Document], text_field: str, id_field: str
) -> Iterator[Document]:
    for index, item in enumerate(items):
        if isinstance(item, Document):
            yield item
        elif isinstance(item, str):
            yield Document(str(index), item)
        elif isinstance(item, Mapping):
            yield _from_row(item, index, text_field, id_field, source=f"corpus item {index}")
        else:
            raise DataError(
                f"item {index} is a {type(item).__name__}; a corpus list holds strings, "
                "dicts or Document objects.",
                source="the corpus list",
            )


def _from_row(
    row: Any, index: int, text_field: str, id_field: str, *, source: str, line: int | None = None
) -> Document:
    if not isinstance(row, Mapping):
        raise DataError(
            f"a corpus row must be an object with a {text_field!r} field, not "
            f"{type(row).__name__}.",
            source=source,
            line=line,
        )
    if text_field not in row:
        fields = ", ".join(repr(k) for k in row) or "none"
        raise DataError(
            f"the row has no text field (fields: {fields}). Add it, or pass "
            "text_field=... to name the field that holds the text.",
            source=source,
            line=line,
            field=text_field,
        )
    text = row[text_field]
    if not isinstance(text, str):
        raise DataError(
            f"the text must be a string, not {type(text).__name__}.",
            source=source,
            line=line,
            field=text_field,
        )
    raw_id = row.get(id_field)
    doc_id = str(index) if raw_id is None or raw_id == "" else str(raw_id)
    metadata = {k: v for k, v in row.items() if k not in (text_field, id_field)}
    return Document(doc_id, text, metadata)


def _checked(documents: list[Document], where: str) -> list[Document]:
    kept = [doc for doc in documents if doc.text.strip()]
    if not kept:
        detail = f"its {len(documents)} document(s) are all blank" if documents else "it is empty"
        raise EmptyCorpusError(
            f"the corpus has nothing to index: {detail}. Give at least one document with text.",
            source=where,
        )
    seen: set[str] = set()
    for doc in kept:
        if doc.id in seen:
            raise DataError(
                f"the document id {doc.id!r} appears more than once; ids must be unique. Fix "
                "the ids, or leave the id field out to number the documents.",
                source=where,
                field="id",
            )
        seen.add(doc.id)
    return kept
