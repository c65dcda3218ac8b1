"""Run.diff and Run.diff_tasks: two runs paired on task id, improved / regressed / same."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from promptlab.errors import ConfigurationError
from promptlab.experiments.analysis import Run
from promptlab.experiments.store import CellRecord
from tests.experiments.run_fixtures import main_experiment, main_records, write_run

# plain on local gets t04..t09 right in "after" (wrong in the fixture, "before"), and t01
# wrong (right before): 6 improved, 1 regressed, 3 the same.
IMPROVED = {"t04", "t05", "t06", "t07", "t08", "t09"}


def after_records() -> list[CellRecord]:
    records = main_records()
    for record in records:
        if record.arm != "plain" or record.provider != "local" or not record.ok:
            continue
        if record.task_id in IMPROVED:
            record.scores = {"numeric": 1.0}
            record.answer = record.expected
        if record.task_id == "t01":
            record.scores = {"numeric": 0.0}
            record.answer = "0"
    return records


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, Run]:
    folder = tmp_path_factory.mktemp("diff")
    before = Run.load(write_run(folder / "before", main_records(), main_experiment()))
    after = Run.load(write_run(folder / "after", after_records(), main_experiment()))
    return after, before


def test_counts_and_paired_test_per_arm_and_provider(runs: tuple[Run, Run]) -> None:
    after, before = runs
    diff = after.diff(before)
    assert list(zip(diff["arm"], diff["provider"], strict=True)) == [
        ("plain", "local"),
        ("plain", "api"),
        ("cot", "local"),
        ("cot", "api"),
    ]
    plain = diff.iloc[0]
    assert (plain["improved"], plain["regressed"], plain["same"]) == (6, 1, 3)
    assert plain["n_pairs"] == 10 and plain["n_dropped"] == 0  # t11 errored in both
    assert plain["mean_this"] == pytest.approx(0.8) and plain["mean_other"] == pytest.approx(0.3)
    assert plain["diff"] == pytest.approx(0.5)
    assert plain["test"] == "mcnemar_exact"
    # Exact McNemar on 6 vs 1 discordant tasks: 2 * P(X <= 1), X ~ Bin(7, 1/2) = 16/128.
    assert plain["p_value"] == pytest.approx(16 / 128)
    assert plain["ci_low"] < plain["diff"] < plain["ci_high"]
    # Holm over the table: the three others have p = 1, so plain's p is multiplied by 4.
    assert plain["p_adjusted"] == pytest.approx(min(1.0, 4 * 16 / 128))
    assert not plain["significant"]
    unchanged = diff.iloc[1:]
    assert (unchanged["improved"] == 0).all() and (unchanged["regressed"] == 0).all()
    assert (unchanged["diff"] == 0).all()


def test_per_task_changes(runs: tuple[Run, Run]) -> None:
    after, before = runs
    changes = after.diff_tasks(before)
    plain = changes[(changes["arm"] == "plain") & (changes["provider"] == "local")]
    assert set(plain.loc[plain["change"] == "improved", "task_id"]) == IMPROVED
    assert list(plain.loc[plain["change"] == "regressed", "task_id"]) == ["t01"]
    row = plain[plain["task_id"] == "t01"].iloc[0]
    assert (row["score_this"], row["score_other"]) == (0.0, 1.0)
    assert set(changes["change"]) == {"improved", "regressed", "same"}


def test_a_run_diffed_against_itself_changes_nothing(runs: tuple[Run, Run]) -> None:
    after, _ = runs
    diff = after.diff(after)
    assert (diff["same"] == diff["n_pairs"]).all() and (diff["diff"] == 0).all()


def record(task: str, arm: str, provider: str, score: float, repeat: int = 0) -> CellRecord:
    return CellRecord(
        task_id=task, arm=arm, provider=provider, model="m", repeat=repeat, scores={"s": score}
    )


def test_one_arm_on_two_models_compares_whatever_the_names(tmp_path: Path) -> None:
    small = [record(f"t{i}", "cot", "small", float(i < 3)) for i in range(8)]
    large = [record(f"t{i}", "cot", "large", float(i < 7)) for i in range(8)]
    this = Run.load(write_run(tmp_path / "large", large))
    other = Run.load(write_run(tmp_path / "small", small))
    diff = this.diff(other)
    assert len(diff) == 1
    row = diff.iloc[0]
    assert (row["provider"], row["other_provider"]) == ("large", "small")
    assert (row["improved"], row["regressed"], row["same"]) == (4, 0, 4)


def test_repeats_are_averaged_per_task_before_counting(tmp_path: Path) -> None:
    this = [record("t1", "a", "p", 1.0, 0), record("t1", "a", "p", 0.0, 1)]
    this += [record("t2", "a", "p", 1.0, 0), record("t2", "a", "p", 1.0, 1)]
    other = [record("t1", "a", "p", 0.0), record("t2", "a", "p", 1.0)]
    diff = Run.load(write_run(tmp_path / "this", this)).diff(
        Run.load(write_run(tmp_path / "other", other))
    )
    assert (diff.iloc[0]["improved"], diff.iloc[0]["same"]) == (1, 1)
    assert diff.iloc[0]["test"] == "wilcoxon_signed_rank"  # 0.5 is a graded per-task score


def test_tasks_in_only_one_run_are_dropped_and_counted(tmp_path: Path) -> None:
    this = [record(f"t{i}", "a", "p", 1.0) for i in range(5)]
    other = [record(f"t{i}", "a", "p", 0.0) for i in range(3, 8)]
    diff = Run.load(write_run(tmp_path / "this", this)).diff(
        Run.load(write_run(tmp_path / "other", other))
    )
    row = diff.iloc[0]
    assert row["n_pairs"] == 2 and row["n_dropped"] == 6 and row["improved"] == 2


def test_runs_without_a_shared_arm_are_refused(tmp_path: Path) -> None:
    this = Run.load(
        write_run(tmp_path / "this", [record("t1", "a", "p", 1), record("t1", "b", "p", 1)])
    )
    other = Run.load(
        write_run(tmp_path / "other", [record("t1", "c", "p", 1), record("t1", "d", "p", 1)])
    )
    with pytest.raises(ConfigurationError, match=r"share no arm and provider.*\['a', 'b'\]"):
        this.diff(other)


def test_runs_without_a_shared_task_are_refused(tmp_path: Path) -> None:
    this = Run.load(write_run(tmp_path / "this", [record("t1", "a", "p", 1)]))
    other = Run.load(write_run(tmp_path / "other", [record("t2", "a", "p", 1)]))
    with pytest.raises(ConfigurationError, match="share no scored task"):
        this.diff(other)
    assert this.diff_tasks(other).empty


def test_a_scorer_missing_from_the_other_run_is_named(tmp_path: Path) -> None:
    this = Run.load(write_run(tmp_path / "this", [record("t1", "a", "p", 1)]))
    other_record = CellRecord(task_id="t1", arm="a", provider="p", model="m", repeat=0)
    other_record.scores = {"judge": 1.0}
    other = Run.load(write_run(tmp_path / "other", [other_record]))
    with pytest.raises(ConfigurationError, match=r"scorer 's' is not in the other run.*judge"):
        this.diff(other)
    with pytest.raises(ConfigurationError, match="not in the other run"):
        this.diff_tasks(other)


def test_an_arm_unscored_in_one_run_gets_a_note_not_a_number(tmp_path: Path) -> None:
    this = [record("t1", "a", "p", 1.0), record("t1", "b", "p", 1.0)]
    other = [record("t1", "a", "p", 0.0), record("t1", "b", "p", math.nan)]
    diff = Run.load(write_run(tmp_path / "this", this)).diff(
        Run.load(write_run(tmp_path / "other", other))
    )
    b = diff[diff["arm"] == "b"].iloc[0]
    assert "no scored cells in other run" in b["note"] and math.isnan(b["diff"])
    assert not b["significant"]
