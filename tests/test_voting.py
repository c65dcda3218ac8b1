"""Majority voting: plurality, ties to the answer sampled first, answerless samples counted."""

from __future__ import annotations

from promptlab import MajorityVote, VoteResult


def test_plurality_wins_and_counts_keep_first_appearance_order():
    outcome = MajorityVote()(["9", "19", "19", None, "9", "19"])
    assert outcome == VoteResult("19", {"9": 2, "19": 3}, 3 / 6, 1, ("19",))
    assert list(outcome.counts) == ["9", "19"] and type(outcome.counts) is dict


def test_a_tie_goes_to_the_tied_answer_sampled_first():
    outcome = MajorityVote()([None, "b", "a", "a", "b", "c"])
    assert outcome.winner == "b" and outcome.tied == ("b", "a")
    assert outcome.share == 2 / 6 and outcome.no_answer == 1


def test_answerless_samples_vote_for_nothing_but_lower_the_share():
    assert MajorityVote()([None, None, None]) == VoteResult(None, {}, 0.0, 3, ())
    assert MajorityVote()([]) == VoteResult(None, {}, 0.0, 0, ())
    assert MajorityVote()(("4", None, None, None)).share == 0.25  # any sequence
