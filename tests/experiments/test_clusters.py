"""Tasks that come in clusters: cluster-bootstrap intervals in Run (issue 8, item 9)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from promptlab.completion import CompletionRequest
from promptlab.errors import DataError
from promptlab.experiments.analysis import Run
from promptlab.experiments.experiment import Experiment
from promptlab.experiments.tasks import Task, TaskSet
from promptlab.strategies import ZeroShot
from promptlab.testing import FakeProvider


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMPTLAB_CACHE_DIR", str(tmp_path / "default-cache"))


def passage_tasks() -> list[dict[str, object]]:
    """6 passages x 4 questions; the answer is 1 on passages p0..p2 and 2 on p3..p5."""
    return [
        {"id": f"q{p}{i}", "passage": f"p{p}", "question": f"Q{i} on p{p}?", "answer": 1 + p // 3}
        for p in range(6)
        for i in range(4)
    ]


def obey_the_system_prompt(request: CompletionRequest) -> str:
    return f"Answer: {request.messages[0].content.removeprefix('Always say ').rstrip('.')}"


def clustered_run(out: Path, cluster_field: str | None = "passage") -> Run:
    # "always1" is right on p0..p2 and wrong on p3..p5: its errors come in whole passages.
    arms = {
        name: ZeroShot(extractor="numeric", system=f"Always say {name[-1]}.")
        for name in ("always1", "always2")
    }
    return Experiment(
        arms=arms,
        providers={"fake": FakeProvider(obey_the_system_prompt)},
        tasks=TaskSet.from_records(passage_tasks(), cluster_field=cluster_field),
        scorers=["numeric"],
        seed=3,
    ).run(out, cache=False, progress=False)


def test_a_task_set_names_its_clusters() -> None:
    tasks = TaskSet.from_records(passage_tasks(), cluster_field="passage")
    assert tasks.cluster_field == "passage"
    assert [t.cluster for t in tasks[:5]] == ["p0", "p0", "p0", "p0", "p1"]
    assert tasks[0].inputs["passage"] == "p0"  # the field stays a template input
    assert tasks[:2].cluster_field == "passage"
    built = TaskSet([Task("a", {"doc": "d1"}), Task("b", {"doc": "d2"})], cluster_field="doc")
    assert [t.cluster for t in built] == ["d1", "d2"]
    with pytest.raises(DataError, match="cluster field 'passage' is missing") as error:
        TaskSet.from_records([{"question": "q", "answer": 1}], cluster_field="passage")
    assert error.value.line == 1


def test_summary_and_compare_use_the_cluster_bootstrap_and_say_so(tmp_path: Path) -> None:
    run = clustered_run(tmp_path / "run")
    stored = json.loads((tmp_path / "run" / "experiment.json").read_text())
    assert stored["tasks"]["cluster_field"] == "passage"
    assert stored["tasks"]["clusters"]["q31"] == "p3"
    assert run.clusters is not None and run.clusters["q00"] == "p0"
    summary = run.summary()
    assert summary["ci_method"].tolist() == ["cluster_bootstrap", "cluster_bootstrap"]
    compared = run.compare("always1", "always2")
    assert compared["ci_method"].tolist() == ["cluster_bootstrap"]
    assert "cluster bootstrap over 6 clusters" in compared["note"].iloc[0]
    assert run.compare_all()["ci_method"].tolist() == ["cluster_bootstrap"]
    # Reloaded from disk, the run still knows its clusters.
    assert Run.load(tmp_path / "run").summary()["ci_method"].iloc[0] == "cluster_bootstrap"
    report = run.report(tmp_path / "report.html").read_text(encoding="utf-8")
    assert report.count("cluster_bootstrap") >= 3  # two summary rows and the comparison

    naive = clustered_run(tmp_path / "naive", cluster_field=None)
    assert naive.clusters is None
    naive_summary = naive.summary()
    assert naive_summary["ci_method"].tolist() == ["wilson", "wilson"]
    assert naive.compare("always1", "always2")["ci_method"].tolist() == ["paired_bootstrap"]
    # Whole passages right or wrong together: the honest interval is much wider.
    width = (summary["ci_high"] - summary["ci_low"]).iloc[0]
    naive_width = (naive_summary["ci_high"] - naive_summary["ci_low"]).iloc[0]
    assert width > 1.5 * naive_width


def test_compare_reports_the_per_task_correlation(tmp_path: Path) -> None:
    run = clustered_run(tmp_path / "run", cluster_field=None)
    pairs = run.scored().pivot(index="task_id", columns="arm", values="score").sort_index()
    expected = float(np.corrcoef(pairs["always1"], pairs["always2"])[0, 1])
    row = run.compare("always1", "always2").iloc[0]
    assert row["correlation"] == pytest.approx(expected)
    assert row["correlation"] == pytest.approx(-1.0)  # exactly one arm is right on each task


def test_experiment_file_takes_a_cluster_field(tmp_path: Path) -> None:
    (tmp_path / "tasks.jsonl").write_text("".join(json.dumps(t) + "\n" for t in passage_tasks()))
    spec = """\
        tasks: {path: tasks.jsonl, cluster_field: passage}
        providers: {fake: "fake:Answer: 1"}
        scorers: [numeric]
        arms: {zs: {strategy: zero_shot, extractor: numeric}}
    """
    (tmp_path / "exp.yaml").write_text(textwrap.dedent(spec))
    experiment = Experiment.from_yaml(tmp_path / "exp.yaml")
    assert experiment.tasks.cluster_field == "passage"
    assert experiment.describe()["tasks"]["clusters"]["q50"] == "p5"
