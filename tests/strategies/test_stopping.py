"""Stopping rules stop exactly where the posterior / window arithmetic says they should."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Hashable, Iterator, Sequence
from fractions import Fraction

import numpy as np
import pytest
from scipy.special import betainc

from promptlab.errors import PromptlabError
from promptlab.strategies.stopping import (
    AnyStop,
    BetaStop,
    DirichletStop,
    FixedN,
    PredictiveStop,
    SamplingLoop,
    StopDecision,
    StoppingParameterError,
    StoppingRule,
    UnbeatableStop,
    WindowStop,
    beta_lead_probability,
    dirichlet_lead_probability,
    lead_holds_probability,
    plan_batches,
    sample_until_stop,
    sample_until_stop_sync,
)
from promptlab.voting import MajorityVote


def first_stop(rule: StoppingRule, votes: Sequence[Hashable | None]) -> int | None:
    """Number of samples after which the rule first says stop (checked after every sample)."""
    for n in range(1, len(votes) + 1):
        if rule.decide(votes[:n]).stop:
            return n
    return None


# --- Beta rule: P(p > 0.5) = sum_{j=0}^{c1} C(n, j) / 2^n with n = c1 + c2 + 1 ---------------


def test_all_same_answer_stops_at_four_with_threshold_095() -> None:
    # 3 A: 1 - 0.5^4 = 0.9375 < 0.95; 4 A: 1 - 0.5^5 = 0.96875 >= 0.95.
    assert beta_lead_probability(3, 0) == Fraction(15, 16)
    assert beta_lead_probability(4, 0) == Fraction(31, 32)
    assert first_stop(BetaStop(0.95), ["A"] * 10) == 4


def test_one_dissenting_vote_delays_stop_to_seven() -> None:
    # (5 A, 1 B): n=7, (128 - C(7,6) - C(7,7)) / 128 = 120/128 = 0.9375 < 0.95
    # (6 A, 1 B): n=8, (256 - 8 - 1) / 256 = 247/256 = 0.9648 >= 0.95
    assert beta_lead_probability(5, 1) == Fraction(120, 128)
    assert beta_lead_probability(6, 1) == Fraction(247, 256)
    assert first_stop(BetaStop(0.95), ["A", "B"] + ["A"] * 10) == 7


def test_two_dissenting_votes_need_eight_leading_votes() -> None:
    # (7 A, 2 B): n=10, (1024 - 45 - 10 - 1) / 1024 = 968/1024 = 0.9453 < 0.95
    # (8 A, 2 B): n=11, (2048 - 55 - 11 - 1) / 2048 = 1981/2048 = 0.9673 >= 0.95
    assert beta_lead_probability(7, 2) == Fraction(968, 1024)
    assert beta_lead_probability(8, 2) == Fraction(1981, 2048)
    votes = ["B", "A", "A", "B", "A", "A", "A", "A", "A", "A", "A"]
    assert first_stop(BetaStop(0.95), votes) == 10  # 8 A and 2 B after 10 samples


def test_nones_cost_samples_but_are_not_votes() -> None:
    # After 5 samples only 3 A were extracted (0.9375); the 4th A arrives at sample 6.
    votes = [None, "A", None, "A", "A", "A"]
    assert first_stop(BetaStop(0.95), votes) == 6
    decision = BetaStop(0.95).decide([None, None, None])
    assert not decision.stop
    assert decision.reason == "beta: no extractable answer after 3 samples"


def test_tied_leaders_never_stop() -> None:
    assert beta_lead_probability(6, 6) == Fraction(1, 2)
    assert not BetaStop(0.51).decide(["A", "B"] * 6).stop


def test_min_samples_holds_back_an_early_stop() -> None:
    assert first_stop(BetaStop(0.95, min_samples=6), ["A"] * 10) == 6
    assert BetaStop(0.95, min_samples=6).decide(["A"] * 5).reason == (
        "beta: 5 samples < min_samples=6"
    )


def test_exact_sum_agrees_with_scipy_betainc() -> None:
    for c1 in range(0, 40):
        for c2 in range(0, c1 + 1):
            exact = float(beta_lead_probability(c1, c2))
            assert exact == pytest.approx(1 - betainc(c1 + 1, c2 + 1, 0.5), rel=1e-12, abs=1e-15)


def test_reason_is_machine_readable() -> None:
    decision = BetaStop(0.95).decide(["A"] * 4)
    assert decision == StopDecision(True, "beta: P(lead>0.5)=0.9688>=0.95 after 4 samples")
    match = re.fullmatch(
        r"beta: P\(lead>0\.5\)=([\d.]+)(>=|<)([\d.]+) after (\d+) samples",
        BetaStop(0.95).decide(["A"] * 3).reason,
    )
    assert match is not None
    assert match.groups() == ("0.9375", "<", "0.95", "3")


# --- Dirichlet rule for three or more answers -------------------------------------------------


def test_dirichlet_closed_forms() -> None:
    # Dirichlet(2,1,1) = normalised (G ~ Gamma(2), E1, E2 ~ Exp(1)); P(G > max(E1, E2)) =
    # E[(1 - e^-G)^2] = 1 - 2 E[e^-G] + E[e^-2G] = 1 - 2/4 + 1/9 = 11/18.
    assert dirichlet_lead_probability([1, 0, 0]) == Fraction(11, 18)
    # Same with G ~ Gamma(3): 1 - 2/8 + 1/27 = 85/108.
    assert dirichlet_lead_probability([2, 0, 0]) == Fraction(85, 108)
    # Equal counts are exchangeable, so each bin is the max with probability 1/k.
    assert dirichlet_lead_probability([2, 2, 2]) == Fraction(1, 3)
    assert dirichlet_lead_probability([1, 1, 1, 1]) == Fraction(1, 4)


def test_dirichlet_with_two_bins_is_the_beta_rule() -> None:
    for c1, c2 in [(0, 0), (3, 0), (5, 2), (9, 4)]:
        assert dirichlet_lead_probability([c1, c2]) == beta_lead_probability(c1, c2)


def test_dirichlet_agrees_with_monte_carlo() -> None:
    rng = np.random.default_rng(12345)
    for counts in ([5, 2, 1], [6, 3, 3, 1], [8, 4, 2, 1, 1], [3, 3, 1]):
        draws = rng.dirichlet(np.array(counts) + 1.0, size=20_000)
        monte_carlo = float(np.mean(draws[:, 0] > draws[:, 1:].max(axis=1)))
        # 200k draws: standard error <= 0.0012, so 0.005 is a > 4-sigma band.
        assert float(dirichlet_lead_probability(counts)) == pytest.approx(monte_carlo, abs=0.005)


def test_dirichlet_stop_weighs_every_answer() -> None:
    # Counts (c, 1, 1): P = 1 - 2[(1/2)^a + a(1/2)^(a+1)]
    #                     + [(1/3)^a + 2a(1/3)^(a+1) + a(a+1)(1/3)^(a+2)], a = c + 1.
    # c=6: 0.9351 < 0.95; c=7: 0.9631 >= 0.95 -> stops after B, C and 7 A = 9 samples.
    votes = ["B", "C"] + ["A"] * 10
    assert first_stop(DirichletStop(0.95), votes) == 9
    reason = DirichletStop(0.95).decide(votes[:9]).reason
    assert reason == "dirichlet: P(lead is max of 3)=0.9631>=0.95 after 9 samples"


def test_beta_stop_compares_only_the_top_two_as_in_the_paper() -> None:
    # B, C and 6 A: the Beta rule sees (6, 1) -> 247/256 = 0.9648 >= 0.95 and stops after 8
    # samples; the Dirichlet rule sees (6, 1, 1) -> 0.9351 and needs a 7th A (9 samples).
    votes = ["B", "C"] + ["A"] * 10
    assert first_stop(BetaStop(0.95), votes) == 8
    assert BetaStop(0.95).decide(votes[:8]) == StopDecision(
        True, "beta: P(lead>0.5)=0.9648>=0.95 after 8 samples"
    )
    assert DirichletStop(0.95).decide(votes[:8]) == StopDecision(
        False, "dirichlet: P(lead is max of 3)=0.9351<0.95 after 8 samples"
    )


def test_beta_stop_ignores_answers_beyond_the_runner_up() -> None:
    # (6 A, 2 B) and (6 A, 2 B, 2 C, 1 D) give the Beta rule the same 0.9102.
    two_way = ["A"] * 6 + ["B"] * 2
    four_way = [*two_way, "C", "C", "D"]
    assert BetaStop(0.9).decide(two_way).reason == "beta: P(lead>0.5)=0.9102>=0.9 after 8 samples"
    assert BetaStop(0.9).decide(four_way).reason == (
        "beta: P(lead>0.5)=0.9102>=0.9 after 11 samples"
    )
    assert not DirichletStop(0.9).decide(four_way).stop


@pytest.mark.parametrize("votes", [["A"] * 4, ["A", "B", "A", "A", "A", "A", "A"], ["A"] * 2])
def test_with_one_or_two_answers_both_rules_agree(votes: list[str]) -> None:
    beta, dirichlet = BetaStop(0.95).decide(votes), DirichletStop(0.95).decide(votes)
    assert beta.stop == dirichlet.stop
    assert beta.reason.split("=")[1] == dirichlet.reason.split("=")[1]  # same probability


def test_dirichlet_reasons_carry_their_own_tag() -> None:
    assert DirichletStop(0.95, min_samples=6).decide(["A"] * 5).reason == (
        "dirichlet: 5 samples < min_samples=6"
    )
    assert DirichletStop(0.95).decide([None, None]).reason == (
        "dirichlet: no extractable answer after 2 samples"
    )
    assert DirichletStop(0.95).decide(["A"] * 4).reason == (
        "dirichlet: P(lead is max of 2)=0.9688>=0.95 after 4 samples"
    )


def test_unseen_bin_makes_the_rule_more_cautious() -> None:
    # The unseen bin turns (6, 1) into (6, 1, 0): P drops from 247/256 = 0.9648 to 0.9586,
    # so at threshold 0.96 only the rule without it stops after these 7 samples.
    votes = ["B"] + ["A"] * 6
    assert DirichletStop(0.96).decide(votes).stop
    assert not DirichletStop(0.96, unseen_bin=True).decide(votes).stop
    assert float(dirichlet_lead_probability([6, 1, 0])) == pytest.approx(0.95856, abs=1e-5)


# --- Window rule ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("votes", "expected"),
    [
        (["A", "A", "A"], 3),
        (["A", "A", "B", "B", "B"], 5),
        (["A", "B", "A", "A", "C", "A"], None),
        (["A", "A", None, "A", "A", "A"], 6),  # a None in the window blocks stopping
        ([None, None, None, None], None),  # agreeing on "no answer" is not agreement
    ],
)
def test_window_of_three(votes: list[str | None], expected: int | None) -> None:
    assert first_stop(WindowStop(3), votes) == expected


def test_window_reasons() -> None:
    assert WindowStop(4).decide(["B", "A", "A", "A", "A"]).reason == (
        "window: last 4 agree after 5 samples"
    )
    assert WindowStop(4).decide(["A", "A"]).reason == "window: 2 samples < window=4"


def test_fixed_never_stops_early() -> None:
    assert first_stop(FixedN(), ["A"] * 32) is None


class FirstRepeatStop:
    """A user's own rule: any object with ``decide`` works, no base class needed."""

    def decide(self, votes: Sequence[Hashable | None]) -> StopDecision:
        seen = [v for v in votes if v is not None]
        repeated = len(seen) != len(set(seen))
        return StopDecision(repeated, f"repeat: {'yes' if repeated else 'no'}")


