"""JSON rows: reading JSON-lines text with errors that name the file and the line, and
the content id of a row (a task or a few-shot example without an id of its own)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

from promptlab.errors import DataError


def iter_jsonl(text: str, source: str) -> Iterator[tuple[int, Any]]:
    """Yield ``(line_number, value)`` for each non-blank line of JSON-lines ``text``.

    Raises:
        DataError: A line is not valid JSON; the error names ``source`` and the 1-based line.
    """
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"not valid JSON ({exc.msg} at column {exc.colno}).", source=source, line=number
            ) from None


def content_id(row: Mapping[str, Any]) -> str:
    """An id from a row's content: 12 hex digits of SHA-256 over its sorted JSON.

    Stable across row order, file edits elsewhere and runs; the same content always gets
    the same id. Tasks without an id get theirs from it, and so do few-shot examples, so a
    row used both as a task and as an example has one id in both roles.

    Example:
        >>> content_id({"question": "2 + 3?", "answer": 5}) == content_id(
        ...     {"answer": 5, "question": "2 + 3?"})
        True
    """
    text = json.dumps({str(k): v for k, v in row.items()}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
