"""Run.export_finetuning and ``promptlab export-finetuning``: OpenAI chat JSONL from a run."""

from __future__ import annotations

import json
import math
import re
import types
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from promptlab.cli import app
from promptlab.completion import CompletionRequest
from promptlab.errors import ConfigurationError, MissingDependencyError
from promptlab.experiments.analysis import Run, _finetuning as finetuning, format_problem
from promptlab.experiments.experiment import Experiment
from promptlab.experiments.store import CellRecord
from promptlab.strategies import FewShot, ZeroShot
from promptlab.testing import FakeProvider

TASKS = [{"id": f"t{i}", "question": f"What is {i} + 1?", "answer": i + 1} for i in range(6)]
SHOTS = [{"question": "What is 10 + 10?", "answer": "20"}]


def replies(request: CompletionRequest) -> str:
    """Right on even tasks, wrong on odd ones."""
    number = int(re.findall(r"What is (\d+) \+ 1\?", request.messages[-1].content)[-1])
    return f"Answer: {number + 1}" if number % 2 == 0 else "Answer: 0"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, FakeProvider]:
    fake = FakeProvider(replies)
    experiment = Experiment(
        {"zero": ZeroShot(extractor="numeric"), "shots": FewShot(SHOTS, extractor="numeric")},
        {"fake": fake, "other": FakeProvider(["Answer: 0"], cycle=True)},
        TASKS,
        ["numeric"],
        repeats=2,
    )
    folder = tmp_path_factory.mktemp("finetune")
    return experiment.run(folder / "run", progress=False, cache=False), fake


