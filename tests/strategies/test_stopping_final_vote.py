"""FinalVoteStop: its probability is the exact urn forecast of the full-budget vote."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable, Iterator, Sequence
from fractions import Fraction
from functools import cache

import numpy as np
import pytest

from promptlab import SelfConsistency, ZeroShot
from promptlab.strategies.stopping import (
    AnyStop,
    FinalVoteStop,
    StopDecision,
    StoppingParameterError,
    StoppingRule,
    UnbeatableStop,
    final_vote_probability,
    sample_until_stop,
)
from promptlab.testing import FakeProvider
from promptlab.voting import MajorityVote

Vote = Hashable | None


def urn_forecast(votes: Sequence[Vote], remaining: int, unseen: Fraction) -> Fraction:
    """The definition, by brute force: walk every path of the urn, sample by sample.

    The next sample repeats each answer seen so far (None included) in proportion to its
    count, or is a brand-new answer with weight ``unseen``; score 1 where the final
    majority vote (ties to the first seen) is the winner now.
    """
    vote = MajorityVote()
    now = vote([None if v is None else str(v) for v in votes]).winner

    @cache
    def walk(drawn: tuple[Vote, ...], left: int, fresh: int) -> Fraction:
        if left == 0:
            return Fraction(vote([None if v is None else str(v) for v in drawn]).winner == now)
        counts: dict[Vote, int] = {}
        for v in drawn:
            counts[v] = counts.get(v, 0) + 1
        total = len(drawn) + unseen
        out = sum(
            (Fraction(c) / total * walk((*drawn, v), left - 1, fresh) for v, c in counts.items()),
            Fraction(0),
        )
        return out + unseen / total * walk((*drawn, f"new{fresh}"), left - 1, fresh + 1)

    return walk(tuple(votes), remaining, 0)


def run_loop(
    answers: Iterator[Vote], rule: StoppingRule, max_n: int
) -> tuple[list[Vote], StopDecision]:
    async def draw(k: int) -> list[Vote]:
        return [next(answers) for _ in range(k)]

    return asyncio.run(sample_until_stop(draw, rule, max_n))


# --- The probability -------------------------------------------------------------------------


def test_small_cases_by_hand() -> None:
    # "A", 2 left: A next (1/2) wins; a new X next (1/2), then A (1/3) wins, X (1/3) makes
    # X 2-1 the winner, a new Y (1/3) leaves a 1-1-1 tie that A, seen first, wins: 5/6.
    assert final_vote_probability(["A"], 2) == pytest.approx(5 / 6)
    # "A", "B" (A leads on the tie rule), 1 left: A or a new answer keeps A first (2/3).
    assert final_vote_probability(["A", "B"], 1) == pytest.approx(2 / 3)
    # The same counts with B seen first: now B leads, and only B or a new answer keeps it.
    assert final_vote_probability(["B", "A"], 1) == pytest.approx(2 / 3)
    # A None is never a winner but does take samples: after "A", None, 1 left, only a new
    # answer (a 1-1 tie A wins), A or None can come, so the vote always holds.
    assert final_vote_probability(["A", None], 1) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("votes", "remaining", "unseen"),
    [
        (["A", "A", "B"], 5, Fraction(1)),
        (["B", "A", "A", "C"], 4, Fraction(1)),
        (["A", "B", "C"], 4, Fraction(1, 2)),
        (["C", "B", "A", "A", None], 4, Fraction(2)),
        ([None, "A", "B", "B", None, "A"], 5, Fraction(1)),
        (["A", "B", "A", "B"], 6, Fraction(3, 2)),
        (["A"], 7, Fraction(1)),
    ],
)
def test_exact_sum_equals_the_urn_walked_path_by_path(
    votes: list[Vote], remaining: int, unseen: Fraction
) -> None:
    exact = final_vote_probability(votes, remaining, float(unseen))
    assert exact == pytest.approx(float(urn_forecast(votes, remaining, unseen)), abs=1e-12)


def test_random_states_match_the_urn() -> None:
    rng = np.random.default_rng(7)
    for _ in range(40):
        size = int(rng.integers(1, 7))
        votes = [None if k == 3 else "ABC"[k] for k in rng.choice(4, size=size)]
        if all(v is None for v in votes):
            continue
        remaining = int(rng.integers(0, 6))
        unseen = Fraction(int(rng.integers(1, 5)), 2)
        expected = float(urn_forecast(votes, remaining, unseen))
        assert final_vote_probability(votes, remaining, float(unseen)) == pytest.approx(
            expected, abs=1e-12
        ), (votes, remaining, unseen)


def test_certain_outcomes_give_one() -> None:
    assert final_vote_probability(["A", "B"], 0) == 1.0  # the vote as it stands
    assert final_vote_probability(["A"] * 6 + ["B"], 4) == pytest.approx(1.0)  # 6-1, 4 left


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: final_vote_probability(["A"], -1), "remaining=-1"),
        (lambda: final_vote_probability(["A"], 3, unseen=0), "unseen=0"),
        (lambda: final_vote_probability([None, None], 3), "no extractable answer"),
        (lambda: FinalVoteStop(unseen=-1.0), "unseen=-1.0"),
        (lambda: FinalVoteStop(threshold=1.0), "threshold=1.0"),
        (lambda: FinalVoteStop(min_samples=0), "min_samples=0"),
    ],
)
def test_bad_parameters_name_the_field(call: object, field: str) -> None:
    with pytest.raises(StoppingParameterError, match=field.replace("(", r"\(")):
        call()  # type: ignore[operator]


# --- The rule ---------------------------------------------------------------------------------


def test_three_agreeing_votes_stop_with_a_budget_of_sixteen() -> None:
    rule = FinalVoteStop(0.95, max_n=16)
    assert rule.decide(["A", "A"]) == StopDecision(
        False, "final_vote: P(same as n=16)=0.8957<0.95 after 2 samples"
    )
    assert rule.decide(["A", "A", "A"]) == StopDecision(
        True, "final_vote: P(same as n=16)=0.9705>=0.95 after 3 samples"
    )


def test_reasons_for_waiting() -> None:
    rule = FinalVoteStop(max_n=8, min_samples=3)
    assert rule.decide(["A", "A"]).reason == "final_vote: 2 samples < min_samples=3"
    assert rule.decide([None, None, None]).reason == (
        "final_vote: no extractable answer after 3 samples"
    )
    with pytest.raises(StoppingParameterError, match="needs the sample budget"):
        FinalVoteStop().decide(["A"])


def test_it_stops_no_later_than_the_unbeatable_rule() -> None:
    # Wherever the lead cannot be overtaken its probability is 1, so it includes that rule.
    rng = np.random.default_rng(3)
    earlier = 0
    for _ in range(400):
        max_n = int(rng.integers(2, 17))
        weights = rng.dirichlet(np.ones(4))
        stream = [None if k == 3 else "ABC"[k] for k in rng.choice(4, size=max_n, p=weights)]
        final, _ = run_loop(iter(stream), FinalVoteStop(0.99), max_n)
        certain, _ = run_loop(iter(stream), UnbeatableStop(), max_n)
        assert len(final) <= len(certain), stream
        earlier += len(final) < len(certain)
    assert earlier > 50  # and it does stop sooner, often


def test_the_loop_and_any_stop_pass_it_the_budget() -> None:
    votes, decision = run_loop(iter(["A"] * 16), FinalVoteStop(0.95), max_n=16)
    assert len(votes) == 3 and decision.reason.startswith("final_vote: P(same as n=16)=0.9705")
    bound = AnyStop(UnbeatableStop(), FinalVoteStop(0.95)).for_budget(16)
    assert bound.decide(["A"] * 3).stop


def test_self_consistency_stops_where_the_forecast_says() -> None:
    replies = [f"Answer: {a}" for a in ("7", "3", "7", "7", "7", "7", "7", "7")]
    fake = FakeProvider(replies)
    sc = SelfConsistency(ZeroShot(extractor="numeric"), n=16, stopping=FinalVoteStop(0.95),
                         batch_size=1)  # fmt: skip
    result = sc.run({"question": "q"}, fake)
    expected = next(
        n
        for n in range(1, 9)
        if final_vote_probability(["7", "3", "7", "7", "7", "7", "7", "7"][:n], 16 - n) >= 0.95
    )
    assert len(result.samples) == expected == 5
    assert result.answer == "7"
    assert result.stop_reason.startswith("final_vote: P(same as n=16)=")


def test_repr_shows_every_setting() -> None:
    assert repr(FinalVoteStop(0.97, unseen=2, max_n=16)) == (
        "FinalVoteStop(threshold=0.97, unseen=2.0, min_samples=1, max_n=16)"
    )


def test_experiment_files_name_it_final_vote() -> None:
    from pathlib import Path

    from promptlab.experiments.config import build_strategy

    spec = {
        "strategy": "self_consistency",
        "base": {"strategy": "zero_shot"},
        "stopping": {"rule": "final_vote", "threshold": 0.97, "unseen": 2},
    }
    strategy = build_strategy(spec, ("arms", 0), Path("."), None)
    assert isinstance(strategy, SelfConsistency)
    rule = strategy.stopping
    assert isinstance(rule, FinalVoteStop)
    assert (rule.threshold, rule.unseen) == (0.97, 2.0)
