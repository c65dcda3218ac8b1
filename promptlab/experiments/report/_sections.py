"""The report's sections: which tables and plots a run report holds, in what order.

Each section has a title, a short explanation, display-ready tables (numbers already
formatted as text) and matplotlib figures. :mod:`promptlab.experiments.report` renders
them to HTML and Markdown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd
from matplotlib.figure import Figure

from promptlab.experiments.plots import majority_at_k_figure, pair_label
from promptlab.experiments.report._tables import (
    ci_text,
    fmt_cost,
    fmt_number,
    fmt_p,
    fmt_seconds,
    format_columns,
    shorten,
    with_ci_column,
)

if TYPE_CHECKING:
    from promptlab.experiments.analysis import Run

__all__ = ["MAX_DISAGREEMENTS", "VERDICT_COLUMNS", "Section", "diff_section", "report_sections"]

MAX_DISAGREEMENTS = 50


@dataclass
class Section:
    """One part of the report.

    Attributes:
        title: The heading.
        intro: A short explanation in plain words.
        tables: ``(caption, table)`` pairs; tables hold display strings.
        figures: ``(file name part, figure, caption)`` triples.
    """

    title: str
    intro: str = ""
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    figures: list[tuple[str, Figure, str]] = field(default_factory=list)


def report_sections(run: Run, scorer: str | None) -> list[Section]:
    """The report's sections for ``run``, with ``scorer`` (default: the first) as main score."""
    if not run.scorers:
        return [Section("No scored cells yet", "This run has no scored cells to report on.")]
    name = run.scorer_name(scorer)
    summary = run.summary(name)
    sections = [
        Section(
            f"Summary ({name})",
            "Accuracy is the mean score over tasks with a 95% interval (Wilson for right/wrong "
            "scores, Student-t otherwise, or a cluster bootstrap when the tasks come in "
            "clusters; ci_method says which). Errored cells are counted as errors, not as wrong "
            "answers; unscored cells are those the scorer could not score. Truncated counts the "
            "samples cut off by the token limit (max_tokens): such a sample has no answer "
            "unless it finished a final-answer line, so many of them mean the limit is too "
            "low for the arm. Cost is 'unknown' when any price was unknown. Latency "
            "percentiles leave out cache hits.",
            tables=[("", _format_summary(summary))],
            figures=[("accuracy", run.plot.accuracy(name), "Accuracy with 95% CI")],
        )
    ]
    if len(run.scorers) > 1:
        sections[0].tables.append(("Every scorer", _all_scorers(run)))
    sections.append(_comparisons(run, name))
    choice = run.model_choice(name)
    sections.append(
        Section(
            "Quality, cost and latency",
            "Arms on the Pareto front are the only ones worth choosing whatever price you put "
            "on quality. Unknown cost is never on the front.",
            tables=[("", _format_choice(choice))],
            figures=[_cost_plot(run, name), ("latency", run.plot.latency(), "Latency per cell")],
        )
    )
    sc_section = _self_consistency(run)
    if sc_section is not None:
        sections.append(sc_section)
    sections.append(_disagreements(run, name))
    errors = _errors(run)
    if errors is not None:
        sections.append(errors)
    return sections


def _cost_plot(run: Run, scorer: str) -> tuple[str, Figure, str]:
    # Tokens per task when every priced arm is free (local models); the title says which.
    figure = run.plot.cost(scorer)
    return ("cost", figure, figure.axes[0].get_title())


def _format_summary(summary: pd.DataFrame) -> pd.DataFrame:
    shown = with_ci_column(summary.drop(columns=["scorer", "cells"]), "95% CI")
    return format_columns(
        shown,
        {
            "accuracy": fmt_number,
            "mean_tokens": lambda v: fmt_number(v, 1),
            "cost_usd": fmt_cost,
            "cost_per_task_usd": fmt_cost,
            "latency_p50_s": fmt_seconds,
            "latency_p95_s": fmt_seconds,
        },
    )


