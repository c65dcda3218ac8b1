"""Reading JSON-lines text with errors that name the file and the line."""

from __future__ import annotations

import json
from collections.abc import Iterator
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
