"""Run.report: one standalone HTML file (no network), escaped model text, a Markdown twin."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from promptlab.experiments.records import CellRecord
from promptlab.experiments.run import Run
from tests.experiments.run_fixtures import (
    MALICIOUS,
    main_experiment,
    main_records,
    sc_records,
    write_run,
)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = write_run(
        tmp_path_factory.mktemp("report") / "run", main_records() + sc_records(), main_experiment()
    )
    path = Run.load(directory).report(directory / "out" / "report.html")
    assert path == directory / "out" / "report.html"
    return path


def test_html_is_standalone(written: Path) -> None:
    text = written.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    # Nothing is fetched: no external src/href, no scripts, no stylesheets by URL.
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text, re.IGNORECASE)
    assert "<script" not in text.lower()
    assert "<link" not in text.lower()
    assert "@import" not in text


def test_html_holds_tables_and_plots(written: Path) -> None:
    text = written.read_text(encoding="utf-8")
    for heading in (
        "Summary (numeric)",
        "Comparisons (paired on task id)",
        "Quality, cost and latency",
        "Self-consistency",
        "Where the arms disagree",
        "Errors",
    ):
        assert f"<h2>{heading}</h2>" in text
    assert text.count("<table>") >= 5
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert len(images) == 4  # accuracy, cost, vote share, maj@k
    assert "mcnemar_exact" in text and "p_adjusted" in text
    assert "[0.108, 0.603]" in text  # plain/local's Wilson interval
    assert "unknown" in text  # cot/api's cost is not shown as $0


def test_model_output_is_escaped(written: Path) -> None:
    text = written.read_text(encoding="utf-8")
    assert MALICIOUS not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_markdown_twin_with_png_files(written: Path) -> None:
    markdown = written.with_suffix(".md").read_text(encoding="utf-8")
    assert markdown.startswith("# promptlab report: fixture")
    assert "| arm | provider | model | accuracy | 95% CI |" in markdown
    pngs = re.findall(r"\]\((report_[a-z_]+\.png)\)", markdown)
    assert sorted(pngs) == [
        "report_accuracy.png",
        "report_cost.png",
        "report_majority_at_k.png",
        "report_vote_share.png",
    ]
    for name in pngs:
        assert (written.parent / name).read_bytes().startswith(b"\x89PNG")
    assert MALICIOUS not in markdown
    assert "&lt;script&gt;" in markdown


def test_report_never_contains_secrets_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-should-never-appear")
    directory = write_run(tmp_path / "run", main_records(), main_experiment())
    path = Run.load(directory).report(directory / "report.html")
    for written_file in (path, path.with_suffix(".md")):
        assert "sk-should-never-appear" not in written_file.read_text(encoding="utf-8")


def test_report_of_a_single_arm_run_has_nothing_to_compare(tmp_path: Path) -> None:
    record = CellRecord(
        task_id="t1", arm="only", provider="local", model="m", repeat=0, scores={"exact": 1.0}
    )
    path = Run.load(write_run(tmp_path / "run", [record])).report(tmp_path / "run" / "r.html")
    text = path.read_text(encoding="utf-8")
    assert "there is nothing to compare" in text
    assert "Self-consistency" not in text
    assert (tmp_path / "run" / "r.md").exists()
