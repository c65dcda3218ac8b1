"""The ``promptlab`` command: run experiment files, compare arms, write reports.

Exit codes: 0 success; 1 a run-time failure; 2 a configuration or data error (the
message says what to fix, without a traceback); 130 interrupted by Ctrl-C (finished
cells are kept; running the same command again resumes).
"""

from __future__ import annotations

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
WideOption = Annotated[
    bool,
    typer.Option(
        "--wide",
        help="Every column, however wide the terminal (lines may be longer than it). "
        "Without it, secondary columns are dropped until the table fits.",
    ),
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
    batch: Annotated[
        bool,
        typer.Option(
            "--batch",
            help="Send OpenAI and Anthropic requests through their batch APIs (about half "
            "the price, results within 24 h). Batches are recorded in RUN_DIR/batches before "
            "they are sent: a killed run resumes them and never pays twice. Other providers "
            "run directly. [default: the providers marked 'batch: true' in the file]",
        ),
    ] = False,
    no_wait: Annotated[
        bool,
        typer.Option(
            "--no-wait",
            help="With --batch: submit the batches (and collect the finished ones), then "
            "exit; run the same command again to collect the rest.",
        ),
    ] = False,
    poll_interval: Annotated[
        float,
        typer.Option("--poll-interval", min=0.0, help="Seconds between polls of a batch."),
    ] = 30.0,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Call no provider: print each arm x provider's calls, input tokens, output "
            "bound and cost range at direct and batch prices, then exit.",
        ),
    ] = False,
    max_cost: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option(
            "--max-cost",
            min=0.0,
            help="Budget in dollars for the run directory: start no cell whose projected "
            "cost would pass it; running cells finish and RUN_DIR/stop.json says why. Run "
            "again with a higher budget to go on.",
            show_default=False,
        ),
    ] = None,
    allow_unknown_cost: Annotated[
        bool,
        typer.Option(
            "--allow-unknown-cost",
            help="With --max-cost: count cells of unknown cost (no price, no max_tokens) "
            "as free instead of refusing to run.",
        ),
    ] = False,
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
        if dry_run:
            typer.echo(str(definition.estimate()))
            return
        from promptlab.experiments.execution import BatchOptions

        result = definition.run(
            out,
            cache=not no_cache,
            refresh_cache=refresh_cache,
            concurrency=concurrency,
            progress=progress,
            fresh=fresh,
            batch=True if batch else None,
            batch_options=BatchOptions(poll_interval=poll_interval, wait=not no_wait),
            max_cost_usd=max_cost,
            allow_unknown_cost=allow_unknown_cost,
        )
        out_dir = definition.run_dir(out)
        typer.echo(f"Run directory: {out_dir}")
        _print_results(result)
        if report is not None:
            written = result.report(report)
            typer.echo(f"Report: {written}")


ApiKeyEnvOption = Annotated[
    Optional[str],  # noqa: UP045 (typer reads the annotation at run time)
    typer.Option(
        "--api-key-env",
        help="The environment variable holding the key, if not the one the run used.",
        show_default=False,
    ),
]


@app.command("status")
def status_command(
    run_dir: RunDirArgument,
    offline: Annotated[
        bool, typer.Option("--offline", help="Only what the run directory recorded.")
    ] = False,
    api_key_env: ApiKeyEnvOption = None,
) -> None:
    """Show each batch of a run made with --batch: its stage, vendor state and counts."""
    from promptlab.experiments.execution import batch_status

    with _user_errors():
        for report in batch_status(run_dir, live=not offline, api_key_env=api_key_env):
            counts = ", ".join(f"{k} {v}" for k, v in report.counts.items() if v)
            typer.echo(
                f"{report.id}  {report.provider}  {report.vendor_id or '-'}  {report.stage}  "
                f"{report.state}  {report.requests} requests"
                + (f"  ({counts})" if counts else "")
                + (f"  {report.note}" if report.note else "")
            )


@app.command("cancel")
def cancel_command(run_dir: RunDirArgument, api_key_env: ApiKeyEnvOption = None) -> None:
    """Cancel the open batches of a run made with --batch (a re-run collects the rest)."""
    from promptlab.experiments.execution import cancel_batches

    with _user_errors():
        reports = cancel_batches(run_dir, api_key_env=api_key_env)
        if not reports:
            typer.echo("No open batches to cancel.")
        for report in reports:
            typer.echo(f"{report.id}  {report.vendor_id}  {report.state}  cancel requested")


@app.command("export-batch")
def export_batch_command(
    experiment: Annotated[Path, typer.Argument(help="The experiment file.", show_default=False)],
    provider: Annotated[str, typer.Option(help="The provider's name in the file.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The batch file to write.")],
) -> None:
    """Write a provider's uncached requests as an OpenAI batch file (for `vllm run-batch`)."""
    from promptlab.experiments.experiment import Experiment

    with _user_errors():
        count = Experiment.from_yaml(experiment).export_batch_file(provider, out)
        typer.echo(f"{count} requests written to {out} (and {out}.promptlab.jsonl).")


