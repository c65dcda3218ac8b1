"""vLLM batch files: export an experiment's requests, import the results, run from the cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptlab.errors import ConfigurationError, DataError
from promptlab.experiments.experiment import Experiment
from promptlab.providers.cache import ResponseCache
from promptlab.strategies import SelfConsistency, ZeroShot
from promptlab.testing.stub_payloads import default_reply, openai_completion

# Nothing listens on port 9: a call would fail, so a passing run made none.
VLLM = "vllm:my-model@http://127.0.0.1:9/v1"


def experiment(provider: str = VLLM) -> Experiment:
    return Experiment(
        arms={"zs": ZeroShot(), "sc": SelfConsistency(ZeroShot(), n=3, temperature=0.7)},
        providers={"v": provider},
        tasks=[{"id": f"t{i}", "question": f"q{i}?", "answer": "42"} for i in range(3)],
        scorers=["exact"],
    )


def run_like_vllm(requests: Path, results: Path, fail: int = 0) -> None:
    """What ``vllm run-batch`` writes: one output line per input line, by custom_id."""
    lines = []
    for number, raw in enumerate(requests.read_text().splitlines()):
        line = json.loads(raw)
        if number < fail:
            response = {"status_code": 400, "body": {"error": {"message": "bad"}}}
        else:
            body = openai_completion(line["body"], default_reply, f"r{number}", 0)
            response = {"status_code": 200, "request_id": f"r{number}", "body": body}
        lines.append({"id": f"vllm-{number}", "custom_id": line["custom_id"],
                      "response": response, "error": None})  # fmt: skip
    results.write_text("".join(json.dumps(line) + "\n" for line in reversed(lines)))


def test_export_run_elsewhere_import_then_run_makes_no_calls(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache")
    exp = experiment()
    requests, results = tmp_path / "requests.jsonl", tmp_path / "results.jsonl"
    assert exp.export_batch_file("v", requests, cache=cache) == 6  # 3 zs + 3 sc (native n)
    first = json.loads(requests.read_text().splitlines()[0])
    assert first["method"] == "POST" and first["url"] == "/v1/chat/completions"
    run_like_vllm(requests, results)
    assert exp.import_batch_results("v", requests, results, cache=cache) == 6
    cells = exp.run(tmp_path / "run", cache=cache, progress=False).cells
    assert cells["ok"].all() and cells["cached"].all() and len(cells) == 6
    assert exp.export_batch_file("v", tmp_path / "again.jsonl", cache=cache) == 0


def test_failed_results_are_reported_and_not_stored(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache")
    exp = experiment()
    requests, results = tmp_path / "requests.jsonl", tmp_path / "results.jsonl"
    exp.export_batch_file("v", requests, cache=cache)
    run_like_vllm(requests, results, fail=2)
    with pytest.warns(UserWarning, match="2 result"):
        assert exp.import_batch_results("v", requests, results, cache=cache) == 4


def test_results_of_another_file_and_wrong_providers_are_errors(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache")
    exp = experiment()
    requests, results = tmp_path / "requests.jsonl", tmp_path / "results.jsonl"
    exp.export_batch_file("v", requests, cache=cache)
    results.write_text(json.dumps({"custom_id": "nope", "response": {}}) + "\n")
    with pytest.raises(DataError, match="custom_id 'nope' is not a request"):
        exp.import_batch_results("v", requests, results, cache=cache)
    with pytest.raises(ConfigurationError, match="is a FakeProvider; batch files"):
        experiment("fake:x").export_batch_file("v", requests)
    with pytest.raises(ConfigurationError, match="'w' is not one of the experiment's"):
        exp.export_batch_file("w", requests)


def test_the_cli_exports_and_imports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from promptlab.cli import app

    monkeypatch.setenv("PROMPTLAB_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "tasks.jsonl").write_text(
        json.dumps({"id": "a", "question": "x", "answer": "1"}) + "\n"
    )
    (tmp_path / "e.yaml").write_text(
        "tasks: tasks.jsonl\nscorers: [exact]\narms: {zs: {strategy: zero_shot}}\n"
        f"providers: {{v: '{VLLM}'}}\n"
    )
    cli = CliRunner()
    requests, results = tmp_path / "r.jsonl", tmp_path / "o.jsonl"
    exported = cli.invoke(
        app, ["export-batch", str(tmp_path / "e.yaml"), "--provider", "v", "-o", str(requests)]
    )
    assert exported.exit_code == 0 and "1 requests written" in exported.output, exported.output
    run_like_vllm(requests, results)
    args = ["import-batch", str(tmp_path / "e.yaml"), str(requests), str(results)]
    imported = cli.invoke(app, [*args, "--provider", "v"])
    assert imported.exit_code == 0 and "1 results stored" in imported.output, imported.output