@pytest.fixture(autouse=True)
def no_tiktoken(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if tiktoken were not installed (it downloads encoding files); some tests fake it."""
    monkeypatch.setattr(finetuning, "_tiktoken", lambda: None)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_file_is_valid_openai_chat_data_with_the_prompts_sent(
    run: tuple[Run, FakeProvider], tmp_path: Path
) -> None:
    result, fake = run
    report = result.export_finetuning(tmp_path / "train.jsonl", arm="shots", provider="fake")
    rows = lines(tmp_path / "train.jsonl")
    assert len(rows) == report.examples == 3  # tasks t0, t2, t4; the repeats are duplicates
    sent = {
        tuple((m.role, m.content) for m in request.messages)
        for request in fake.requests
        if "10 + 10" in request.messages[0].content
    }
    for row in rows:
        assert set(row) == {"messages"}
        assert format_problem(row["messages"]) is None
        *prompt, reply = row["messages"]
        assert reply["role"] == "assistant" and reply["content"].startswith("Answer: ")
        assert tuple((m["role"], m["content"]) for m in prompt) in sent  # exactly as sent
    assert report.task_ids == ("t0", "t2", "t4")
    assert report.skipped == {"incorrect": 6, "duplicate example": 3}


def test_only_correct_can_be_turned_off(run: tuple[Run, FakeProvider], tmp_path: Path) -> None:
    result, _ = run
    report = result.export_finetuning(
        tmp_path / "all.jsonl", arm="zero", provider="fake", only_correct=False
    )
    assert report.examples == 6 and report.skipped == {"duplicate example": 6}
    replies = [row["messages"][-1]["content"] for row in lines(tmp_path / "all.jsonl")]
    assert replies.count("Answer: 0") == 3
    assert any("wrong replies are included" in warning for warning in report.warnings)


def test_gold_answers_for_every_task(run: tuple[Run, FakeProvider], tmp_path: Path) -> None:
    result, _ = run
    report = result.export_finetuning(
        tmp_path / "gold.jsonl",
        arm="zero",
        provider="other",
        use="gold",
        gold_format="Answer: {answer}",
    )
    rows = lines(tmp_path / "gold.jsonl")
    assert report.examples == 6  # every task: only_correct defaults to False with gold
    assert [row["messages"][-1]["content"] for row in rows] == [
        f"Answer: {i + 1}" for i in range(6)
    ]
    only_right = result.export_finetuning(
        None, arm="zero", provider="fake", use="gold", only_correct=True
    )
    assert only_right.task_ids == ("t0", "t2", "t4") and only_right.path is None


def test_task_ids_restrict_to_a_training_split(run: tuple[Run, FakeProvider]) -> None:
    result, _ = run
    report = result.export_finetuning(
        None, arm="zero", provider="fake", use="gold", task_ids=["t1", "t2"]
    )
    assert report.task_ids == ("t1", "t2")


def test_token_counts_with_the_documented_estimate(run: tuple[Run, FakeProvider]) -> None:
    result, _ = run  # tiktoken is not importable here (the no_tiktoken fixture)
    report = result.export_finetuning(None, arm="zero", provider="fake")
    assert report.tokenizer.startswith("estimate: 1 token per 4 characters")
    rows = [
        [*r.messages, {"role": "assistant", "content": r.outputs[0]}]
        for r in result.records
        if r.arm == "zero" and r.provider == "fake" and r.repeat == 0 and r.scores["numeric"]
    ]
    by_hand = [
        3 + sum(3 + math.ceil(len(m["role"]) / 4) + math.ceil(len(m["content"]) / 4) for m in row)
        for row in rows
    ]
    assert (report.tokens, report.max_tokens) == (sum(by_hand), max(by_hand))


def test_token_counts_with_tiktoken_or_a_custom_tokenizer(
    run: tuple[Run, FakeProvider], monkeypatch: pytest.MonkeyPatch
) -> None:
    result, _ = run
    words = result.export_finetuning(None, arm="zero", provider="fake", tokenizer=str.split)
    assert words.tokenizer == "custom"

    class Encoding:
        def encode(self, text: str, disallowed_special: Any = ()) -> list[int]:
            return [0] * len(text.split())

    fake_tiktoken = types.SimpleNamespace(get_encoding=lambda name: Encoding())
    monkeypatch.setattr(finetuning, "_tiktoken", lambda: fake_tiktoken)
    counted = result.export_finetuning(None, arm="zero", provider="fake")
    assert counted.tokenizer == "tiktoken:o200k_base"
    assert counted.tokens == words.tokens  # both count words here

    def offline(name: str) -> Any:
        raise ConnectionError("no network")

    offline_tiktoken = types.SimpleNamespace(get_encoding=offline)
    monkeypatch.setattr(finetuning, "_tiktoken", lambda: offline_tiktoken)
    fallback = result.export_finetuning(None, arm="zero", provider="fake")
    assert "could not load o200k_base: ConnectionError" in fallback.tokenizer
    with pytest.raises(ConfigurationError, match="cannot load the encoding 'cl100k_base'"):
        result.export_finetuning(None, arm="zero", provider="fake", tokenizer="cl100k_base")
    monkeypatch.setattr(finetuning, "_tiktoken", lambda: None)
    with pytest.raises(MissingDependencyError, match=r"promptlab\[finetuning\]"):
        result.export_finetuning(None, arm="zero", provider="fake", tokenizer="cl100k_base")


def test_as_a_datasets_dataset(run: tuple[Run, FakeProvider]) -> None:
    result, _ = run
    report = result.export_finetuning(None, arm="shots", provider="fake", as_dataset=True)
    assert report.dataset.num_rows == report.examples == 3
    assert report.dataset.column_names == ["messages"]
    assert report.dataset[0]["messages"][-1]["role"] == "assistant"


def test_bad_arguments_are_clear_errors(run: tuple[Run, FakeProvider], tmp_path: Path) -> None:
    result, _ = run
    with pytest.raises(ConfigurationError, match=r"arm: 'cot' is not in this run; .*'zero'"):
        result.export_finetuning(None, arm="cot", provider="fake")
    with pytest.raises(ConfigurationError, match="arm: not given; choose one of"):
        result.export_finetuning(None, provider="fake")
    with pytest.raises(ConfigurationError, match="provider: 'gpt' is not in this run"):
        result.export_finetuning(None, arm="zero", provider="gpt")
    with pytest.raises(ConfigurationError, match="scorer='judge' is not in this run"):
        result.export_finetuning(None, arm="zero", provider="fake", scorer="judge")
    with pytest.raises(ConfigurationError, match="format='alpaca'"):
        result.export_finetuning(None, arm="zero", provider="fake", format="alpaca")
    with pytest.raises(ConfigurationError, match="use='reply'"):
        result.export_finetuning(None, arm="zero", provider="fake", use="reply")
    with pytest.raises(ConfigurationError, match=r"gold_format='Answer: \{value\}'"):
        result.export_finetuning(
            None, arm="zero", provider="fake", use="gold", gold_format="Answer: {value}"
        )
    with pytest.raises(ConfigurationError, match=r"No examples .*\(incorrect: 12.*use='gold'"):
        result.export_finetuning(tmp_path / "none.jsonl", arm="zero", provider="other")
    assert not (tmp_path / "none.jsonl").exists()


def record(task: str, **fields: Any) -> CellRecord:
    prompt = [{"role": "user", "content": f"Question {task}?"}]
    base: dict[str, Any] = {"task_id": task, "arm": "a", "provider": "p", "model": "m"}
    base.update(repeat=0, messages=prompt, outputs=["Answer: 1"], answers=["1"], answer="1")
    base.update(expected="1", scores={"exact": 1.0})
    base.update(fields)
    return CellRecord(**base)


def test_cells_that_cannot_make_an_example_are_skipped_with_the_reason() -> None:
    records = [
        record("ok"),
        record("err", error={"type": "ServerError", "message": "boom", "status": 500}),
        record("old", messages=[]),
        record("nan", scores={"exact": float("nan")}),
        record("blank", outputs=["  "], answers=[None], answer=None),
        record("prefill", messages=[{"role": "assistant", "content": "Sure"}]),
        record("late-system", messages=[*record("x").messages, {"role": "system", "content": "s"}]),
        record("vote", outputs=["Answer: 2", "Answer: 1"], answers=["2", "1"], answer="1"),
    ]
    report = Run(records, {"arms": ["a"], "providers": ["p"]}).export_finetuning(None)
    assert report.examples == 2
    assert report.skipped == {
        "error": 1,
        "no stored prompt (recorded before promptlab kept prompts; rerun with --fresh)": 1,
        "unscored": 1,
        "empty assistant turn": 1,
        "the assistant's turn does not follow a user turn": 1,
        "a system message after the first": 1,
    }
    # Self-consistency: the first sample with the winning answer, not the first sample.
    assert report.task_ids == ("ok", "vote")
    with_vote = Run(records[-1:], {}).export_finetuning(None, as_dataset=True)
    assert with_vote.dataset[0]["messages"][-1]["content"] == "Answer: 1"


def test_format_rules() -> None:
    user = {"role": "user", "content": "Hi"}
    reply = {"role": "assistant", "content": "Hello"}
    assert format_problem([{"role": "system", "content": "Be brief."}, user, reply]) is None
    assert format_problem([]) == "no messages"
    assert format_problem([user]) == "the last turn is not the assistant's"
    assert format_problem([{"role": "tool", "content": "x"}, reply]) == "unknown role 'tool'"
    assert format_problem([user, {"role": "assistant", "content": ""}]) == "empty assistant turn"
    assert format_problem([user, {**reply, "name": "x"}]) == (
        "a message is not a {role, content} object"
    )


def test_the_command_writes_the_file_and_reports(
    run: tuple[Run, FakeProvider], tmp_path: Path
) -> None:
    result, _ = run
    assert result.run_dir is not None
    out = tmp_path / "cli.jsonl"
    done = CliRunner().invoke(
        app,
        ["export-finetuning", str(result.run_dir), str(out), "--arm", "zero", "--provider", "fake"],
    )
    assert done.exit_code == 0, done.output
    assert "3 example(s) written to" in done.output and "incorrect: 6" in done.output
    assert len(lines(out)) == 3
    gold = CliRunner().invoke(
        app,
        ["export-finetuning", str(result.run_dir), str(out), "--arm", "zero", "--provider",
         "other", "--gold", "--gold-format", "Answer: {answer}"],
    )  # fmt: skip
    assert gold.exit_code == 0 and lines(out)[0]["messages"][-1]["content"] == "Answer: 1"
    bad = CliRunner().invoke(
        app, ["export-finetuning", str(result.run_dir), str(out), "--arm", "x"]
    )
    assert bad.exit_code == 2 and "arm: 'x' is not in this run" in bad.output
