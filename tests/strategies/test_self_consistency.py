import pytest

from promptlab import (
    BetaStop,
    Capabilities,
    ChainOfThought,
    ConfigurationError,
    FewShot,
    Provider,
    ResponseFormatError,
    SelfConsistency,
    UnbeatableStop,
    ZeroShot,
)
from promptlab.completion import Choice, Completion, CompletionRequest
from promptlab.testing import FakeProvider


def test_split_vote_three_to_two():
    fake = FakeProvider(["... Answer: 19"] * 3 + ["... Answer: 9"] * 2)
    result = SelfConsistency(ChainOfThought(extractor="numeric"), n=5).run({"question": "q"}, fake)
    assert result.answer == "19"
    assert result.votes == {"19": 3, "9": 2}
    assert result.confidence == pytest.approx(0.6)
    assert len(result.samples) == 5 and result.no_answer == 0


def test_tie_goes_to_the_answer_sampled_first():
    fake = FakeProvider(["Answer: 9", "Answer: 19", "Answer: 19", "Answer: 9"])
    result = SelfConsistency(ZeroShot(extractor="numeric"), n=4).run({"question": "q"}, fake)
    assert result.answer == "9" and result.votes == {"9": 2, "19": 2}


def test_samples_without_answer_are_counted_and_do_not_vote():
    fake = FakeProvider(["no clue", "Answer: 3", "hmm", "Answer: 4", "Answer: 4"])
    result = SelfConsistency(ZeroShot(extractor="numeric"), n=5).run({"question": "q"}, fake)
    assert result.answer == "4" and result.no_answer == 2
    assert result.confidence == pytest.approx(2 / 5)


def test_all_samples_without_answer_gives_none():
    fake = FakeProvider(["?"] * 3)
    result = SelfConsistency(ZeroShot(extractor="numeric"), n=3).run({"question": "q"}, fake)
    assert result.answer is None and result.confidence == 0.0 and result.no_answer == 3


def test_native_n_is_one_request_at_sampling_temperature():
    fake = FakeProvider(["Answer: 1"], cycle=True)
    SelfConsistency(ZeroShot(), n=6, temperature=0.8).run({"question": "q"}, fake)
    assert fake.calls == 1
    assert fake.requests[0].params.n == 6 and fake.requests[0].params.temperature == 0.8


def test_without_native_n_samples_are_concurrent_calls_with_distinct_seeds():
    fake = FakeProvider(["Answer: 1"], cycle=True, capabilities=Capabilities(seed=True))
    result = SelfConsistency(ZeroShot(), n=4).run({"question": "q"}, fake, seed=10)
    assert fake.calls == 4 and result.calls == 4
    assert sorted(r.params.seed for r in fake.requests) == [10, 11, 12, 13]
    assert all(r.params.n is None for r in fake.requests)


def test_arm_and_call_overrides_beat_the_sampling_default():
    fake = FakeProvider(["Answer: 1"], cycle=True)
    SelfConsistency(ZeroShot(), n=2, temperature=0.7).run({"question": "q"}, fake, temperature=1.1)
    assert fake.requests[0].params.temperature == 1.1


def test_full_composition_sc_cot_few_shot():
    shots = [{"question": "1+1?", "rationale": "One and one is two.", "answer": "2"}]
    strategy = SelfConsistency(ChainOfThought(FewShot(shots, extractor="numeric")), n=3)
    fake = FakeProvider(["So 4. Answer: 4", "Answer: 4", "Answer: 5"])
    result = strategy.run({"question": "2+2?"}, fake)
    assert result.answer == "4" and result.votes == {"4": 2, "5": 1}
    assert "One and one is two." in result.messages[1].content


def test_usage_and_cost_add_up_over_samples():
    fake = FakeProvider(["Answer: 1 2"], cycle=True, cost_per_call=0.5, capabilities=Capabilities())
    result = SelfConsistency(ZeroShot(), n=3).run({"question": "q"}, fake)
    assert result.usage.output_tokens == 9 and result.cost_usd == pytest.approx(1.5)


def test_unknown_cost_stays_unknown():
    fake = FakeProvider(["Answer: 1"], cycle=True, cost_per_call=None)
    assert SelfConsistency(ZeroShot(), n=2).run({"question": "q"}, fake).cost_usd is None


def test_bad_n_is_a_clear_error():
    with pytest.raises(ConfigurationError, match="n=0"):
        SelfConsistency(ZeroShot(), n=0)


def test_a_rule_that_stops_on_the_last_batch_gives_its_own_reason():
    # n=4 in batches of 2: BetaStop(0.95) says stop after the 4th agreeing vote, which is
    # also the budget. The reason is the rule's, not "max n=4 reached".
    fake = FakeProvider(["Answer: 7"], cycle=True)
    sc = SelfConsistency(ZeroShot(extractor="numeric"), n=4, stopping=BetaStop(0.95))
    result = sc.run({"question": "q"}, fake)
    assert len(result.samples) == 4
    assert result.stop_reason == "beta: P(lead>0.5)=0.9688>=0.95 after 4 samples"


def test_the_budget_reason_only_when_the_rule_still_wants_more():
    fake = FakeProvider(["Answer: 7"], cycle=True)
    sc = SelfConsistency(ZeroShot(extractor="numeric"), n=3, stopping=BetaStop(0.95))
    result = sc.run({"question": "q"}, fake)
    assert len(result.samples) == 3 and result.stop_reason == "max n=3 reached"


class OneChoiceProvider(Provider):
    """Claims native ``n`` but always answers with a single choice."""

    name = "one-choice"
    capabilities = Capabilities(native_n=True)

    async def _generate(self, request: CompletionRequest) -> Completion:
        return Completion((Choice("Answer: 7"),), provider=self.name)


def test_a_provider_returning_too_few_samples_is_a_clear_error():
    # Named, not silently re-asked (an answer with no choices used to loop forever).
    with pytest.raises(ResponseFormatError, match="asked for 3 samples, got 1 choices"):
        SelfConsistency(ZeroShot(), n=3).run({"question": "q"}, OneChoiceProvider())


def test_a_budget_aware_rule_gets_n_as_its_budget():
    fake = FakeProvider(["Answer: 7"], cycle=True)
    sc = SelfConsistency(
        ZeroShot(extractor="numeric"), n=8, stopping=UnbeatableStop(), batch_size=1
    )
    result = sc.run({"question": "q"}, fake)
    assert len(result.samples) == 5 and result.answer == "7"
    assert result.stop_reason == "unbeatable: lead 5-0, 3 left after 5 samples"
    assert sc.stopping.max_n is None  # the strategy's rule is not changed by running it


def test_batches_ask_for_the_seeds_one_request_would_use():
    # Adaptive sampling in batches of 3 asks for samples 0-2, 3-5, 6-7 of the seeded
    # request: seeds 10, 13, 16, so a provider that seeds sample k with seed + k (as
    # LlamaCppProvider does) draws the very samples of the fixed n=8 run.
    fake = FakeProvider(
        ["Answer: 1", "Answer: 2"], cycle=True, capabilities=Capabilities(native_n=True, seed=True)
    )
    sc = SelfConsistency(ZeroShot(extractor="numeric"), n=8, stopping=BetaStop(0.99), batch_size=3)
    result = sc.run({"question": "q"}, fake, seed=10)
    assert [(r.params.seed, r.params.n) for r in fake.requests] == [(10, 3), (13, 3), (16, 2)]
    assert len(result.samples) == 8 and result.stop_reason == "max n=8 reached"