def test_a_duck_typed_rule_drives_the_sampling_loop() -> None:
    stream = iter(["A", "B", "C", "B", "A", "A"])
    votes, decision = run_loop(stream, FirstRepeatStop(), max_n=6)
    assert votes == ["A", "B", "C", "B"] and decision == StopDecision(True, "repeat: yes")


@pytest.mark.parametrize(
    ("rule", "tag"),
    [(FixedN(), "fixed: "), (BetaStop(), "beta: "), (DirichletStop(), "dirichlet: "),
     (WindowStop(), "window: ")],
)  # fmt: skip
def test_every_reason_starts_with_the_rules_tag(rule: StoppingRule, tag: str) -> None:
    for votes in ([], [None], ["A"], ["A", "B", "C"], ["A"] * 8, ["A", "B"] * 5):
        assert rule.decide(votes).reason.startswith(tag), (rule, votes)


# --- Batching and the sampling loop (the one SelfConsistency runs) ---------------------------


def run_loop(
    answers: Iterator[Hashable | None], rule: StoppingRule | None, max_n: int, batch_size: int = 1
) -> tuple[list[Hashable | None], StopDecision]:
    """Run `sample_until_stop` on a stream of answers; every draw takes the next ``k``.

    The blocking driver, `sample_until_stop_sync`, runs on a copy of the stream and must
    draw the same batches, stop at the same sample and give the same decision.
    """
    answers, copy = itertools.tee(answers)
    sizes: dict[str, list[int]] = {"async": [], "sync": []}

    async def draw(k: int) -> list[Hashable | None]:
        sizes["async"].append(k)
        return [next(answers) for _ in range(k)]

    def draw_sync(k: int) -> list[Hashable | None]:
        sizes["sync"].append(k)
        return [next(copy) for _ in range(k)]

    result = asyncio.run(sample_until_stop(draw, rule, max_n, batch_size))
    assert sample_until_stop_sync(draw_sync, rule, max_n, batch_size) == result
    assert sizes["sync"] == sizes["async"]
    return result


