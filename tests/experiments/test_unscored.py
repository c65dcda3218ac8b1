"""Scores that cannot be computed are NaN with a note, never a crash (issue 8, item 4)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from promptlab.completion import Choice, CompletionRequest, TokenLogprob
from promptlab.experiments.analysis import Run, UnscoredWarning
from promptlab.experiments.arm import ArmSpec
from promptlab.experiments.experiment import Experiment
from promptlab.experiments.scoring import JudgeScorer, Perplexity
from promptlab.strategies import ZeroShot
from promptlab.testing import FakeProvider
from tests.experiments.run_fixtures import cell, main_experiment, main_records, write_run


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMPTLAB_CACHE_DIR", str(tmp_path / "default-cache"))


class ImpossibleTokens(FakeProvider):
    """A fake whose every token has the given logprob (-inf: probability 0)."""

    logprob = -math.inf

    def _choice(self, text: str, index: int, request: CompletionRequest) -> Choice:  # type: ignore[override]
        tokens = tuple(TokenLogprob(w, self.logprob) for w in text.split())
        return Choice(text, "stop", tokens, index)


def run_with(logprob: float, out: Path) -> Run:
    provider = ImpossibleTokens(["Answer: 1"], cycle=True)
    provider.logprob = logprob
    return Experiment(
        arms={"zs": ArmSpec(ZeroShot(extractor="numeric"), {"logprobs": True})},
        providers={"fake": provider},
        tasks=[{"id": f"t{i}", "question": "0 + 1?", "answer": 1} for i in range(3)],
        scorers=["numeric", Perplexity()],
    ).run(out, cache=False, progress=False)


@pytest.mark.parametrize("logprob", [-math.inf, -1000.0])
def test_a_non_finite_perplexity_changes_nothing_else(tmp_path: Path, logprob: float) -> None:
    # -inf made the score inf (summary, compare and report raised); -1000 made exp()
    # overflow, which recorded every cell as an error, the correct answers' accuracy too.
    run = run_with(logprob, tmp_path / "run")
    numeric = run.summary("numeric")
    assert numeric[["accuracy", "n", "errors", "unscored"]].values.tolist() == [[1.0, 3, 0, 0]]
    with pytest.warns(UnscoredWarning, match=r"3 of 3 successful cells have no 'perplexity'"):
        perplexity = run.summary("perplexity")
    assert perplexity[["n", "errors", "unscored"]].values.tolist() == [[0, 0, 3]]
    assert math.isnan(perplexity["accuracy"].iloc[0])
    notes = {r.score_notes["perplexity"] for r in run.records}
    assert len(notes) == 1 and "perplexity" in notes.pop()


def test_an_infinite_score_on_disk_is_skipped_and_counted(tmp_path: Path) -> None:
    # A run directory written before the fix can hold an inf score (JSON "Infinity").
    records = main_records()
    first_plain = next(r for r in records if r.arm == "plain" and r.provider == "local" and r.ok)
    first_plain.scores["numeric"] = math.inf
    run = Run.load(write_run(tmp_path / "r", records, main_experiment()))
    with pytest.warns(UnscoredWarning, match=r"1 of \d+ successful cells have no 'numeric'"):
        summary = run.summary()
    row = summary[(summary["arm"] == "plain") & (summary["provider"] == "local")].iloc[0]
    assert (row["n"], row["unscored"]) == (9, 1)
    assert row["accuracy"] == pytest.approx(2 / 9)  # t01 left out: t02, t03 right of 9
    compared = run.compare("plain", "cot", provider="local")
    assert compared[["n_pairs", "n_unscored"]].values.tolist() == [[9, 1]]
    table = run.compare_all()
    local = table[table["provider"] == "local"].iloc[0]
    assert (local["n_unscored"], local["n_pairs"]) == (1, 9)
    report = run.report(tmp_path / "report.html")
    assert "unscored" in report.read_text(encoding="utf-8")


def test_compare_counts_unscored_cells_of_both_arms_only(tmp_path: Path) -> None:
    records = [
        cell("t01", "a", "local", True),
        cell("t02", "a", "local", True, scores={"numeric": math.nan}),
        cell("t01", "b", "local", False),
        cell("t02", "b", "local", True, scores={"numeric": math.nan}),
        cell("t01", "c", "local", True, scores={"numeric": math.nan}),
    ]
    run = Run(records, {"seed": 1})
    row = run.compare("a", "b").iloc[0]
    assert (row["n_pairs"], row["n_unscored"]) == (1, 2)


def test_unreadable_judge_verdicts_are_counted_and_named(tmp_path: Path) -> None:
    judge_replies = ["Fine.\nVerdict: PASS", "Hmm, hard to say.", "**Verdict**: FAIL"]
    run = Experiment(
        arms={"zs": ZeroShot(extractor="numeric")},
        providers={"fake": FakeProvider(["Answer: 1"], cycle=True)},
        tasks=[{"id": f"t{i}", "question": "0 + 1?", "answer": 1} for i in range(3)],
        scorers=["numeric", JudgeScorer(FakeProvider(judge_replies), rubric="Correct.")],
        concurrency=1,
    ).run(tmp_path / "run", cache=False, progress=False)
    message = r"1 of 3 successful cells have no 'judge' score .*no readable verdict.*hard to say"
    with pytest.warns(UnscoredWarning, match=message):
        judged = run.summary("judge")
    assert judged[["n", "unscored", "accuracy"]].values.tolist() == [[2, 1, 0.5]]
    assert run.summary("numeric")["accuracy"].tolist() == [1.0]


def test_a_report_warns_once_per_scorer_not_once_per_table(tmp_path: Path) -> None:
    records = main_records()
    first_plain = next(r for r in records if r.arm == "plain" and r.provider == "local" and r.ok)
    first_plain.scores["numeric"] = math.nan
    run = Run.load(write_run(tmp_path / "r", records, main_experiment()))
    with pytest.warns(UnscoredWarning) as caught:
        run.report(tmp_path / "report.html")
        run.summary("numeric")
        run.summary()
    unscored = [w for w in caught if issubclass(w.category, UnscoredWarning)]
    assert len(unscored) == 1 and "1 of" in str(unscored[0].message)
