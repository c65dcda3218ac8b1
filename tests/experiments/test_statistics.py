"""Statistics for experiments, checked against values worked out by hand in the comments."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import promptlab.experiments.stats._paired_tests as paired_tests_module
from promptlab.errors import PromptlabError
from promptlab.experiments.stats import (
    StatisticsInputError,
    accuracy_summary,
    cluster_bootstrap_ci,
    compare_all_pairs,
    compare_paired,
    default_discordance,
    holm_adjust,
    latency_percentiles,
    pair_correlation,
    pair_on_task_id,
    paired_bootstrap_ci,
    pareto_front,
    tasks_needed,
    tasks_needed_unpaired,
    wilson_interval,
)

# z_{0.975} and z_{0.80} from a normal table.
Z_975 = 1.959964
Z_80 = 0.841621


# --- Wilson interval and one-arm summaries ---------------------------------------------


def test_wilson_interval_matches_closed_form_for_8_of_10() -> None:
    # p = 0.8, n = 10, z² = 3.841459
    # denom  = 1 + z²/n                              = 1.3841459
    # centre = (p + z²/(2n)) / denom = 0.9920729 / 1.3841459 = 0.716740
    # half   = z·sqrt(p(1-p)/n + z²/(4n²)) / denom
    #        = 1.959964 · sqrt(0.016 + 0.0096036) / 1.3841459 = 0.226578
    # -> (0.716740 - 0.226578, 0.716740 + 0.226578) = (0.490162, 0.943318)
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.490162, abs=1e-5)
    assert high == pytest.approx(0.943318, abs=1e-5)


def test_wilson_interval_stays_inside_zero_and_one_at_the_extremes() -> None:
    # 0/10: centre = half = (z²/20)/1.3841459 = 0.138766, so low = 0 and high = 0.277533.
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.277533), abs=1e-5)
    assert wilson_interval(10, 10) == pytest.approx((0.722467, 1.0), abs=1e-5)


@pytest.mark.parametrize("n", range(1, 41))
def test_wilson_interval_holds_the_point_estimate_exactly_at_zero_and_n(n: int) -> None:
    # statsmodels returns 2.8e-17 as the lower bound of 0/7 and 0.9999999999999999 as the upper
    # bound of 7/7: an interval that excludes its own estimate, and a negative error bar in plots.
    assert wilson_interval(0, n)[0] == 0.0
    assert wilson_interval(n, n)[1] == 1.0


def test_wilson_interval_with_no_tasks_is_nan() -> None:
    low, high = wilson_interval(0, 0)
    assert math.isnan(low) and math.isnan(high)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((11, 10), "successes=11 is larger than n=10"),
        ((-1, 10), "successes=-1 is not allowed"),
        ((1.5, 10), "successes=1.5 is not allowed"),
        ((1, 10, 1.5), "confidence=1.5 is not allowed"),
    ],
)
def test_wilson_interval_rejects_bad_counts(args: tuple, message: str) -> None:
    with pytest.raises(StatisticsInputError, match=message):
        wilson_interval(*args)


def test_statistics_error_is_a_promptlab_error_and_a_value_error() -> None:
    with pytest.raises(PromptlabError):
        wilson_interval(3, 2)
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_accuracy_summary_of_binary_scores_uses_wilson() -> None:
    summary = accuracy_summary([1, 1, 1, 1, 0, 1, 1, 1, 0, 1])
    assert summary.method == "wilson"
    assert summary.n == 10
    assert summary.mean == pytest.approx(0.8)
    assert (summary.ci_low, summary.ci_high) == pytest.approx((0.490162, 0.943318), abs=1e-5)


def test_accuracy_summary_of_continuous_scores_uses_student_t() -> None:
    # mean 0.4, std (ddof=1) = sqrt((0.04 + 0 + 0.04)/2) = 0.2, t_{0.975, 2} = 4.302653
    # half width = 4.302653 · 0.2 / sqrt(3) = 0.496828
    summary = accuracy_summary([0.2, 0.4, 0.6])
    assert summary.method == "t"
    assert summary.std == pytest.approx(0.2)
    assert (summary.ci_low, summary.ci_high) == pytest.approx((-0.096828, 0.896828), abs=1e-5)


def test_accuracy_summary_edge_cases() -> None:
    empty = accuracy_summary([])
    assert empty.n == 0 and math.isnan(empty.mean) and math.isnan(empty.ci_low)
    single = accuracy_summary([0.5])
    assert single.mean == 0.5 and math.isnan(single.ci_low) and single.method == "t"


def test_accuracy_summary_refuses_missing_scores() -> None:
    with pytest.raises(StatisticsInputError, match=r"scores contains 1 missing .*position 1"):
        accuracy_summary([1.0, float("nan"), 0.0])


# --- Paired comparison ------------------------------------------------------------------


def test_mcnemar_exact_p_value_for_one_against_six_discordant() -> None:
    # b = 1 (A right, B wrong), c = 6 (A wrong, B right), 3 concordant.
    # p = 2·P(Binom(7, 0.5) <= 1) = 2·(1 + 7)/128 = 0.125
    a = [1, 0, 0, 0, 0, 0, 0, 1, 1, 0]
    b = [0, 1, 1, 1, 1, 1, 1, 1, 1, 0]
    result = compare_paired(a, b, seed=0)
    assert result.test == "mcnemar_exact"
    assert (result.a_only_correct, result.b_only_correct) == (1, 6)
    assert result.statistic == 1.0
    assert result.p_value == pytest.approx(0.125)
    # accuracies 0.3 and 0.8, so A - B = -0.5
    assert (result.mean_a, result.mean_b, result.diff) == pytest.approx((0.3, 0.8, -0.5))
    assert result.n_pairs == 10


def test_mcnemar_with_no_discordant_tasks_gives_p_one() -> None:
    result = compare_paired([1, 0, 1], [1, 0, 1], seed=0)
    assert result.p_value == 1.0
    assert (result.a_only_correct, result.b_only_correct) == (0, 0)
    assert "no discordant" in result.note


def test_paired_bootstrap_ci_covers_truth_matches_theory_and_is_seeded() -> None:
    # Simulated pairs with a known truth: A right w.p. 0.7, B right w.p. 0.6, sharing task
    # difficulty; true difference 0.1.
    rng = np.random.default_rng(12345)
    difficulty = rng.random(400)
    a = (difficulty < 0.7).astype(float)
    # B follows the shared difficulty on half the tasks and its own luck on the rest;
    # either way P(B right) = 0.6, so both kinds of discordant task occur.
    own_luck = rng.random(400)
    b = np.where(rng.random(400) < 0.5, difficulty < 0.6, own_luck < 0.6).astype(float)
    first = compare_paired(a, b, seed=7, n_bootstrap=4000)
    again = compare_paired(a, b, seed=7, n_bootstrap=4000)
    other = compare_paired(a, b, seed=8, n_bootstrap=4000)
    assert (first.ci_low, first.ci_high) == (again.ci_low, again.ci_high)
    assert (first.ci_low, first.ci_high) != (other.ci_low, other.ci_high)
    assert first.ci_low < 0.1 < first.ci_high
    assert first.ci_low < first.diff < first.ci_high
    # The bootstrap SE of a mean of per-task differences d is about std(d)/sqrt(n), so the
    # 95% interval should be close to diff ± 1.96·std(d)/sqrt(n).
    d = a - b
    half = Z_975 * d.std() / math.sqrt(d.size)
    assert (first.ci_high - first.ci_low) / 2 == pytest.approx(half, rel=0.1)


def test_paired_bootstrap_blocks_do_not_change_the_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    differences = np.random.default_rng(3).normal(size=50)
    whole = paired_bootstrap_ci(differences, seed=1, n_bootstrap=1000)
    monkeypatch.setattr(paired_tests_module, "_MAX_INDICES_PER_BLOCK", 120)  # 2 resamples a block
    blocked = paired_bootstrap_ci(differences, seed=1, n_bootstrap=1000)
    assert blocked == whole


def test_paired_bootstrap_of_one_pair_is_that_difference() -> None:
    assert paired_bootstrap_ci([0.25], seed=0, n_bootstrap=50) == (0.25, 0.25)


def test_wilcoxon_on_tiny_example_matches_exact_distribution() -> None:
    # d = [1, 2, 3, 4, -5]: ranks of |d| are 1..5, W+ = 1+2+3+4 = 10, W- = 5, statistic 5.
    # Under H0 each of the 2^5 = 32 sign patterns is equally likely. Subsets of {1..5} with
    # rank sum <= 5: {}, {1}, {2}, {3}, {4}, {5}, {1,2}, {1,3}, {1,4}, {2,3} -> 10.
    # p = 2 · 10/32 = 0.625
    b = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    a = b + np.array([1, 2, 3, 4, -5]) / 10
    result = compare_paired(a, b, seed=0)
    assert result.test == "wilcoxon_signed_rank"
    assert result.statistic == pytest.approx(5.0)
    assert result.p_value == pytest.approx(0.625)
    assert result.a_only_correct is None and result.b_only_correct is None


def test_wilcoxon_all_positive_differences() -> None:
    # All five differences positive: W- = 0, p = 2 · 1/32 = 0.0625.
    result = compare_paired([0.5, 0.6, 0.7, 0.8, 0.9], [0.4, 0.4, 0.4, 0.4, 0.4], seed=0)
    assert result.p_value == pytest.approx(0.0625)


def test_all_zero_continuous_differences_give_p_one_with_a_note() -> None:
    result = compare_paired([0.2, 0.5, 0.9], [0.2, 0.5, 0.9], seed=0)
    assert result.p_value == 1.0
    assert result.diff == 0.0 and (result.ci_low, result.ci_high) == (0.0, 0.0)
    assert "every per-task difference is zero" in result.note


def test_compare_paired_with_no_pairs_reports_nan_and_why() -> None:
    result = compare_paired([], [], seed=0)
    assert result.n_pairs == 0 and result.test == "none"
    assert math.isnan(result.p_value) and math.isnan(result.diff)
    assert "no tasks" in result.note


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"a_scores": [1, 0], "b_scores": [1]}, "a_scores has 2 scores but b_scores has 1"),
        ({"a_scores": [1, None], "b_scores": [1, 0]}, "a_scores contains 1 missing"),
        ({"a_scores": [1, 0], "b_scores": [1, 0], "n_bootstrap": 0}, "n_bootstrap=0"),
        ({"a_scores": [1, 0], "b_scores": [1, 0], "confidence": 95}, "confidence=95"),
    ],
)
def test_compare_paired_rejects_bad_inputs(kwargs: dict, message: str) -> None:
    with pytest.raises(StatisticsInputError, match=message):
        compare_paired(seed=0, **kwargs)


# --- Pairing on task id and comparing several arms ---------------------------------------


def _long_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "arm": ["A", "A", "A", "A", "B", "B", "B"],
            "task_id": ["t1", "t1", "t2", "t3", "t1", "t2", "t4"],
            "score": [1, 0, 1, 1, 1, 0, 0],
        }
    )


def test_pair_on_task_id_averages_repeats_and_drops_unshared_tasks() -> None:
    # A: t1 -> (1 + 0)/2 = 0.5, t2 -> 1, t3 -> 1.  B: t1 -> 1, t2 -> 0, t4 -> 0.
    paired = pair_on_task_id(_long_table(), "arm", "A", "B")
    assert paired.task_ids == ("t1", "t2")
    assert paired.a_scores.tolist() == [0.5, 1.0]
    assert paired.b_scores.tolist() == [1.0, 0.0]
    assert (paired.only_in_a, paired.only_in_b, paired.n_dropped) == (("t3",), ("t4",), 2)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda df: pair_on_task_id(df, "arm", "A", "C"), r"arm 'C' not found .*\['A', 'B'\]"),
        (lambda df: pair_on_task_id(df, "arm", "A", "A"), "pick two different arms"),
        (lambda df: pair_on_task_id(df, "model", "A", "B"), r"\['model'\] not found"),
        (lambda df: compare_all_pairs(df, "arm", seed=0, arms=["A"]), "at least two arms"),
    ],
)
def test_pairing_rejects_bad_tables(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StatisticsInputError, match=message):
        call(_long_table())


def test_pairing_refuses_missing_scores_naming_the_task() -> None:
    df = _long_table()
    df.loc[2, "score"] = np.nan
    with pytest.raises(StatisticsInputError, match="first on task 't2'"):
        pair_on_task_id(df, "arm", "A", "B")


def test_holm_adjust_hand_example_with_nan_left_alone() -> None:
    # Sorted: 0.01, 0.03, 0.04 (m = 3) -> 3·0.01 = 0.03, max(0.03, 2·0.03) = 0.06,
    # max(0.06, 1·0.04) = 0.06. The NaN is not a test and stays NaN.
    adjusted = holm_adjust([0.01, np.nan, 0.04, 0.03])
    assert adjusted[[0, 2, 3]] == pytest.approx([0.03, 0.06, 0.06])
    assert math.isnan(adjusted[1])
    with pytest.raises(StatisticsInputError, match=r"p_values must lie in \[0, 1\]"):
        holm_adjust([0.5, 1.5])


def _three_arms() -> pd.DataFrame:
    outcomes = {"A": "1111111111", "B": "1111000000", "C": "1111111100"}
    return pd.DataFrame(
        [
            {"arm": arm, "task_id": i, "score": int(bit)}
            for arm, bits in outcomes.items()
            for i, bit in enumerate(bits)
        ]
    )


def test_compare_all_pairs_holm_on_hand_example() -> None:
    # A vs B: b = 6, c = 0 -> p = 2·(1/2)^6 = 0.03125
    # A vs C: b = 2, c = 0 -> p = 2·(1/2)^2 = 0.5
    # B vs C: b = 0, c = 4 -> p = 2·(1/2)^4 = 0.125
    # Holm, m = 3: 3·0.03125 = 0.09375; max(0.09375, 2·0.125) = 0.25; max(0.25, 0.5) = 0.5
    table = compare_all_pairs(_three_arms(), "arm", seed=0, n_bootstrap=500)
    assert list(zip(table["arm_a"], table["arm_b"], strict=True)) == [
        ("A", "B"),
        ("A", "C"),
        ("B", "C"),
    ]
    assert table["p_value"].tolist() == pytest.approx([0.03125, 0.5, 0.125])
    assert table["p_adjusted"].tolist() == pytest.approx([0.09375, 0.5, 0.25])
    assert not table["significant"].any()
    assert table["a_only_correct"].tolist() == [6, 2, 0]
    assert table["b_only_correct"].tolist() == [0, 0, 4]
    assert table["diff"].tolist() == pytest.approx([0.6, 0.2, -0.4])
    assert (table["n_pairs"] == 10).all() and (table["n_dropped"] == 0).all()
    loose = compare_all_pairs(_three_arms(), "arm", seed=0, n_bootstrap=500, alpha=0.1)
    assert loose["significant"].tolist() == [True, False, False]


def test_compare_all_pairs_against_a_baseline() -> None:
    # Only B vs A and C vs A: Holm with m = 2 -> 2·0.03125 = 0.0625, max(0.0625, 0.5) = 0.5.
    table = compare_all_pairs(_three_arms(), "arm", seed=0, n_bootstrap=500, baseline="A")
    assert list(zip(table["arm_a"], table["arm_b"], strict=True)) == [("B", "A"), ("C", "A")]
    assert table["p_adjusted"].tolist() == pytest.approx([0.0625, 0.5])
    assert table["diff"].tolist() == pytest.approx([-0.6, -0.2])


# --- Sample size --------------------------------------------------------------------------


def test_tasks_needed_paired_connor_formula_hand_example() -> None:
    # δ = 0.1, ψ = 0.2: (1.959964·sqrt(0.2) + 0.841621·sqrt(0.2 - 0.01))² / 0.01
    #   = (0.876523 + 0.366854)² / 0.01 = 1.545985 / 0.01 = 154.6 -> 155
    assert tasks_needed(0.7, 0.6, discordance=0.2) == 155
    assert tasks_needed(0.6, 0.7, discordance=0.2) == 155  # symmetric in the sign of δ


def test_tasks_needed_default_discordance_assumes_independent_arms() -> None:
    # ψ = 0.7·0.4 + 0.6·0.3 = 0.46
    # (1.959964·sqrt(0.46) + 0.841621·sqrt(0.45))² / 0.01 = (1.329312 + 0.564575)² / 0.01
    #   = 358.68 -> 359
    assert default_discordance(0.7, 0.6) == pytest.approx(0.46)
    assert tasks_needed(0.7, 0.6) == 359
    # Fewer discordant tasks (correlated arms) means fewer tasks needed.
    assert tasks_needed(0.7, 0.6, discordance=0.12) < tasks_needed(0.7, 0.6)


def test_tasks_needed_unpaired_matches_cohens_h() -> None:
    # h = 2·asin(sqrt(0.7)) - 2·asin(sqrt(0.6)) = 2·(0.991157 - 0.886077) = 0.210159
    # n per arm = 2·((1.959964 + 0.841621) / 0.210159)² = 2·177.71 = 355.4 -> 356
    assert tasks_needed_unpaired(0.7, 0.6) == 356


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((1.2, 0.5), {}, r"p_a=1\.2 is not allowed"),
        ((0.5, -0.1), {}, r"p_b=-0\.1 is not allowed"),
        ((0.6, 0.6), {}, "p_a and p_b are both 0.6"),
        ((0.7, 0.6), {"discordance": 0.05}, r"discordance=0\.05 is impossible"),
        ((0.7, 0.6), {"discordance": 0.9}, r"discordance=0\.9 is impossible"),
        ((0.7, 0.6), {"power": 1.0}, r"power=1\.0 is not allowed"),
        ((0.7, 0.6), {"alpha": 0}, "alpha=0 is not allowed"),
    ],
)
def test_tasks_needed_rejects_bad_inputs(args: tuple, kwargs: dict, message: str) -> None:
    with pytest.raises(StatisticsInputError, match=message):
        tasks_needed(*args, **kwargs)


# --- Pareto front and latency -------------------------------------------------------------


def test_pareto_front_on_hand_made_table() -> None:
    arms = pd.DataFrame(
        {
            "accuracy": [0.90, 0.80, 0.70, 0.80, 0.80, 0.95, 0.60, np.nan, 0.85],
            "cost": [3.0, 1.0, 2.0, 1.0, 2.0, np.nan, 0.5, 0.1, 3.0],
        },
        index=list("abcdefghi"),
    )
    front = pareto_front(arms, "accuracy", "cost")
    # a: best known quality.  b, d: identical ties, neither dominates the other.
    # c: b is better and cheaper.  e: b has the same quality for less.  f: unknown cost.
    # g: cheapest known.  h: unknown quality, and does not knock g off.  i: a costs the
    # same and is better.
    expected = {"a": True, "b": True, "c": False, "d": True, "e": False, "f": False,
                "g": True, "h": False, "i": False}  # fmt: skip
    assert front.to_dict() == expected
    assert front.name == "on_pareto_front"


def test_pareto_front_rejects_missing_or_text_columns() -> None:
    arms = pd.DataFrame({"accuracy": [0.9], "cost": ["cheap"]})
    with pytest.raises(StatisticsInputError, match=r"quality_col='acc' is not a column"):
        pareto_front(arms, "acc", "cost")
    with pytest.raises(StatisticsInputError, match="cost_col='cost' has dtype"):
        pareto_front(arms, "accuracy", "cost")


def test_latency_percentiles_linear_interpolation() -> None:
    # 1..10: p50 sits halfway between 5 and 6 -> 5.5; p95 at position 0.95·9 = 8.55 -> 9.55.
    latencies = [*range(1, 11), float("nan")]
    assert latency_percentiles(latencies) == pytest.approx({"p50": 5.5, "p95": 9.55})
    empty = latency_percentiles([], percentiles=[99.9])
    assert list(empty) == ["p99.9"] and math.isnan(empty["p99.9"])
    with pytest.raises(StatisticsInputError, match=r"percentile 120\.0 is not allowed"):
        latency_percentiles([1.0], percentiles=[120])
    with pytest.raises(StatisticsInputError, match="negative"):
        latency_percentiles([1.0, -0.5])


# --- clustered tasks: cluster bootstrap (issue 8, item 9) ------------------------------------


def clustered_scores(seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """20 passages x 10 questions; each passage has its own difficulty.

    Arm A's chance on a passage is drawn from Beta(1, 1), so questions of one passage are
    right or wrong together far more often than independent tasks would be. Arm B is A
    with some answers flipped, plus a passage-level shift, so the per-task differences are
    clustered too.
    """
    rng = np.random.default_rng(seed)
    clusters = np.repeat([f"p{i:02d}" for i in range(20)], 10)
    chance = np.repeat(rng.beta(1, 1, size=20), 10)
    a = (rng.random(200) < chance).astype(float)
    shift = np.repeat(rng.choice([-0.4, 0.4], size=20), 10)
    b = (rng.random(200) < np.clip(chance + shift, 0, 1)).astype(float)
    return a, b, clusters


def test_cluster_interval_is_clearly_wider_than_the_naive_one() -> None:
    a, _, clusters = clustered_scores()
    naive = accuracy_summary(a)
    clustered = accuracy_summary(a, clusters=clusters, seed=0)
    assert naive.method == "wilson"
    assert clustered.method == "cluster_bootstrap"
    assert clustered.n_clusters == 20
    assert clustered.mean == naive.mean  # only the interval changes
    naive_width = naive.ci_high - naive.ci_low
    cluster_width = clustered.ci_high - clustered.ci_low
    assert cluster_width > 2 * naive_width, (naive_width, cluster_width)


def test_independent_tasks_give_a_cluster_interval_close_to_the_naive_one() -> None:
    # One task per cluster: the cluster bootstrap is the ordinary bootstrap.
    rng = np.random.default_rng(5)
    scores = (rng.random(400) < 0.6).astype(float)
    naive = accuracy_summary(scores)
    single = accuracy_summary(scores, clusters=np.arange(400), seed=0)
    assert single.ci_low == pytest.approx(naive.ci_low, abs=0.01)
    assert single.ci_high == pytest.approx(naive.ci_high, abs=0.01)


def test_paired_comparison_with_clusters_resamples_clusters_and_says_so() -> None:
    a, b, clusters = clustered_scores()
    plain = compare_paired(a, b, seed=0)
    clustered = compare_paired(a, b, seed=0, clusters=clusters)
    assert plain.ci_method == "paired_bootstrap" and plain.n_clusters is None
    assert clustered.ci_method == "cluster_bootstrap" and clustered.n_clusters == 20
    assert clustered.diff == plain.diff and clustered.p_value == plain.p_value
    assert (clustered.ci_high - clustered.ci_low) > 1.5 * (plain.ci_high - plain.ci_low)
    assert "cluster bootstrap over 20 clusters" in clustered.note
    assert "cluster" not in plain.note


def test_cluster_bootstrap_needs_two_clusters_and_one_label_per_task() -> None:
    low, high = cluster_bootstrap_ci([1.0, 0.0, 1.0], ["p", "p", "p"], seed=0)
    assert math.isnan(low) and math.isnan(high)
    with pytest.raises(StatisticsInputError, match="clusters has 2 labels but there are 3"):
        cluster_bootstrap_ci([1.0, 0.0, 1.0], ["p", "q"], seed=0)


def test_compare_all_pairs_uses_clusters_by_task_id() -> None:
    a, b, clusters = clustered_scores()
    ids = [f"t{i:03d}" for i in range(200)]
    df = pd.DataFrame(
        {"arm": ["a"] * 200 + ["b"] * 200, "task_id": ids * 2, "score": np.concatenate([a, b])}
    )
    table = compare_all_pairs(df, "arm", seed=0, clusters=dict(zip(ids, clusters, strict=True)))
    assert table["ci_method"].tolist() == ["cluster_bootstrap"]
    direct = compare_paired(a, b, seed=0, clusters=clusters)
    assert table["ci_low"].iloc[0] == pytest.approx(direct.ci_low)
    with pytest.raises(StatisticsInputError, match="task 't000' has no cluster"):
        compare_all_pairs(df, "arm", seed=0, clusters={})


def test_pair_correlation_matches_numpy() -> None:
    a = [1.0, 0.0, 1.0, 1.0, 0.0, 0.5]
    b = [1.0, 0.0, 0.0, 1.0, 0.5, 0.5]
    expected = float(np.corrcoef(a, b)[0, 1])
    assert pair_correlation(a, b) == pytest.approx(expected)
    assert compare_paired(a, b, seed=0).correlation == pytest.approx(expected)
    # Undefined when one arm scored every task the same.
    assert math.isnan(pair_correlation([1.0, 1.0, 1.0], [1.0, 0.0, 1.0]))