def test_plan_batches() -> None:
    assert plan_batches(10, 4) == [4, 4, 2]
    assert plan_batches(16, 16) == [16]
    assert plan_batches(3, 5) == [3]
    assert plan_batches(16, 1) == [1] * 16


def test_batches_overshoot_to_the_next_check() -> None:
    votes, decision = run_loop(iter(["A"] * 16), BetaStop(0.95), max_n=16, batch_size=3)
    # BetaStop would stop at 4, but the rule is only consulted after samples 3 and 6.
    assert len(votes) == 6
    assert decision.stop and decision.reason.startswith("beta:")


def test_loop_reports_max_n_when_the_rule_never_stops() -> None:
    votes, decision = run_loop(iter(["A"] * 10), FixedN(), max_n=10, batch_size=4)
    assert len(votes) == 10
    assert decision == StopDecision(True, "max n=10 reached")


def test_loop_without_a_rule_draws_everything_in_one_batch() -> None:
    sizes: list[int] = []

    async def draw(k: int) -> list[str]:
        sizes.append(k)
        return ["A"] * k

    votes, decision = asyncio.run(sample_until_stop(draw, None, max_n=7, batch_size=2))
    assert sizes == [7] and len(votes) == 7
    assert decision == StopDecision(True, "fixed n=7")