@app.command("import-batch")
def import_batch_command(
    experiment: Annotated[Path, typer.Argument(help="The experiment file.", show_default=False)],
    requests: Annotated[Path, typer.Argument(help="The exported batch file.")],
    results: Annotated[Path, typer.Argument(help="The batch runner's output file.")],
    provider: Annotated[str, typer.Option(help="The provider's name in the file.")],
) -> None:
    """Store a batch runner's results in the response cache; `run` then makes no calls."""
    from promptlab.experiments.experiment import Experiment

    with _user_errors():
        definition = Experiment.from_yaml(experiment)
        count = definition.import_batch_results(provider, requests, results)
        typer.echo(f"{count} results stored in the response cache.")


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
    against: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--against",
            help=(
                "Another run directory to diff this run against, over their shared tasks: "
                "tasks improved / regressed / same per arm, the paired test between the "
                "runs, and both runs side by side in the explorer."
            ),
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write a standalone HTML report (and a Markdown copy) for a run directory."""
    with _user_errors():
        result = _load(run_dir)
        other = _load(against) if against is not None else None
        written = result.report(out or run_dir / "report.html", scorer=scorer, against=other)
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
    wide: WideOption = False,
) -> None:
    """Compare arm A with arm B, paired on task id (McNemar or Wilcoxon, bootstrap CI)."""
    with _user_errors():
        result = _load(run_dir)
        table = result.compare(a, b, provider=provider, scorer=scorer)
        _print_table(f"{a} vs {b} (diff = A - B; p adjusted by Holm)", table, wide)


@app.command()
def summary(
    run_dir: RunDirArgument,
    scorer: ScorerOption = None,
    wide: WideOption = False,
) -> None:
    """Print a run's per-arm summary and the comparison of every pair of arms."""
    with _user_errors():
        _print_results(_load(run_dir), scorer, wide)


@app.command("export-finetuning")
def export_finetuning(
    run_dir: RunDirArgument,
    out: Annotated[Path, typer.Argument(help="The JSONL file to write.", show_default=False)],
    arm: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Which arm's prompts [default: the run's only arm].", show_default=False),
    ] = None,
    provider: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            help="Which provider's cells [default: the run's only provider].", show_default=False
        ),
    ] = None,
    gold: Annotated[
        bool,
        typer.Option(
            "--gold",
            help="Learn the tasks' expected answers instead of the cells' replies "
            "(then every cell counts, unless --only-correct).",
        ),
    ] = False,
    only_correct: Annotated[
        Optional[bool],  # noqa: UP045
        typer.Option(
            "--only-correct/--all",
            help="Keep only cells scored correct [default: yes for replies, no with --gold].",
            show_default=False,
        ),
    ] = None,
    gold_format: Annotated[
        str,
        typer.Option(help="How a gold answer is written, e.g. 'Answer: {answer}'."),
    ] = "{answer}",
    scorer: ScorerOption = None,
) -> None:
    """Write an arm's prompts and correct replies (or gold answers) as chat fine-tuning data.

    The file is OpenAI's chat fine-tuning JSONL ({"messages": [...]} a line), checked
    (roles, a non-empty assistant turn last, no duplicates); the summary gives examples,
    skipped cells and why, and token counts.
    """
    with _user_errors():
        report = _load(run_dir).export_finetuning(
            out,
            arm=arm,
            provider=provider,
            only_correct=only_correct,
            use="gold" if gold else "completion",
            scorer=scorer,
            gold_format=gold_format,
        )
        typer.echo(str(report))


def _load(run_dir: Path) -> Run:
    if not run_dir.is_dir():
        raise ConfigurationError(f"{run_dir}: no such run directory.")
    from promptlab.experiments.analysis import Run

    return Run.load(run_dir)


def _print_results(result: Run, scorer: str | None = None, wide: bool = False) -> None:
    _print_table("Summary", result.summary(scorer), wide)
    if len(result.arms) > 1:
        comparison = result.compare_all(scorer=scorer)
        title = "Arms compared, paired on task id (diff = A - B; p adjusted by Holm)"
        _print_table(title, comparison, wide)


_UNBROKEN = ("model", "95% CI", "field", "diff", "p (Holm)")


def _print_table(title: str, frame: pd.DataFrame, wide: bool) -> None:
    """A summary or comparison, the verdict first (``readable_table``), fitted to the terminal.

    Secondary columns are dropped, last first, until the table fits the terminal's width
    (``--wide``: every column, lines as long as they need). A provider or interval method
    shared by every row moves to the title. Headers are never broken across lines.
    """
    import pandas as pd
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from promptlab.experiments.analysis import readable_table, text_width

    note, shared = "", []
    for column, shown in (("provider", "provider"), ("ci_method", "interval")):
        if column in frame.columns and len(frame) > 1 and frame[column].nunique() == 1:
            note += f"; {shown}: {frame[column].iloc[0]}"
            shared.append(shown)
    width = _terminal_width()
    if len(frame) == 1:
        # One comparison: a field per line reads better than a row folded to fit.
        row = readable_table(frame, leave_out=shared).iloc[0]
        frame = pd.DataFrame({"field": row.index, "value": list(row)})
    else:
        frame = readable_table(frame, width=None if wide else width, leave_out=shared)
    # Names and notes are data, never rich markup ("[bold]" in an arm name stays text).
    table = Table(title=escape(title + note), title_justify="left")
    for column in frame.columns:
        # Names and intervals stay whole; a verdict or note wraps between words.
        keep = wide or str(column) in _UNBROKEN or str(column).startswith(("arm", "provider"))
        table.add_column(
            escape(str(column)), min_width=len(str(column)), overflow="fold", no_wrap=keep
        )
    for values in frame.itertuples(index=False):
        table.add_row(*(escape(str(value)) for value in values))
    Console(width=max(width, text_width(frame)) if wide else width).print(table)


def _terminal_width() -> int:
    import shutil

    return shutil.get_terminal_size((160, 24)).columns


def main(argv: list[str] | None = None) -> None:
    """The console-script entry point (``promptlab``)."""
    command: Callable[..., Any] = app
    command(args=argv if argv is not None else sys.argv[1:], prog_name="promptlab")


if __name__ == "__main__":
    main()
