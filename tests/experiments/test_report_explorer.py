"""The report's explorer data, the run diff in the report and in the CLI, tables that fit.

What the page does with the data is checked in a real browser (tests/browser); here, what
the file holds.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from promptlab.experiments.analysis import Run
from promptlab.experiments.report._explorer import embedded_json
from promptlab.experiments.store import CellRecord
from tests.experiments.run_fixtures import (
    MALICIOUS,
    main_experiment,
    main_records,
    sc_records,
    write_run,
)
from tests.experiments.test_run_diff import after_records

CLOSING = "</script><script>window.__pwned = 1</script>"


def explorer_of(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    found = re.search(
        r'<script type="application/json" id="explorer-data">(.*?)</script>', text, re.DOTALL
    )
    assert found is not None
    data: dict[str, Any] = json.loads(found.group(1))
    return data


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("explorer")
    records = main_records() + sc_records()
    for record in records:
        if record.task_id == "t02" and record.arm == "cot" and record.provider == "local":
            record.outputs = [CLOSING]
            record.messages = [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": f"What is {MALICIOUS}?"},
            ]
            record.score_notes = {"numeric": "judge says: " + CLOSING}
    write_run(folder / "before", main_records(), main_experiment())
    write_run(folder / "after", records, main_experiment())
    return folder


@pytest.fixture(scope="module")
def single(folder: Path) -> Path:
    return Run.load(folder / "after").report(folder / "after" / "report.html")


@pytest.fixture(scope="module")
def diffed(folder: Path) -> Path:
    after = Run.load(write_run(folder / "after2", after_records(), main_experiment()))
    return after.report(folder / "diff.html", against=Run.load(folder / "before"))


def test_every_cell_is_in_the_explorer_with_its_details(single: Path) -> None:
    data = explorer_of(single)
    run = Run.load(single.parent)
    assert len(data["cells"]) == len(run.records)
    assert data["scorer"] == "numeric" and data["binary"] is True
    assert data["runs"] == ["after"]
    labels = [(c["arm"], c["provider"]) for c in data["columns"]]
    assert labels == [
        ("plain", "local"),
        ("plain", "api"),
        ("cot", "local"),
        ("cot", "api"),
        ("sc", "local"),
        ("single", "local"),
    ]
    tasks = {t["id"]: t for t in data["tasks"]}
    assert len(tasks) == 11
    t02 = tasks["t02"]
    assert t02["input"] == f"What is {MALICIOUS}?"  # the last user message, exactly
    cot_local = data["cells"][t02["cells"][2][0]]
    assert cot_local["samples"] == [{"text": CLOSING, "answer": "2", "finish": None}]
    assert cot_local["messages"][0] == {"role": "system", "content": "Be brief."}
    assert cot_local["notes"] == {"numeric": "judge says: " + CLOSING}
    sc = data["cells"][tasks["t01"]["cells"][4][0]]
    assert sc["votes"] == {"42": 2, "41": 1} and sc["confidence"] == pytest.approx(2 / 3)
    errored = data["cells"][tasks["t11"]["cells"][0][0]]
    assert errored["ok"] is False and errored["error"] == "ServerError: boom"
    cot_api_t10 = data["cells"][tasks["t10"]["cells"][3][0]]
    assert cot_api_t10["cost"] is None  # unknown, never a made-up 0


def test_model_text_cannot_close_the_data_element(single: Path) -> None:
    text = single.read_text(encoding="utf-8")
    assert CLOSING not in text and MALICIOUS not in text
    assert text.count("</script>") == 2  # the data element's and the code's own


def test_embedded_json_round_trips_and_has_no_markup() -> None:
    data = {"a": "</script><!-- & -->", "b": [1.5, None, "\u2028"]}
    text = embedded_json(data)
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == data
    with pytest.raises(ValueError):
        embedded_json({"nan": math.nan})  # never invalid JSON in the page


def test_unscored_and_non_finite_numbers_become_null(tmp_path: Path) -> None:
    record = CellRecord(
        task_id="t1",
        arm="a",
        provider="p",
        model="m",
        repeat=0,
        scores={"judge": math.nan},
        confidence=math.nan,
    )
    report = Run.load(write_run(tmp_path / "run", [record])).report(tmp_path / "r.html")
    cell = explorer_of(report)["cells"][0]
    assert cell["score"] is None and cell["scores"] == {"judge": None}
    assert cell["confidence"] is None


def test_the_page_states_its_size(single: Path) -> None:
    text = single.read_text(encoding="utf-8")
    found = re.search(r"<b>HTML report size:</b> (\d+) kB, (\d+) cells in the explorer", text)
    assert found is not None
    assert abs(int(found.group(1)) * 1000 - single.stat().st_size) <= 1000
    assert int(found.group(2)) == len(explorer_of(single)["cells"])


def comparison_header(text: str, heading: str) -> list[str]:
    found = re.search(rf"<h2>{re.escape(heading)}</h2>.*?<thead><tr>(.*?)</tr>", text, re.DOTALL)
    assert found is not None
    return re.findall(r"<th[^>]*>(.*?)</th>", found.group(1))


def test_comparison_verdict_comes_first_and_notes_go_under_the_row(single: Path) -> None:
    text = single.read_text(encoding="utf-8")
    columns = comparison_header(text, "Comparisons (paired on task id)")
    assert columns[:7] == [
        "provider",
        "arm_a",
        "arm_b",
        "diff",
        "95% CI of diff",
        "p_adjusted",
        "significant",
    ]
    assert "note" not in columns
    assert re.search(r'<tr class="note"><td colspan="\d+"><b>note:</b> [^<]*discordant', text)
    # The label columns stay in view when a wide table scrolls.
    assert '<th class="frozen">provider</th><th class="frozen">arm_a</th>' in text


def test_report_against_another_run_opens_with_the_diff(diffed: Path) -> None:
    text = diffed.read_text(encoding="utf-8")
    assert "(against before)" in text
    heading = "Run diff: after2 against before"
    assert text.index(f"<h2>{heading}</h2>") < text.index("<h2>Summary (numeric)</h2>")
    columns = comparison_header(text, heading)
    assert columns[:10] == [
        "arm",
        "provider",
        "against",
        "improved",
        "regressed",
        "same",
        "diff",
        "95% CI of diff",
        "p_adjusted",
        "significant",
    ]
    row = re.search(rf"<h2>{re.escape(heading)}</h2>.*?<tbody><tr>(.*?)</tr>", text, re.DOTALL)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))
    assert cells[:6] == ["plain", "local", "same arm · provider", "6", "1", "3"]
    markdown = diffed.with_suffix(".md").read_text(encoding="utf-8")
    assert f"## {heading}" in markdown


def test_the_diff_explorer_puts_each_run_beside_the_other(diffed: Path) -> None:
    data = explorer_of(diffed)
    assert data["runs"] == ["after2", "before"]
    columns = data["columns"]
    assert [(c["arm"], c["provider"], c["run"]) for c in columns[:2]] == [
        ("plain", "local", 0),
        ("plain", "local", 1),
    ]
    assert columns[0]["match"] == 1 and columns[1]["match"] == 0
    tasks = {t["id"]: t for t in data["tasks"]}
    assert tasks["t04"]["change"][0] == "improved"
    assert tasks["t01"]["change"][0] == "regressed"
    assert tasks["t02"]["change"][0] == "same"
    assert tasks["t04"]["change"][1] is None  # changes sit on this run's column


def promptlab(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "promptlab.cli", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_report_against_another_run(folder: Path) -> None:
    result = promptlab("report", "after", "--against", "before", "--out", "cli.html", cwd=folder)
    assert result.returncode == 0, result.stderr
    text = (folder / "cli.html").read_text(encoding="utf-8")
    assert "<h2>Run diff: after against before</h2>" in text
    missing = promptlab("report", "after", "--against", "nowhere", cwd=folder)
    assert missing.returncode == 2
    assert "nowhere: no such run directory" in missing.stderr + missing.stdout