def test_loop_rejects_a_draw_of_the_wrong_size() -> None:
    async def short(k: int) -> list[str]:
        return ["A"] * 3

    with pytest.raises(StoppingParameterError, match=r"draw\(4\) returned 3 answers"):
        asyncio.run(sample_until_stop(short, FixedN(), max_n=8, batch_size=4))
    with pytest.raises(StoppingParameterError, match=r"draw\(4\) returned 3 answers"):
        sample_until_stop_sync(lambda k: ["A"] * 3, FixedN(), max_n=8, batch_size=4)


def test_loop_without_a_rule_draws_everything_in_one_batch_without_an_event_loop() -> None:
    sizes: list[int] = []

    def draw(k: int) -> list[str]:
        sizes.append(k)
        return ["A"] * k

    votes, decision = sample_until_stop_sync(draw, None, max_n=7, batch_size=2)
    assert sizes == [7] and len(votes) == 7
    assert decision == StopDecision(True, "fixed n=7")


def test_the_loop_drawn_by_hand_asks_for_planned_batches_and_says_why_it_ended() -> None:
    loop = SamplingLoop(WindowStop(3), max_n=9, batch_size=2)
    asked = []
    while size := loop.next_batch():
        asked.append(size)
        loop.add(iter(["B", "A", "A", "A", "A"][len(loop.votes) :][:size]))  # any iterable
    assert asked == [2, 2] and loop.votes == ["B", "A", "A", "A"]
    assert loop.result() == (loop.votes, StopDecision(True, "window: last 3 agree after 4 samples"))
    assert loop.next_batch() == 0  # over for good


