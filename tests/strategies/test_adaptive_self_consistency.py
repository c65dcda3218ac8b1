"""Adaptive self-consistency end to end: scripted votes stop exactly where the math says.

The Beta rule stops when P(p > 1/2) >= threshold for p ~ Beta(lead + 1, runner_up + 1),
which for integer counts is sum_{j<=lead} C(lead + runner_up + 1, j) / 2^(lead+runner_up+1):

* all votes agree: 3 votes give 1 - 1/2^4 = 0.9375, 4 votes give 1 - 1/2^5 = 0.96875, so
  at threshold 0.95 sampling stops after the 4th agreeing vote;
* one dissent: (5, 1) gives 120/128 = 0.9375, (6, 1) gives 247/256 = 0.965, so it stops
  at 7 samples.
"""

import pytest

from promptlab import Capabilities, SelfConsistency, ZeroShot
from promptlab.strategies.stopping import BetaStop, DirichletStop, FixedN, WindowStop
from promptlab.testing import FakeProvider

QUESTION = {"question": "q"}


def replies(*answers: str | None) -> list[str]:
    return [f"Answer: {a}" if a is not None else "no idea" for a in answers]


def sc(n: int = 16, **kwargs) -> SelfConsistency:
    return SelfConsistency(ZeroShot(extractor="numeric"), n=n, **kwargs)


@pytest.mark.parametrize(
    ("batch_size", "samples", "requests"),
    [(1, 4, 4), (2, 4, 2), (3, 6, 2), (4, 4, 1)],
)
def test_unanimous_votes_stop_after_four_checked_at_batch_ends(batch_size, samples, requests):
    fake = FakeProvider(replies("7"), cycle=True)
    result = sc(stopping=BetaStop(0.95), batch_size=batch_size).run(QUESTION, fake)
    assert len(result.samples) == samples
    assert fake.calls == requests and result.calls == requests
    assert [r.params.n for r in fake.requests] == [batch_size] * requests
    assert result.answer == "7" and result.votes == {"7": samples}
    assert result.stop_reason.startswith("beta: P(lead>0.5)=")
    assert f"after {samples} samples" in result.stop_reason


def test_one_dissent_delays_the_stop_to_seven_samples():
    fake = FakeProvider(replies("7", "3", "7", "7", "7", "7", "7", "7", "7"))
    result = sc(stopping=BetaStop(0.95), batch_size=1).run(QUESTION, fake)
    assert len(result.samples) == 7 and fake.calls == 7
    assert result.votes == {"7": 6, "3": 1}
    assert "P(lead>0.5)=0.9648>=0.95 after 7 samples" in result.stop_reason


def test_a_three_way_split_under_the_dirichlet_rule():
    fake = FakeProvider(replies("7", "3", "5", *["7"] * 13))
    result = sc(stopping=DirichletStop(0.95), batch_size=1).run(QUESTION, fake)
    assert result.stop_reason == "dirichlet: P(lead is max of 3)=0.9631>=0.95 after 9 samples"
    assert result.answer == "7" and len(result.samples) == 9


def test_unextractable_replies_cost_samples_but_do_not_vote():
    fake = FakeProvider(replies(None, None, "7", "7", "7", "7", "7"))
    result = sc(stopping=BetaStop(0.95), batch_size=1).run(QUESTION, fake)
    assert len(result.samples) == 6 and result.no_answer == 2
    assert result.votes == {"7": 4}


def test_window_rule_stops_when_the_last_three_agree():
    fake = FakeProvider(replies("3", "7", "7", "7", "7"))
    result = sc(stopping=WindowStop(3), batch_size=1).run(QUESTION, fake)
    assert len(result.samples) == 4 and fake.calls == 4
    assert result.stop_reason == "window: last 3 agree after 4 samples"


def test_an_unsettled_vote_uses_the_whole_budget_in_batches():
    fake = FakeProvider(replies("7", "3"), cycle=True)
    result = sc(n=5, stopping=BetaStop(0.95), batch_size=2).run(QUESTION, fake)
    assert len(result.samples) == 5
    assert [r.params.n for r in fake.requests] == [2, 2, 1]
    assert result.stop_reason == "max n=5 reached"
    assert result.answer == "7"  # 3 votes to 2


def test_a_rule_that_never_stops_matches_fixed_n_votes():
    script = replies("7", "3", "7", "5", "3", "3", "7", "3")
    adaptive = sc(n=8, stopping=FixedN(), batch_size=3).run(QUESTION, FakeProvider(script))
    fixed = sc(n=8).run(QUESTION, FakeProvider(script))
    assert adaptive.votes == fixed.votes == {"7": 3, "3": 4, "5": 1}
    assert adaptive.answer == fixed.answer == "3"


def test_without_a_rule_sampling_is_one_request_for_all_n():
    fake = FakeProvider(replies("7"), cycle=True)
    result = sc(n=16).run(QUESTION, fake)
    assert fake.calls == 1 and fake.requests[0].params.n == 16
    assert len(result.samples) == 16 and result.stop_reason == "fixed n=16"


def test_batches_get_fresh_seeds_on_providers_without_native_n():
    fake = FakeProvider(replies("7"), cycle=True, capabilities=Capabilities(seed=True))
    result = sc(stopping=BetaStop(0.95), batch_size=2).run(QUESTION, fake, seed=100)
    assert len(result.samples) == 4 and fake.calls == 4
    assert [r.params.seed for r in fake.requests] == [100, 101, 102, 103]


def test_the_result_records_the_budget_not_the_samples_drawn():
    fake = FakeProvider(replies("7"), cycle=True)
    result = sc(n=16, stopping=BetaStop(0.95), batch_size=1).run(QUESTION, fake)
    assert result.params.n == 16 and len(result.samples) == 4