def _all_scorers(run: Run) -> pd.DataFrame:
    table: pd.DataFrame | None = None
    for scorer in run.scorers:
        summary = run.summary(scorer)
        column = [
            f"{fmt_number(m)} {ci_text(lo, hi)}"
            for m, lo, hi in zip(
                summary["accuracy"], summary["ci_low"], summary["ci_high"], strict=True
            )
        ]
        part = summary[["arm", "provider"]].assign(**{scorer: column})
        table = part if table is None else table.merge(part, on=["arm", "provider"], how="outer")
    return table if table is not None else pd.DataFrame()


#: The columns a reader of a comparison came for, placed right after the pair's names so
#: that they are in view without scrolling.
VERDICT_COLUMNS = ("diff", "95% CI of diff", "p_adjusted", "significant")


def _format_comparison(table: pd.DataFrame, labels: int = 3) -> pd.DataFrame:
    """A comparison table for display: the pair's ``labels`` columns, the verdict, the rest."""
    shown = with_ci_column(table.drop(columns=["statistic", "scorer"]), "95% CI of diff")
    shown["significant"] = ["yes" if v is True else "no" for v in shown["significant"]]
    leading = [*shown.columns[:labels], *VERDICT_COLUMNS]
    shown = shown[leading + [c for c in shown.columns if c not in leading]]
    return format_columns(
        shown,
        {
            "mean_a": fmt_number,
            "mean_b": fmt_number,
            "mean_this": fmt_number,
            "mean_other": fmt_number,
            "correlation": fmt_number,
            "diff": lambda v: "–" if pd.isna(v) else f"{float(v):+.3f}",
            "p_value": fmt_p,
            "p_adjusted": fmt_p,
        },
    )


def diff_section(diff: pd.DataFrame, this: str, other: str) -> Section:
    """The run diff: per arm x provider, tasks improved, regressed or the same, and the test."""
    shown = diff.copy()
    same_names = (shown["other_arm"] == shown["arm"]) & (
        shown["other_provider"] == shown["provider"]
    )
    shown.insert(
        2,
        "against",
        [
            "same arm · provider" if s else f"{a} · {p}"
            for s, a, p in zip(same_names, shown["other_arm"], shown["other_provider"], strict=True)
        ],
    )
    shown = shown.drop(columns=["other_arm", "other_provider"])
    counts = ["improved", "regressed", "same"]
    table = _format_comparison(shown, labels=3)
    table = table[[*table.columns[:3], *counts, *[c for c in table.columns[3:] if c not in counts]]]
    return Section(
        f"Run diff: {this} against {other}",
        f"The two runs compared on their shared tasks, paired on task id. improved / "
        f"regressed / same count the tasks whose score in {this} is higher / lower / equal "
        f"than in {other} (repeats averaged per task); diff = {this} - {other} with a "
        f"paired-bootstrap 95% interval; McNemar's exact test on right/wrong scores, "
        f"Wilcoxon signed-rank on graded ones; p_adjusted is Holm-corrected over every row. "
        f"n_dropped counts tasks scored in only one of the runs. The explorer below shows "
        f"both runs side by side (filters Improved, Regressed, Changed).",
        tables=[("", table)],
    )


def _comparisons(run: Run, scorer: str) -> Section:
    section = Section(
        "Comparisons (paired on task id)",
        "Each pair of arms is compared on the tasks both scored: McNemar's exact test on "
        "right/wrong scores (a_only_correct / b_only_correct are the discordant tasks), "
        "Wilcoxon signed-rank on graded scores; diff = A - B with a paired-bootstrap 95% "
        "interval (a cluster bootstrap when the tasks come in clusters; ci_method says "
        "which). correlation is the per-task correlation of the two arms' scores: the higher "
        "it is, the more pairing narrowed the interval. n_unscored counts cells left out "
        "because the scorer could not score them. p_adjusted is Holm-corrected over every "
        "test in the table.",
    )
    if len(run.arms) >= 2:
        section.tables.append(("Arms", _format_comparison(run.compare_all(scorer=scorer))))
        forest = run.plot.comparisons(scorer=scorer)
        section.figures.append(("comparisons", forest, "Paired differences between arms"))
    if len(run.providers) >= 2:
        by_provider = run.compare_all(by="provider", scorer=scorer)
        section.tables.append(("Providers (models)", _format_comparison(by_provider)))
    if not section.tables:
        section.intro = "Only one arm and one provider: there is nothing to compare."
    return section