def test_the_loop_checks_its_budget_before_anything_is_drawn() -> None:
    with pytest.raises(StoppingParameterError, match="max_n=0"):
        SamplingLoop(BetaStop(), max_n=0)
    with pytest.raises(StoppingParameterError, match="batch_size=0"):
        SamplingLoop(BetaStop(), max_n=4, batch_size=0)
    with pytest.raises(RuntimeError, match="still running"):
        SamplingLoop(None, max_n=4).result()


# --- Bad parameters ---------------------------------------------------------------------------


@pytest.mark.parametrize("threshold", [0.5, 1.0, 1.2, 0.3, -1, "0.9", True])
@pytest.mark.parametrize("rule", [BetaStop, DirichletStop])
def test_bad_threshold(rule: type, threshold: object) -> None:
    with pytest.raises(StoppingParameterError, match=r"threshold=.* \(0\.5, 1\)|0\.5 and 1"):
        rule(threshold)


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: WindowStop(0), "window=0"),
        (lambda: WindowStop(2.5), "window=2.5"),
        (lambda: BetaStop(min_samples=0), "min_samples=0"),
        (lambda: DirichletStop(min_samples=0), "min_samples=0"),
        (lambda: plan_batches(0, 1), "max_n=0"),
        (lambda: plan_batches(5, 0), "batch_size=0"),
    ],
)
def test_bad_integers_name_the_field(build: object, field: str) -> None:
    with pytest.raises(StoppingParameterError, match=re.escape(field) + r".*integer >= 1"):
        build()  # type: ignore[operator]


def test_parameter_errors_are_promptlab_and_value_errors() -> None:
    with pytest.raises(PromptlabError):
        WindowStop(0)
    with pytest.raises(ValueError):
        WindowStop(0)


# --- Budget-aware rules: the full-budget vote is what they predict ----------------------------


def test_unbeatable_stop_never_changes_the_full_budget_vote() -> None:
    # Random streams over a few answers and Nones: wherever the rule stops, the majority of
    # the samples drawn so far is the majority of all max_n samples (ties to first seen).
    rng = np.random.default_rng(0)
    vote = MajorityVote()
    stopped_early = 0
    for _ in range(3000):
        max_n = int(rng.integers(1, 17))
        weights = rng.dirichlet(np.ones(4))
        stream = [None if k == 3 else "ABC"[k] for k in rng.choice(4, size=max_n, p=weights)]
        votes, decision = run_loop(iter(stream), UnbeatableStop(), max_n=max_n)
        assert vote(votes).winner == vote(stream).winner, (stream, votes, decision)
        stopped_early += len(votes) < max_n
    assert stopped_early > 1000  # the property is not met by never stopping


