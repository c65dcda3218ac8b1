"""Summaries and comparisons for reading: the verdict first, intervals and p-values as text.

:func:`readable_table` turns ``Run.summary()`` or a comparison (``Run.compare()``,
``Run.compare_all()``) into display strings for a notebook cell, a run's HTML card and the
command line's tables. The tables it is given stay numeric, for users' own code; this is
only a view of them.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

import pandas as pd

from promptlab.errors import ConfigurationError
from promptlab.experiments.stats import with_holm

__all__ = ["comparison_verdict", "readable_table", "text_width"]

MISSING = "–"


def readable_table(
    table: pd.DataFrame,
    *,
    wide: bool = True,
    width: int | None = None,
    leave_out: Collection[str] = (),
    alpha: float = 0.05,
) -> pd.DataFrame:
    """A summary or comparison table as display strings, the verdict columns first.

    A summary leads with ``arm`` (and ``provider``), then ``accuracy`` and its ``95% CI``.
    A comparison leads with the pair, then ``verdict`` (which side is better, or no clear
    difference, after the Holm correction), ``diff``, its ``95% CI`` and the Holm-adjusted
    ``p (Holm)``; a ``Run.compare()`` table, which has no adjusted p-values, is
    Holm-corrected over its own rows. P-values read ``<0.001`` below a thousandth, an
    unknown cost reads ``unknown`` (never $0), a missing value ``–``.

    Args:
        table: ``Run.summary()``, ``Run.compare()`` or ``Run.compare_all()`` (either ``by``).
        wide: Every column (True), or only those a reader needs first (False): what a
            narrow terminal and a run's card show. Count columns that are all zero and a
            single provider's column are left out either way.
        width: With ``wide``, drop secondary columns, last first, until the table fits in
            this many characters (each column as wide as its longest cell or title, three
            characters between columns, as a terminal table draws it). The columns of
            ``wide=False`` always stay.
        leave_out: Display columns not to show (e.g. ``"provider"`` when a title names it).
        alpha: Family-wise error rate for the verdict when the table has no
            ``significant`` column.

    Example:
        >>> pl.readable_table(run.compare("cot", "zero_shot"))     # doctest: +SKIP

    Raises:
        ConfigurationError: The table is neither a summary nor a comparison.
    """
    if {"accuracy", "ci_low", "ci_high", "arm", "provider"} <= set(table.columns):
        shown = _summary(table, wide)
        essential = _summary(table, False) if width is not None and wide else shown
    else:
        by = next((by for by in ("arm", "provider") if f"{by}_a" in table.columns), None)
        if by is None or not {"diff", "ci_low", "ci_high", "p_value"} <= set(table.columns):
            raise ConfigurationError(
                "readable_table takes Run.summary(), Run.compare() or Run.compare_all(); "
                f"this table has the columns {list(table.columns)}."
            )
        shown = _comparison(table, by, wide, alpha)
        essential = _comparison(table, by, False, alpha) if width is not None and wide else shown
    shown = shown.drop(columns=[c for c in leave_out if c in shown.columns])
    if width is None:
        return shown
    return _fit(shown, width, keep=set(essential.columns))


def text_width(table: pd.DataFrame) -> int:
    """Characters a table of display strings takes: columns, and three between each."""
    widths = [
        max([len(str(column)), *(len(str(v)) for v in table[column])]) for column in table.columns
    ]
    return sum(widths) + 3 * len(widths) + 1


def _fit(shown: pd.DataFrame, width: int, keep: set[str]) -> pd.DataFrame:
    droppable = [column for column in shown.columns if column not in keep]
    while droppable and text_width(shown) > width:
        shown = shown.drop(columns=[droppable.pop()])
    return shown


def comparison_verdict(row: pd.Series | dict[str, Any], by: str = "arm") -> str:
    """``"<a> better"``, ``"<b> better"``, ``"no clear difference"``, or ``"–"`` (not compared).

    Reads the row's ``significant`` (after Holm) and the sign of ``diff``.
    """
    diff: Any = row.get("diff")
    if _missing(diff):
        return MISSING
    if not bool(row.get("significant")):
        return "no clear difference"
    better = row[f"{by}_a"] if float(diff) > 0 else row[f"{by}_b"]
    return f"{better} better"


def _summary(table: pd.DataFrame, wide: bool) -> pd.DataFrame:
    shown = pd.DataFrame({"arm": table["arm"].astype(str)}, index=table.index)
    if wide or table["provider"].nunique() > 1:
        shown["provider"] = table["provider"].astype(str)
    shown["accuracy"] = [_number(v) for v in table["accuracy"]]
    bounds = zip(table["ci_low"], table["ci_high"], strict=True)
    shown["95% CI"] = [_interval(lo, hi) for lo, hi in bounds]
    shown["n"] = [_count(v) for v in table["n"]] if "n" in table else MISSING
    columns: list[tuple[str, str, Any]] = [
        ("errors", "errors", _count),
        ("unscored", "unscored", _count),
        ("truncated", "truncated", _count),
        ("mean_tokens", "tokens", lambda v: _number(v, 1)),
        ("cost_usd", "cost", _cost),
        ("latency_p50_s", "latency p50", _seconds),
    ]
    if wide:
        columns += [
            ("model", "model", _text),
            ("ci_method", "interval", _text),
            ("cost_per_task_usd", "cost per task", _cost),
            ("latency_p95_s", "latency p95", _seconds),
            ("calls", "calls", _count),
            ("cache_hits", "cache hits", _count),
        ]
    return _add(shown, table, columns, quiet=("errors", "unscored", "truncated", "cache_hits"))


def _comparison(table: pd.DataFrame, by: str, wide: bool, alpha: float) -> pd.DataFrame:
    within = "provider" if by == "arm" else "arm"
    if "significant" not in table.columns and len(table):
        table = with_holm(table, alpha)
    shown = pd.DataFrame(index=table.index)
    if within in table.columns and (wide or table[within].nunique() > 1):
        shown[within] = table[within].astype(str)
    shown[f"{by} A"] = table[f"{by}_a"].astype(str)
    shown[f"{by} B"] = table[f"{by}_b"].astype(str)
    shown["verdict"] = [comparison_verdict(row, by) for _, row in table.iterrows()]
    shown["diff"] = [_signed(v) for v in table["diff"]]
    bounds = zip(table["ci_low"], table["ci_high"], strict=True)
    shown["95% CI"] = [_interval(lo, hi, signed=True) for lo, hi in bounds]
    shown["p (Holm)"] = [_p(v) for v in table.get("p_adjusted", table["p_value"])]
    columns: list[tuple[str, str, Any]] = [("n_pairs", "pairs", _count)]
    if wide:
        columns += [
            ("mean_a", "mean A", _number),
            ("mean_b", "mean B", _number),
            ("a_only_correct", "only A right", _count),
            ("b_only_correct", "only B right", _count),
            ("test", "test", _text),
            ("p_value", "p", _p),
            ("correlation", "correlation", _number),
            ("ci_method", "interval", _text),
            ("n_dropped", "dropped", _count),
            ("n_unscored", "unscored", _count),
            ("note", "note", _text),
        ]
    return _add(shown, table, columns, quiet=("n_dropped", "n_unscored"))


def _add(
    shown: pd.DataFrame,
    table: pd.DataFrame,
    columns: list[tuple[str, str, Any]],
    quiet: tuple[str, ...],
) -> pd.DataFrame:
    """``shown`` with each present ``(source, title, formatter)`` column appended.

    A ``quiet`` count column that is zero (or missing) in every row says nothing and is
    left out.
    """
    for source, title, formatter in columns:
        if source not in table.columns:
            continue
        if source in quiet and not table[source].fillna(0).astype(bool).any():
            continue
        shown[title] = [formatter(v) for v in table[source]]
    return shown.reset_index(drop=True)


def _missing(value: Any) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _number(value: Any, digits: int = 3) -> str:
    return MISSING if _missing(value) else f"{float(value):.{digits}f}"


def _signed(value: Any) -> str:
    return MISSING if _missing(value) else f"{float(value):+.3f}"


def _interval(low: Any, high: Any, *, signed: bool = False) -> str:
    if _missing(low) or _missing(high):
        return MISSING
    shown = _signed if signed else _number
    return f"[{shown(low)}, {shown(high)}]"


def _p(value: Any) -> str:
    if _missing(value):
        return MISSING
    value = float(value)
    return "<0.001" if value < 0.001 else f"{value:.3g}"


def _count(value: Any) -> str:
    return MISSING if _missing(value) else str(int(value))


def _cost(value: Any) -> str:
    if _missing(value):
        return "unknown"
    value = float(value)
    return "$0" if value == 0 else f"${value:.4g}"


def _seconds(value: Any) -> str:
    if _missing(value) or math.isinf(float(value)):
        return MISSING
    return f"{float(value):.2f} s"


def _text(value: Any) -> str:
    return MISSING if _missing(value) else str(value)
