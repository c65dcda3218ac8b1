"""The ``promptlab`` command: run experiment files, compare arms, write reports.

Exit codes: 0 success; 1 a run-time failure; 2 a configuration or data error (the
message says what to fix, without a traceback); 130 interrupted by Ctrl-C (finished
cells are kept; running the same command again resumes).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from promptlab.errors import ConfigurationError, DataError, PromptlabError, TemplateError

if TYPE_CHECKING:
    import pandas as pd

    from promptlab.experiments.analysis import Run

EXIT_ERROR = 1
EXIT_CONFIG = 2
EXIT_INTERRUPTED = 130

app = typer.Typer(
    name="promptlab",
    help=(
        "Compare prompting strategies honestly: run an experiment file (arms x providers "
        "over a task set), then read paired statistics and an HTML report."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

# Parameters shared by the commands that read a finished run directory (report, compare,
# summary): one definition each, so they cannot drift apart.
RunDirArgument = Annotated[
    Path,
    typer.Argument(help="A run directory (holding cells.jsonl).", show_default=False),
]
ScorerOption = Annotated[
    Optional[str],  # noqa: UP045 - typer reads the annotation at run time on 3.10
    typer.Option(help="Which score to use [default: the first scorer].", show_default=False),
]


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn expected failures into a short message and an exit code, not a traceback."""
    try:
        yield
    except (ConfigurationError, DataError, TemplateError) as exc:
        _fail(exc, EXIT_CONFIG)
    except PromptlabError as exc:
        _fail(exc, EXIT_ERROR)
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None


def _fail(exc: Exception, code: int) -> None:
    typer.echo(f"Error ({type(exc).__name__}): {exc}", err=True)
    raise typer.Exit(code) from None


@app.command()
def run(
    experiment: Annotated[
        Path, typer.Argument(help="The experiment file (YAML) to run.", show_default=False)
    ],
    out: Annotated[
        Optional[Path],  # noqa: UP045 - typer reads the annotation at run time on 3.10
        typer.Option(
            "--out",
            "-o",
            help="Run directory for cells.jsonl and experiment.json. Re-using a directory "
            "resumes the run: finished cells are skipped. [default: runs/<experiment name>]",
            show_default=False,
        ),
    ] = None,
    concurrency: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            "--concurrency",
            "-c",
            min=1,
            help="Most cells running at once, over all providers "
            "[default: the file's 'concurrency', else 8].",
            show_default=False,
        ),
    ] = None,
    no_cache: Annotated[
        bool,
        typer.Option(
            "--no-cache",
            help="Bypass the response cache: call the providers for every cell, store nothing.",
        ),
    ] = False,
    refresh_cache: Annotated[
        bool,
        typer.Option(
            "--refresh-cache",
            help="Ignore cached responses, call the providers, and overwrite the cache.",
        ),
    ] = False,
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh",
            help="Start over in the run directory: move its old records to a backup file "
            "(cells.jsonl.bak-<time>) and run every cell again.",
        ),
    ] = False,
    report: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--report",
            "-r",
            help="Also write a standalone HTML report to this path (plus a Markdown copy).",
            show_default=False,
        ),
    ] = None,
    progress: Annotated[
        bool,
        typer.Option(
            "--progress/--no-progress", help="Show the progress bar (only on a terminal)."
        ),
    ] = True,
) -> None:
    """Run an experiment file and print the summary and the comparison of arms.

    Responses are cached in $PROMPTLAB_CACHE_DIR (default ~/.cache/promptlab), keyed by
    provider, model, messages, every generation parameter and the sample index, so a
    re-run makes no calls. Ctrl-C stops cleanly; run the same command to resume.

    Resuming checks the run directory's recorded definition: an arm, provider or task
    defined differently (or another seed) is an error (use a new --out, or --fresh); a
    change only in scorers re-scores the saved outputs without calling any provider. Only
    one run at a time may write to a run directory.
    """
    from promptlab.experiments.experiment import Experiment

    with _user_errors():
        if no_cache and refresh_cache:
            raise ConfigurationError(
                "--no-cache and --refresh-cache contradict each other: pick one."
            )
        definition = Experiment.from_yaml(experiment)
        result = definition.run(
            out,
            cache=not no_cache,
            refresh_cache=refresh_cache,
            concurrency=concurrency,
            progress=progress,
            fresh=fresh,
        )
        out_dir = definition.run_dir(out)
        typer.echo(f"Run directory: {out_dir}")
        _print_results(result)
        if report is not None:
            written = result.report(report)
            typer.echo(f"Report: {written}")


@app.command("report")
def report_command(
    run_dir: RunDirArgument,
    out: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--out",
            "-o",
            help="Where to write the HTML report [default: RUN_DIR/report.html].",
            show_default=False,
        ),
    ] = None,
    scorer: ScorerOption = None,
) -> None:
    """Write a standalone HTML report (and a Markdown copy) for a run directory."""
    with _user_errors():
        result = _load(run_dir)
        written = result.report(out or run_dir / "report.html", scorer=scorer)
        typer.echo(f"Report: {written}")