def test_unbeatable_stop_stops_at_the_first_certain_margin() -> None:
    rule = UnbeatableStop(max_n=10)
    assert first_stop(rule, ["A"] * 10) == 6  # 6-0 with 4 left
    assert first_stop(rule, ["B", "A", "A", "A", "A", "A", "A", "A", "A", "A"]) == 7  # 6-1, 3 left
    assert rule.decide(["A"] * 5).reason == "unbeatable: lead 5-0, 5 left after 5 samples"
    assert not rule.decide(["A"] * 5).stop  # a 5-5 tie is still possible


def test_lead_holds_probability_agrees_with_monte_carlo() -> None:
    rng = np.random.default_rng(1)
    for lead, runner_up, rest, remaining in [(3, 1, 1, 6), (4, 0, 0, 12), (2, 2, 3, 5)]:
        shares = rng.dirichlet([lead + 1, runner_up + 1, rest + 1], size=20_000)
        counts = np.array([rng.multinomial(remaining, p) for p in shares])
        simulated = np.mean(lead + counts[:, 0] > runner_up + counts[:, 1])
        exact = lead_holds_probability(lead, runner_up, rest, remaining)
        assert exact == pytest.approx(simulated, abs=0.01), (lead, runner_up, rest, remaining)


def test_lead_holds_probability_at_the_end_of_the_budget_is_the_vote() -> None:
    assert lead_holds_probability(3, 2, 0, 0) == pytest.approx(1.0)
    assert lead_holds_probability(2, 2, 0, 0) == 0.0
    # A margin larger than what is left is certain.
    assert lead_holds_probability(6, 1, 0, 4) == pytest.approx(1.0)


def test_predictive_stop_waits_for_min_samples_then_asks_about_the_budget() -> None:
    rule = PredictiveStop(0.9, min_samples=4, max_n=16)
    assert not rule.decide(["A"] * 3).stop
    decision = rule.decide(["A"] * 4)
    probability = lead_holds_probability(4, 0, 0, 12)
    assert decision.stop is (probability >= 0.9)
    assert decision.reason.startswith(f"predictive: P(lead holds)={probability:.4f}")
    # The closer the end of the budget, the fewer votes it needs for the same margin.
    assert PredictiveStop(0.9, max_n=9).decide(["A", "B", "A", "A", "B", "A", "A"]).stop
    assert not PredictiveStop(0.9, max_n=40).decide(["A", "B", "A", "A", "B", "A", "A"]).stop


def test_budget_rules_need_a_budget_and_the_loop_gives_it() -> None:
    with pytest.raises(StoppingParameterError, match="needs the sample budget"):
        UnbeatableStop().decide(["A"])
    votes, decision = run_loop(iter(["A"] * 8), UnbeatableStop(), max_n=8)
    assert len(votes) == 5 and decision.reason.startswith("unbeatable: lead 5-0, 3 left")
    votes, _ = run_loop(iter(["A"] * 8), AnyStop(FixedN(), UnbeatableStop()), max_n=8)
    assert len(votes) == 5


def test_any_stop_gives_the_reason_of_the_rule_that_stopped() -> None:
    rule = AnyStop(UnbeatableStop(max_n=16), BetaStop(0.95))
    assert rule.decide(["A"] * 4).reason.startswith("beta: ")
    assert not rule.decide(["A", "B"]).stop
    assert rule.decide(["A", "B"]).reason.startswith("beta: ")
    late = AnyStop(BetaStop(0.99), UnbeatableStop(max_n=6))
    assert late.decide(["A", "A", "A", "A"]).reason.startswith("unbeatable: ")
    with pytest.raises(StoppingParameterError, match="at least one rule"):
        AnyStop()
    with pytest.raises(StoppingParameterError, match="not a stopping rule"):
        AnyStop(BetaStop(), "beta")  # type: ignore[arg-type]
