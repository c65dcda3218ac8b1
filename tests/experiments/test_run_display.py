"""How a Run shows itself: a short repr, the notebook card, and readable tables."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from promptlab import readable_table
from promptlab.errors import ConfigurationError
from promptlab.experiments.analysis import Run
from tests.experiments.run_fixtures import cell


def headers(html: str, table: int) -> list[str]:
    """The header cells of the ``table``-th table of an HTML fragment."""
    found = re.findall(r"<thead><tr>(.*?)</tr></thead>", html)[table]
    return re.findall(r"<th>(.*?)</th>", found)


def rows(html: str, table: int) -> list[list[str]]:
    body = re.findall(r"<tbody>(.*?)</tbody>", html)[table]
    return [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)]


# -- repr -----------------------------------------------------------------------------


def test_repr_names_the_run_its_progress_and_its_parts(run: Run) -> None:
    assert repr(run) == (
        "Run('fixture': 44 cells done, 1 errored; arms plain, cot, sc, single; providers "
        f"local, api; scorers numeric; at {str(run.run_dir)!r})"
    )


def test_repr_counts_planned_cells_and_shortens_long_name_lists() -> None:
    arms = [f"arm{i}" for i in range(6)]
    records = [cell("t01", arm, "local", True) for arm in arms]
    run = Run(records, {"name": "many", "cells": 12, "arms": {a: {} for a in arms}})
    assert repr(run) == (
        "Run('many': 6 cells done of 12, 0 errored; arms arm0, arm1, arm2, arm3 (+2 more); "
        "providers local; scorers numeric)"
    )
    assert repr(Run([])) == "Run(0 cells done, 0 errored; arms ; providers ; scorers none yet)"


# -- the notebook card ----------------------------------------------------------------


def test_card_shows_name_progress_summary_and_verdicts(lopsided: Run) -> None:
    card = lopsided._repr_html_()
    assert "<strong>lopsided</strong> · 60 cells done of 60, 0 errored" in card
    # The summary: labels, then the verdict columns; one provider is not a column.
    assert headers(card, 0)[:4] == ["arm", "accuracy", "95% CI", "n"]
    assert rows(card, 0)[0][:4] == ["good", "1.000", "[0.839, 1.000]", "20"]
    assert headers(card, 1)[:5] == ["arm A", "arm B", "verdict", "diff", "95% CI"]
    verdicts = [row[2] for row in rows(card, 1)]
    assert verdicts == ["good better", "good better", "half better"]


def test_card_lists_at_most_eight_comparisons_and_counts_the_rest(run: Run) -> None:
    card = run._repr_html_()
    assert len(rows(card, 1)) == 7  # 6 pairs on local, 1 on api
    records = [cell("t01", f"arm{i}", "local", i % 2 == 0) for i in range(5)]
    many = Run(records, {"name": "five"})
    card = many._repr_html_()
    assert len(rows(card, 1)) == 8
    assert "2 more in run.compare_all()" in card  # 5 arms: 10 pairs


def test_card_escapes_names_and_says_when_nothing_is_scored(tmp_path: Path) -> None:
    records = [
        cell("t01", "<b>bold</b>", "local", True),
        cell("t01", "plain", "local", False),
    ]
    card = Run(records, {"name": "<script>x</script>"})._repr_html_()
    assert "<script>x" not in card and "&lt;script&gt;x&lt;/script&gt;" in card
    assert "<b>bold</b>" not in card and "&lt;b&gt;bold&lt;/b&gt;" in card
    unscored = cell("t01", "plain", "local", None)
    assert "No scored cells yet." in Run([unscored], {"name": "empty"})._repr_html_()


# -- readable tables ------------------------------------------------------------------


def test_readable_summary_leads_with_the_verdict_and_leaves_the_table_numeric(run: Run) -> None:
    summary = run.summary()
    shown = readable_table(summary, wide=False)
    assert list(shown.columns) == [
        "arm",
        "provider",
        "accuracy",
        "95% CI",
        "n",
        "errors",
        "tokens",
        "cost",
        "latency p50",
    ]
    assert shown.iloc[0].tolist() == [
        "plain",
        "local",
        "0.300",
        "[0.108, 0.603]",
        "10",
        "1",
        "15.0",
        "$0",
        "5.50 s",
    ]
    assert shown.loc[3, "cost"] == "unknown"  # cot · api had a cell of unknown price
    assert pd.api.types.is_float_dtype(summary["accuracy"])
    assert pd.api.types.is_float_dtype(run.summary()["ci_low"])
    wide = readable_table(summary)
    assert {"model", "interval", "latency p95", "cache hits"} <= set(wide.columns)


def test_readable_comparison_gives_verdicts_and_holm_p_values(lopsided: Run) -> None:
    shown = readable_table(lopsided.compare_all(), wide=False)
    assert list(shown.columns) == [
        "arm A",
        "arm B",
        "verdict",
        "diff",
        "95% CI",
        "p (Holm)",
        "pairs",
    ]
    assert shown.iloc[0].tolist()[:6] == [
        "good",
        "bad",
        "good better",
        "+1.000",
        "[+1.000, +1.000]",
        "<0.001",
    ]
    assert shown.loc[2, "verdict"] == "half better"  # bad − half = −0.5: B is better


def test_readable_compare_is_holm_corrected_over_its_own_rows(run: Run) -> None:
    # plain vs cot: McNemar p = 0.219 on local and 0.25 on api; Holm: 2 x 0.219 for both.
    shown = readable_table(run.compare("plain", "cot"))
    assert shown["p (Holm)"].tolist() == ["0.438", "0.438"]
    assert shown["p"].tolist() == ["0.219", "0.25"]
    assert shown["verdict"].tolist() == ["no clear difference"] * 2
    assert list(shown.columns[:7]) == [
        "provider",
        "arm A",
        "arm B",
        "verdict",
        "diff",
        "95% CI",
        "p (Holm)",
    ]
    assert "note" in shown.columns and "note" not in readable_table(
        run.compare("plain", "cot"), wide=False
    )


def test_readable_table_of_another_table_says_what_it_takes(run: Run) -> None:
    with pytest.raises(ConfigurationError, match=r"takes Run.summary\(\), Run.compare\(\)"):
        readable_table(run.cells)