def _format_choice(choice: pd.DataFrame) -> pd.DataFrame:
    shown = with_ci_column(choice, "95% CI")
    return format_columns(
        shown,
        {
            "accuracy": fmt_number,
            "cost_per_1k_tasks_usd": fmt_cost,
            "latency_p50_s": fmt_seconds,
            "latency_p95_s": fmt_seconds,
            "mean_tokens": lambda v: fmt_number(v, 1),
        },
    )


def _self_consistency(run: Run) -> Section | None:
    arms = run.self_consistency_arms()
    if not arms:
        return None
    frame = run.cells
    frame = frame[frame["ok"]]
    curves = {}
    rows = []
    for arm in arms:
        for provider in run.providers:
            cells = frame[(frame["arm"] == arm) & (frame["provider"] == provider)]
            if cells.empty:
                continue
            label = pair_label(arm, provider, len(run.providers))
            if cells["expected"].isna().all():
                continue  # maj@k needs expected answers (tasks without one have no curve)
            curve = run.majority_at_k(arm, provider)
            if not curve.empty:
                curves[label] = curve
                rows.append(
                    {
                        "arm": arm,
                        "provider": provider,
                        "maj@1": fmt_number(curve["accuracy"].iloc[0]),
                        f"maj@{int(curve['k'].iloc[-1])}": fmt_number(curve["accuracy"].iloc[-1]),
                        "cells": int(curve["cells"].iloc[0]),
                    }
                )
    section = Section(
        "Self-consistency",
        "The vote-share histogram shows how much the samples agreed on their winner. maj@k is "
        "the exact expected accuracy of a majority vote over k of each cell's samples, "
        "averaged over every k-subset (no re-sampling).",
        figures=[("vote_share", run.plot.vote_shares(), "Winning answer's vote share")],
    )
    if curves:
        section.figures.append(("majority_at_k", majority_at_k_figure(curves), "Accuracy vs k"))
        section.tables.append(("maj@k", pd.DataFrame(rows).fillna("–")))
    return section


def _disagreements(run: Run, scorer: str) -> Section:
    table = run.disagreements(scorer)
    intro = (
        "Tasks where the arms' answers or scores differ (errored cells left out). Each arm's "
        "cell shows its answer, its score and the start of its first reply."
    )
    if len(table) > MAX_DISAGREEMENTS:
        intro += f" Showing the first {MAX_DISAGREEMENTS} of {len(table)}."
        table = table.head(MAX_DISAGREEMENTS)
    shown = table[["provider", "task_id", "expected"]].copy()
    for arm in run.arms:
        if f"answer_{arm}" not in table.columns:
            continue
        columns = (table[f"answer_{arm}"], table[f"score_{arm}"], table[f"output_{arm}"])
        shown[arm] = [_arm_cell(*values) for values in zip(*columns, strict=True)]
    return Section("Where the arms disagree", intro, tables=[("", shown)])


def _arm_cell(answer: Any, score: Any, output: Any) -> str:
    if _absent(answer) and _absent(output):
        return "–"  # this arm has no successful cell for the task
    shown = "no answer" if _absent(answer) else str(answer)
    return f"{shown} ({fmt_number(score, 2)}) · {shorten(output, 160)}"


def _absent(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _errors(run: Run) -> Section | None:
    frame = run.cells
    failed = frame[~frame["ok"]]
    if failed.empty:
        return None
    counts = (
        failed.groupby(["arm", "provider", "error_type"], sort=False)
        .agg(cells=("cell_id", "size"), example=("error_message", "first"))
        .reset_index()
    )
    counts["example"] = [shorten(v, 200) for v in counts["example"]]
    return Section(
        "Errors",
        "Errored cells are retried on the next run; they are not counted as wrong answers.",
        tables=[("", counts)],
    )