@app.command()
def compare(
    run_dir: RunDirArgument,
    a: Annotated[str, typer.Argument(help="Arm A.", show_default=False)],
    b: Annotated[str, typer.Argument(help="Arm B.", show_default=False)],
    provider: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Only this provider [default: each provider].", show_default=False),
    ] = None,
    scorer: ScorerOption = None,
) -> None:
    """Compare arm A with arm B, paired on task id (McNemar or Wilcoxon, bootstrap CI)."""
    with _user_errors():
        result = _load(run_dir)
        table = result.compare(a, b, provider=provider, scorer=scorer)
        _print_table(f"{a} vs {b} (diff = A - B)", table)


@app.command()
def summary(
    run_dir: RunDirArgument,
    scorer: ScorerOption = None,
) -> None:
    """Print a run's per-arm summary and the comparison of every pair of arms."""
    with _user_errors():
        _print_results(_load(run_dir), scorer)


def _load(run_dir: Path) -> Run:
    if not run_dir.is_dir():
        raise ConfigurationError(f"{run_dir}: no such run directory.")
    from promptlab.experiments.analysis import Run

    return Run.load(run_dir)


def _print_results(result: Run, scorer: str | None = None) -> None:
    _print_table("Summary", _compact(result.summary(scorer), _SUMMARY_COLUMNS))
    if len(result.arms) > 1:
        comparison = result.compare_all(scorer=scorer)
        title = "Arms compared, paired on task id (diff = A - B; p adjusted by Holm)"
        _print_table(title, _compact(comparison, _COMPARISON_COLUMNS))


# Counts shown only when some row has one: a column of zeros costs width and says nothing.
_QUIET_WHEN_ZERO = ("errors", "unscored", "n_unscored", "truncated", "cost_usd", "cache_hits")


def _without_quiet_columns(frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Drop all-zero count columns; a single interval method moves to the title."""
    quiet = [
        c
        for c in _QUIET_WHEN_ZERO
        if c in frame.columns and not frame[c].fillna(0).astype(bool).any()
    ]
    note = ""
    if "ci_method" in frame.columns and frame["ci_method"].nunique(dropna=False) == 1:
        note = f"; interval: {frame['ci_method'].iloc[0]}"
        quiet.append("ci_method")
    return frame.drop(columns=quiet), note


# The columns worth a terminal's width; the full tables are in Run.summary() and the report.
_SUMMARY_COLUMNS = (
    "arm", "provider", "model", "accuracy", "ci", "ci_method", "n", "errors", "unscored",
    "truncated", "mean_tokens", "cost_usd", "latency_p50_s", "latency_p95_s", "calls",
    "cache_hits",
)  # fmt: skip
_COMPARISON_COLUMNS = (
    "provider", "arm", "arm_a", "arm_b", "n_pairs", "n_unscored", "mean_a", "mean_b",
    "correlation", "diff", "ci", "ci_method", "test", "a_only_correct", "b_only_correct",
    "p_value", "p_adjusted", "significant",
)  # fmt: skip


def _compact(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    frame = frame.copy()
    if {"ci_low", "ci_high"} <= set(frame.columns):
        frame["ci"] = [
            f"[{_cell(low)}, {_cell(high)}]"
            for low, high in zip(frame["ci_low"], frame["ci_high"], strict=True)
        ]
    return frame[[c for c in columns if c in frame.columns]]


def _print_table(title: str, frame: pd.DataFrame) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    frame, note = _without_quiet_columns(frame)
    if "provider" in frame.columns and len(frame) > 1 and frame["provider"].nunique() == 1:
        note += f"; provider: {frame['provider'].iloc[0]}"
        frame = frame.drop(columns=["provider"])
    if len(frame) == 1 and len(frame.columns) > 8:
        # One comparison: a field per line reads better than a row folded to fit.
        import pandas as pd

        frame = pd.DataFrame({"field": frame.columns, "value": list(frame.iloc[0])})
    # Names and notes are data, never rich markup ("[bold]" in an arm name stays text).
    table = Table(title=escape(title + note), title_justify="left")
    for column in frame.columns:
        # Names and intervals stay on one line; numeric columns are narrow anyway.
        keep = str(column) in ("arm", "arm_a", "arm_b", "provider", "model", "ci", "test", "field")
        table.add_column(escape(str(column).replace("_", " ")), overflow="fold", no_wrap=keep)
    for row in frame.itertuples(index=False):
        table.add_row(*(escape(_cell(value)) for value in row))
    Console(width=max(120, _terminal_width())).print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.3g}" if abs(value) < 0.001 and value != 0 else f"{value:.3f}"
    text = str(value)
    return "-" if text in ("<NA>", "nan") else text


def _terminal_width() -> int:
    import shutil

    return shutil.get_terminal_size((160, 24)).columns


def main(argv: list[str] | None = None) -> None:
    """The console-script entry point (``promptlab``)."""
    command: Callable[..., Any] = app
    command(args=argv if argv is not None else sys.argv[1:], prog_name="promptlab")


if __name__ == "__main__":
    main()
