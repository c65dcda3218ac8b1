"""The ``promptlab`` command, run as a real subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

EXPERIMENT = """\
name: cli_demo
tasks: tasks.jsonl
providers:
  fake: {{provider: "fake:Step by step. Answer: 3", options: {{latency: {latency}}}}}
scorers: [numeric]
concurrency: 2
arms:
  zero_shot: {{strategy: zero_shot, extractor: numeric, params: {{max_tokens: 32}}}}
  cot: {{strategy: chain_of_thought, extractor: numeric, params: {{max_tokens: 64}}}}
"""


def promptlab(
    *args: str | Path, cwd: Path, timeout: float = 120, columns: int | None = None
) -> subprocess.CompletedProcess[str]:
    env = environment(cwd)
    if columns is not None:
        env["COLUMNS"] = str(columns)  # the terminal width rich and shutil read
    return subprocess.run(
        [sys.executable, "-m", "promptlab.cli", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def environment(folder: Path) -> dict[str, str]:
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, "PROMPTLAB_CACHE_DIR": str(folder / "cache")}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    rows = [{"id": f"t{i}", "question": f"What is {i} + 3?", "answer": 3 if i == 0 else i + 3}
            for i in range(6)]  # fmt: skip
    (tmp_path / "tasks.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "exp.yaml").write_text(EXPERIMENT.format(latency=0))
    return tmp_path


def test_help_describes_every_command_and_option(folder: Path) -> None:
    top = promptlab("--help", cwd=folder)
    assert top.returncode == 0
    for command in ("run", "report", "compare"):
        assert command in top.stdout
    run_help = promptlab("run", "--help", cwd=folder)
    assert run_help.returncode == 0
    for option in ("--out", "--concurrency", "--no-cache", "--refresh-cache", "--report"):
        assert option in run_help.stdout
    assert "resumes" in run_help.stdout and "Bypass the response cache" in run_help.stdout
    assert "HTML report" in promptlab("report", "--help", cwd=folder).stdout
    assert "paired on task id" in promptlab("compare", "--help", cwd=folder).stdout


def test_run_then_report_then_compare(folder: Path) -> None:
    result = promptlab("run", "exp.yaml", "--out", "out", "--report", "out/report.html", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert "Summary" in result.stdout and "zero_shot" in result.stdout
    assert "mcnemar" in result.stdout  # the comparison of the two arms
    cells = (folder / "out" / "cells.jsonl").read_text().splitlines()
    assert len(cells) == 12
    assert (folder / "out" / "report.html").stat().st_size > 1000

    again = promptlab("run", "exp.yaml", "--out", "again", cwd=folder)
    assert again.returncode == 0, again.stderr
    assert all(json.loads(line)["cached"] for line in (folder / "again" / "cells.jsonl").open())

    report = promptlab("report", "out", "--out", "elsewhere.html", cwd=folder)
    assert report.returncode == 0, report.stderr
    assert (folder / "elsewhere.html").exists()

    compare = promptlab("compare", "out", "zero_shot", "cot", cwd=folder)
    assert compare.returncode == 0, compare.stderr
    assert "zero_shot vs cot" in compare.stdout and "mcnemar" in compare.stdout


def test_commands_that_read_a_run_directory_share_its_argument_and_scorer_option(
    folder: Path,
) -> None:
    # report, summary and compare take the same RUN_DIR and --scorer, with the same meaning.
    two_scorers = "[numeric, {type: contains, value: step, target: text, name: says_step}]"
    experiment = EXPERIMENT.format(latency=0).replace("[numeric]", two_scorers)
    (folder / "exp.yaml").write_text(experiment)
    assert promptlab("run", "exp.yaml", "--out", "out", "--no-progress", cwd=folder).returncode == 0
    report = promptlab("report", "out", "--scorer", "says_step", cwd=folder)
    assert report.returncode == 0, report.stderr
    assert "## Summary (says_step)" in (folder / "out" / "report.md").read_text()
    summary = promptlab("summary", "out", "--scorer", "says_step", cwd=folder)
    assert summary.returncode == 0, summary.stderr
    assert "1.000" in summary.stdout and "0.167" not in summary.stdout  # numeric would be 1/6
    for command in (["report", "out"], ["summary", "out"], ["compare", "out", "zero_shot", "cot"]):
        wrong = promptlab(*command, "--scorer", "nope", cwd=folder)
        assert wrong.returncode == 2, command
        assert "scorer='nope' is not in this run" in wrong.stderr, command
        missing = promptlab(command[0], "nowhere", *command[2:], cwd=folder)
        assert missing.returncode == 2 and "no such run directory" in missing.stderr, command
        assert "holding cells.jsonl" in promptlab(command[0], "--help", cwd=folder).stdout


def test_default_run_directory_is_runs_slash_name(folder: Path) -> None:
    result = promptlab("run", "exp.yaml", "--no-cache", "--no-progress", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert (folder / "runs" / "cli_demo" / "cells.jsonl").exists()
    assert not (folder / "cache").exists()  # --no-cache stores nothing


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("run", "bad.yaml"), "arms.cot.params.temperature"),
        (("run", "missing.yaml"), "no such experiment file"),
        (("run", "broken_tasks.yaml"), "line 2, field 'answer'"),
        (("compare", "nowhere", "a", "b"), "no such run directory"),
    ],
)
def test_config_and_data_errors_exit_2_without_a_traceback(
    folder: Path, args: tuple[str, ...], expected: str
) -> None:
    bad = EXPERIMENT.format(latency=0).replace("max_tokens: 64", "max_tokens: 64, temperature: -2")
    (folder / "bad.yaml").write_text(bad)
    (folder / "broken.jsonl").write_text('{"question": "a", "answer": 1}\n{"question": "b"}\n')
    broken = EXPERIMENT.format(latency=0).replace("tasks.jsonl", "broken.jsonl")
    (folder / "broken_tasks.yaml").write_text(broken)
    result = promptlab(*args, cwd=folder)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_unknown_arm_in_compare_exits_2(folder: Path) -> None:
    assert promptlab("run", "exp.yaml", "--out", "out", cwd=folder).returncode == 0
    result = promptlab("compare", "out", "zero_shot", "tree", cwd=folder)
    assert result.returncode == 2
    assert "known arms" in result.stderr and "Traceback" not in result.stderr


def test_ctrl_c_stops_cleanly_with_exit_130_and_the_run_resumes(folder: Path) -> None:
    (folder / "slow.yaml").write_text(EXPERIMENT.format(latency=0.2))
    rows = [{"id": f"t{i}", "question": f"{i}?", "answer": i} for i in range(40)]
    (folder / "tasks.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    process = subprocess.Popen(
        [sys.executable, "-m", "promptlab.cli", "run", "slow.yaml", "--out", "out", "--no-cache"],
        cwd=folder,
        env=environment(folder),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    cells = folder / "out" / "cells.jsonl"
    deadline = time.monotonic() + 60
    while not cells.exists() or len(cells.read_text().splitlines()) < 4:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no cells were written"
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "resume" in stderr
    saved = [json.loads(line) for line in cells.read_text().splitlines()]
    assert 4 <= len(saved) < 80
    assert all(cell["error"] is None for cell in saved)  # cancelled cells are not recorded

    finish = promptlab("run", "exp.yaml", "--out", "out", "--no-cache", cwd=folder)
    # exp.yaml is the same experiment without latency: only the missing cells run.
    assert finish.returncode == 0, finish.stderr
    ids = [
        (c["task_id"], c["arm"])
        for c in map(json.loads, cells.read_text().splitlines())
        if c["error"] is None
    ]
    assert len(ids) == len(set(ids)) == 80


def test_a_changed_definition_exits_2_and_fresh_starts_over(folder: Path) -> None:
    assert promptlab("run", "exp.yaml", "--out", "out", cwd=folder).returncode == 0
    edited = EXPERIMENT.format(latency=0).replace("max_tokens: 64", "max_tokens: 65")
    (folder / "exp.yaml").write_text(edited)
    refused = promptlab("run", "exp.yaml", "--out", "out", cwd=folder)
    assert refused.returncode == 2, refused.stderr
    assert "arm 'cot' is defined differently" in refused.stderr
    assert "params.max_tokens: 64 -> 65" in refused.stderr and "--fresh" in refused.stderr
    assert "Traceback" not in refused.stderr

    fresh = promptlab("run", "exp.yaml", "--out", "out", "--fresh", cwd=folder)
    assert fresh.returncode == 0, fresh.stderr
    assert "cells.jsonl.bak-" in fresh.stderr
    assert len(list((folder / "out").glob("cells.jsonl.bak-*"))) == 1
    assert len((folder / "out" / "cells.jsonl").read_text().splitlines()) == 12
    assert "--fresh" in promptlab("run", "--help", cwd=folder).stdout


def test_tables_drop_all_zero_columns_and_show_markup_in_names_as_text(folder: Path) -> None:
    experiment = EXPERIMENT.format(latency=0).replace("  cot:", '  "[bold]cot[/bold]":')
    (folder / "exp.yaml").write_text(experiment)
    assert promptlab("run", "exp.yaml", "--out", "out", "--no-progress", cwd=folder).returncode == 0
    summary = promptlab("summary", "out", cwd=folder)
    assert summary.returncode == 0, summary.stderr
    # An arm name is data: rich must not read it as markup and swallow the brackets.
    assert "[bold]cot[/bold]" in summary.stdout
    # No errors, unscored or truncated cells here: those columns would only be zeros.
    header = summary.stdout.splitlines()[2]
    assert "errors" not in header and "truncated" not in header
    assert "interval: wilson" in summary.stdout  # one method for every row: in the title


def test_one_comparison_prints_a_field_per_line(folder: Path) -> None:
    assert promptlab("run", "exp.yaml", "--out", "out", "--no-progress", cwd=folder).returncode == 0
    compared = promptlab("compare", "out", "zero_shot", "cot", cwd=folder)
    assert compared.returncode == 0, compared.stderr
    lines = {
        line.split("│")[1].strip(): line for line in compared.stdout.splitlines() if "│" in line
    }
    assert {"verdict", "pairs", "diff", "p (Holm)", "p", "correlation"} <= set(lines)
    assert "6" in lines["pairs"]


def test_tables_fit_a_100_column_terminal_with_whole_headers(folder: Path) -> None:
    experiment = EXPERIMENT.format(latency=0).replace("  cot:", "  chain_of_thought:")
    third = "  short_answer: {strategy: zero_shot, extractor: numeric, params: {max_tokens: 8}}\n"
    (folder / "exp.yaml").write_text(experiment + third)  # three arms: a comparison table
    assert promptlab("run", "exp.yaml", "--out", "out", "--no-progress", cwd=folder).returncode == 0
    narrow = promptlab("summary", "out", cwd=folder, columns=100)
    assert narrow.returncode == 0, narrow.stderr
    lines = narrow.stdout.splitlines()
    assert max(map(len, lines)) <= 100
    # Each table's header is one line (┃ ... ┃ between the ┏ and ┡ rules), every title whole.
    tops = [i for i, line in enumerate(lines) if line.startswith("┏")]
    assert len(tops) == 2 and all(lines[i + 2].startswith("┡") for i in tops)
    summary_header, comparison_header = (cells(lines[i + 1]) for i in tops)
    assert summary_header[:4] == ["arm", "accuracy", "95% CI", "n"]
    assert comparison_header[:6] == ["arm A", "arm B", "verdict", "diff", "95% CI", "p (Holm)"]
    # Names and intervals stay whole too; only a verdict may wrap between its words.
    assert any("│ chain_of_thought │ short_answer" in line for line in lines)
    # --wide: every column, however long the lines.
    wide = promptlab("summary", "out", "--wide", cwd=folder, columns=100)
    assert wide.returncode == 0, wide.stderr
    assert max(map(len, wide.stdout.splitlines())) > 100
    tops = [line for line in wide.stdout.splitlines() if line.startswith("┃")]
    assert {"only A right", "test", "correlation"} <= set(cells(tops[1]))


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip("┃│").split("┃" if "┃" in line else "│")]
