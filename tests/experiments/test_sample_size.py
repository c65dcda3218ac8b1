"""Sample sizes: Connor's McNemar formula, and what a pilot run feeds into it.

Hand values use z_{0.975} = 1.959964 and z_{0.8} = 0.841621.
"""

from __future__ import annotations

import pytest

from promptlab.experiments.analysis import Run
from promptlab.experiments.stats import (
    StatisticsInputError,
    TasksNeeded,
    tasks_needed,
    tasks_needed_from_scores,
    tasks_needed_graded,
)
from promptlab.experiments.store import CellRecord


def run_of(scores: dict[str, list[list[float]]]) -> Run:
    """A run on one provider: ``scores[arm][task]`` lists that task's scores per repeat."""
    records = [
        CellRecord(f"t{task}", arm, "local", "m", repeat, scores={"exact": value})
        for arm, per_task in scores.items()
        for task, values in enumerate(per_task)
        for repeat, value in enumerate(values)
    ]
    return Run(records, {"arms": list(scores), "providers": {"local": {"provider": "local"}}})


def test_connor_formula_matches_the_published_worked_example() -> None:
    # Connor (1987) p. 209, as in the powerandsamplesize.com McNemar calculator:
    # p10 = 0.05, p01 = 0.45 -> ψ = 0.5, δ = -0.4;
    # n = ((1.959964·√0.5 + 0.841621·√(0.5 - 0.16)) / 0.4)² = (4.69163)² = 22.01 -> 23.
    assert tasks_needed(0.5, 0.9, discordance=0.5) == 23


def test_a_target_beyond_the_observed_discordance_uses_the_conservative_bound() -> None:
    # Pilot: B right on 5 of 10 tasks, A on the same 5 plus one: ψ_obs = 0.1.
    # Target: 0.3 over B's 0.5, so p_a = 0.8, δ = 0.3. ψ = 0.1 < |δ| is impossible; the
    # largest ψ these accuracies allow is min(2·min(0.8, 0.5) - 0.3, 2·min(0.5, 0.2) + 0.3)
    # = 0.7, and n = (1.959964·√0.7 + 0.841621·√0.61)² / 0.09 = 58.63 -> 59.
    # (Raising ψ to |δ| = 0.3, the most optimistic case, gave 24.)
    run = run_of({"a": [[1]] * 6 + [[0]] * 4, "b": [[1]] * 5 + [[0]] * 5})
    needed = run.tasks_needed("a", "b", difference=0.3)
    assert needed == 59
    assert isinstance(needed, TasksNeeded) and needed.method == "mcnemar"
    assert needed.nuisance == pytest.approx(0.7)
    assert "conservative bound 0.7" in needed.assumption
    assert "observed discordance 0.1 is impossible" in repr(needed)


def test_a_possible_observed_discordance_is_used_and_said_so() -> None:
    run = run_of({"a": [[1]] * 6 + [[0]] * 4, "b": [[1]] * 5 + [[0]] * 5})
    needed = run.tasks_needed("a", "b")  # p_a = 0.6, p_b = 0.5, ψ = 0.1 observed
    assert needed == tasks_needed(0.6, 0.5, discordance=0.1)
    assert needed.assumption == (
        "McNemar (Connor 1987), observed discordance 0.1 (10 tasks); one run per task"
    )
    assert str(needed) == str(int(needed))  # printing shows the plain number


def test_repeats_are_averaged_per_task_and_sized_on_the_per_task_differences() -> None:
    # Two repeats per task. Per-task means: A = [1, 1, 0.5, 1], B = [0.5, 0, 0.5, 1];
    # d = [0.5, 1, 0, 0]: δ = 0.375, E[d²] = 0.3125, Var(d) = 0.3125 - 0.140625 = 0.171875.
    # n = (1.959964 + 0.841621)² · 0.171875 / 0.140625 = 7.84888 · 1.22222 = 9.59 -> 10.
    # (Treating mean |d| = 0.375 as a McNemar discordance gave 19.)
    run = run_of({"a": [[1, 1], [1, 1], [1, 0], [1, 1]], "b": [[1, 0], [0, 0], [0, 1], [1, 1]]})
    needed = run.tasks_needed("a", "b")
    assert needed == 10
    assert needed.method == "paired_normal"
    assert needed.nuisance == pytest.approx(0.171875**0.5)
    assert needed.assumption.endswith("2 repeats per task, as in this run")


def test_graded_formula_by_hand() -> None:
    # ((1.959964 + 0.841621) · 0.3 / 0.1)² = 8.40476² = 70.64 -> 71.
    assert tasks_needed_graded(0.1, 0.3) == 71
    assert tasks_needed_graded(-0.1, 0.3) == 71


def test_a_given_discordance_is_used_as_given() -> None:
    needed = tasks_needed_from_scores([1, 0, 1], [0, 0, 1], discordance=0.4)
    assert needed == tasks_needed(2 / 3, 1 / 3, discordance=0.4)
    assert needed.assumption == "discordance as given"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"a_scores": [], "b_scores": []}, "no task was scored in both arms"),
        ({"a_scores": [1, 0], "b_scores": [0, 1]}, "both arms score 0.500"),
        ({"a_scores": [1, 0], "b_scores": [1]}, "aligned by task"),
        ({"a_scores": [1], "b_scores": [0], "alpha": 1.5}, "alpha=1.5"),
    ],
)
def test_bad_inputs_are_clear_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(StatisticsInputError, match=message):
        tasks_needed_from_scores(**kwargs)
