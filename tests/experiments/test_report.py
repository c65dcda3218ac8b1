"""Run.report: one standalone HTML file (no network), escaped model text, a Markdown twin."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from promptlab.experiments.analysis import Run
from promptlab.experiments.store import CellRecord
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
    # Nothing is fetched: no external src/href, no stylesheets by URL, and the only
    # scripts are inline: the explorer's code and its data (JSON, never run).
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text, re.IGNORECASE)
    assert not re.search(r"<script[^>]*\bsrc\s*=", text, re.IGNORECASE)
    scripts = re.findall(r"<script([^>]*)>", text, re.IGNORECASE)
    assert scripts == [' type="application/json" id="explorer-data"', ""]
    assert "<link" not in text.lower()
    assert "@import" not in text
    assert "fetch(" not in text and "XMLHttpRequest" not in text


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
    assert len(re.findall(r"<table[ >]", text)) >= 5
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    # accuracy, the comparisons' forest plot, cost, latency, vote share, maj@k
    assert len(images) == 6
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
        "report_comparisons.png",
        "report_cost.png",
        "report_latency.png",
        "report_majority_at_k.png",
        "report_vote_share.png",
    ]
    for name in pngs:
        assert (written.parent / name).read_bytes().startswith(b"\x89PNG")
    assert MALICIOUS not in markdown
    assert "&lt;script&gt;" in markdown


async def test_a_providers_api_key_reaches_no_file_of_the_run_or_its_report(
    tmp_path: Path,
) -> None:
    # A real run through the OpenAI SDK against the local stub server: the key is in the
    # provider, so a provider description, fingerprint or repr that kept it would leak it.
    from promptlab.experiments.experiment import Experiment
    from promptlab.providers.openai import OpenAIProvider
    from promptlab.strategies import ZeroShot
    from promptlab.testing.stub_server import StubServer

    secret = "sk-should-never-appear-0123456789"
    directory = tmp_path / "run"
    async with StubServer() as srv:
        provider = OpenAIProvider("stub-model", api_key=secret, base_url=srv.base_url)
        experiment = Experiment(
            arms={"plain": ZeroShot()},
            providers={"stub": provider},
            tasks=[{"id": "t1", "question": "What is 6*7?", "answer": "42"}],
            scorers=["exact"],
        )
        run = await experiment.arun(directory, cache=tmp_path / "cache", progress=False)
        await provider.aclose()
    assert srv.stats.total_requests == 1  # the run really called the provider
    report = run.report(directory / "report.html")
    files = [f for f in tmp_path.rglob("*") if f.is_file()]
    assert report in files and report.with_suffix(".md") in files
    assert (directory / "cells.jsonl") in files and (directory / "experiment.json") in files
    leaks = [str(f) for f in files if secret.encode() in f.read_bytes()]
    assert not leaks


def test_report_of_a_single_arm_run_has_nothing_to_compare(tmp_path: Path) -> None:
    record = CellRecord(
        task_id="t1", arm="only", provider="local", model="m", repeat=0, scores={"exact": 1.0}
    )
    path = Run.load(write_run(tmp_path / "run", [record])).report(tmp_path / "run" / "r.html")
    text = path.read_text(encoding="utf-8")
    assert "there is nothing to compare" in text
    assert "Self-consistency" not in text
    assert (tmp_path / "run" / "r.md").exists()


def test_report_shows_truncated_samples(tmp_path: Path) -> None:
    def record(task: str, reasons: list[str]) -> CellRecord:
        return CellRecord(
            task_id=task,
            arm="cot",
            provider="local",
            model="m",
            repeat=0,
            outputs=["..."] * len(reasons),
            expected="4",
            answers=[None if r == "length" else "4" for r in reasons],
            finish_reasons=reasons,
            scores={"exact": 1.0},
        )

    records = [record("t1", ["length", "stop"]), record("t2", ["length", "length"])]
    path = Run.load(write_run(tmp_path / "run", records)).report(tmp_path / "run" / "r.html")
    text = path.read_text(encoding="utf-8")
    assert "<b>Truncated samples:</b> 3 of 4 cut off by the token limit" in text
    header = re.search(r"<h2>Summary \(exact\)</h2>.*?<thead><tr>(.*?)</tr>", text, re.DOTALL)
    assert header is not None
    columns = re.findall(r"<th[^>]*>(.*?)</th>", header.group(1))
    row = re.search(r"<tbody><tr>(.*?)</tr>", text[header.end() :], re.DOTALL)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))
    assert cells[columns.index("truncated")] == "3"
    markdown = (tmp_path / "run" / "r.md").read_text(encoding="utf-8")
    assert "**Truncated samples:** 3 of 4 cut off" in markdown


def test_report_of_self_consistency_cells_without_expected_answers(tmp_path: Path) -> None:
    # maj@k needs expected answers; a run without them still gets its report.
    record = CellRecord(
        task_id="t1",
        arm="sc",
        provider="local",
        model="m",
        repeat=0,
        outputs=["a", "b"],
        answers=["x", "y"],
        answer="x",
        votes={"x": 1, "y": 1},
        confidence=0.5,
        scores={"judge": 1.0},
    )
    path = Run.load(write_run(tmp_path / "run", [record])).report(tmp_path / "run" / "r.html")
    text = path.read_text(encoding="utf-8")
    assert "<h2>Self-consistency</h2>" in text and "<h3>maj@k</h3>" not in text


def test_report_of_a_run_where_an_arm_scores_zero(tmp_path: Path) -> None:
    # 0 of 7 once gave a Wilson lower bound of 2.8e-17 and a negative error bar, which
    # matplotlib refuses: the report crashed for any arm that got every task wrong.
    records = [
        CellRecord(
            task_id=f"t{i}",
            arm=arm,
            provider="local",
            model="m",
            repeat=0,
            scores={"exact": 0.0 if arm == "bad" else 1.0},
        )
        for i in range(7)
        for arm in ("bad", "good")
    ]
    path = Run.load(write_run(tmp_path / "run", records)).report(tmp_path / "run" / "r.html")
    assert "<h2>Summary (exact)</h2>" in path.read_text(encoding="utf-8")
