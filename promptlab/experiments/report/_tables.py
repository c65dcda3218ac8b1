"""Tables for reports: readable number formats, escaped HTML, and Markdown.

Everything that may come from a model (answers, outputs, notes) is escaped in both
formats: Markdown renderers pass raw HTML through, so a reply containing ``<script>``
must be escaped there too.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Collection, Mapping
from typing import Any

import pandas as pd

from promptlab._checks import is_int

__all__ = [
    "ci_text",
    "fmt_cost",
    "fmt_number",
    "fmt_p",
    "fmt_seconds",
    "format_columns",
    "html_table",
    "markdown_table",
    "shorten",
    "with_ci_column",
]


def _missing(value: Any) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def fmt_number(value: Any, digits: int = 3) -> str:
    """A float with ``digits`` decimals; ``"–"`` when missing."""
    if _missing(value):
        return "–"
    if is_int(value):
        return str(value)
    return f"{float(value):.{digits}f}"


def fmt_p(value: Any) -> str:
    """A p-value: ``"<0.001"`` or three significant digits."""
    if _missing(value):
        return "–"
    value = float(value)
    return "<0.001" if value < 0.001 else f"{value:.3g}"


def fmt_cost(value: Any) -> str:
    """Dollars, or ``"unknown"`` when the price was unknown (never a made-up 0)."""
    if _missing(value):
        return "unknown"
    value = float(value)
    if value == 0:
        return "$0"
    return f"${value:.4g}"


def fmt_seconds(value: Any) -> str:
    """Seconds with two decimals."""
    return "–" if _missing(value) else f"{float(value):.2f} s"


def shorten(text: Any, limit: int = 300) -> str:
    """Text cut to ``limit`` characters with an ellipsis; missing values as ``"–"``."""
    if _missing(text):
        return "–"
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def ci_text(low: Any, high: Any) -> str:
    """An interval as ``"[0.412, 0.655]"``."""
    return f"[{fmt_number(low)}, {fmt_number(high)}]"


def with_ci_column(table: pd.DataFrame, name: str) -> pd.DataFrame:
    """A copy with ``ci_low``/``ci_high`` replaced by one text column ``name`` in their place."""
    shown = table.copy()
    text = [ci_text(lo, hi) for lo, hi in zip(shown["ci_low"], shown["ci_high"], strict=True)]
    shown.insert(int(shown.columns.get_loc("ci_low")), name, text)
    return shown.drop(columns=["ci_low", "ci_high"])


def format_columns(
    table: pd.DataFrame, formats: Mapping[str, Callable[[Any], str]]
) -> pd.DataFrame:
    """A copy of ``table`` with the named columns turned into display strings."""
    shown = table.copy()
    for column, formatter in formats.items():
        if column in shown.columns:
            shown[column] = [formatter(v) for v in shown[column]]
    return shown.astype(object).where(shown.notna(), "–")


def html_table(
    table: pd.DataFrame,
    *,
    frozen: Collection[str] = (),
    verdict: Collection[str] = (),
    note_column: str | None = None,
) -> str:
    """An escaped HTML table (every cell goes through :func:`html.escape`).

    Args:
        table: Display strings (see :func:`format_columns`).
        frozen: Label columns that stay in view while the table scrolls sideways; only
            the leading run of ``table``'s columns named here is frozen.
        verdict: Columns to highlight (a comparison's verdict).
        note_column: A column shown under its row, across the table, instead of as a
            column: a long note stays readable and keeps its row one line tall.
    """
    if table.empty:
        return "<p><em>Nothing to show.</em></p>"
    notes: list[str] | None = None
    if note_column is not None and note_column in table.columns:
        notes = [_text(v) for v in table[note_column]]
        table = table.drop(columns=[note_column])
    n_frozen = 0
    for column in table.columns:
        if str(column) not in frozen:
            break
        n_frozen += 1

    def classes(position: int, column: Any) -> str:
        names = ["frozen"] if position < n_frozen else []
        if str(column) in verdict:
            names.append("verdict")
        return f' class="{" ".join(names)}"' if names else ""

    head = "".join(
        f"<th{classes(i, c)}>{html.escape(str(c))}</th>" for i, c in enumerate(table.columns)
    )
    body = []
    for number, row in enumerate(table.itertuples(index=False)):
        cells = "".join(
            f"<td{classes(i, c)}>{html.escape(_text(v))}</td>"
            for i, (c, v) in enumerate(zip(table.columns, row, strict=True))
        )
        body.append(f"<tr>{cells}</tr>")
        note = notes[number] if notes is not None else "–"
        if note not in ("", "–"):
            label = html.escape(str(note_column))
            body.append(
                f'<tr class="note"><td colspan="{len(table.columns)}">'
                f"<b>{label}:</b> {html.escape(note)}</td></tr>"
            )
    kind = ' class="frozen-labels"' if n_frozen else ""
    return f"<table{kind}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def markdown_table(table: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table with HTML-escaped, one-line cells."""
    if table.empty:
        return "_Nothing to show._"

    def cell(value: Any) -> str:
        text = html.escape(_text(value), quote=False).replace("|", "\\|")
        return " ".join(text.split())

    lines = [
        "| " + " | ".join(cell(c) for c in table.columns) + " |",
        "| " + " | ".join("---" for _ in table.columns) + " |",
    ]
    lines += [
        "| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)
    ]
    return "\n".join(lines)


def _text(value: Any) -> str:
    if _missing(value):
        return "–"
    if isinstance(value, float) and not math.isfinite(value):
        return "–"
    return str(value)
