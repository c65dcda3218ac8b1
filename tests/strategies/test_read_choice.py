"""The base Strategy: the default extractor, and how a sampled reply becomes a Sample."""

from __future__ import annotations

from promptlab import (
    AutoAnswer,
    ChainOfThought,
    Choice,
    SelfConsistency,
    ZeroShot,
)
from promptlab.testing import FakeProvider

# The fake cuts a reply to `max_tokens` words and reports finish_reason "length".
REASONING = "Step one: 12 + 7 = 19. Step two: 19 + 5 = 24. Answer: 24"


def test_the_default_extractor_votes_one_number_written_three_ways():
    replies = [
        "The answer is 1,000.",
        "The answer is $1000.00",
        "I think 1000.",
        "The answer is 999.",
        "I am not sure.",
    ]
    strategy = SelfConsistency(ChainOfThought(), n=5)
    result = strategy.run({"question": "q"}, FakeProvider(replies))
    assert isinstance(strategy.extractor, AutoAnswer)
    assert result.answer == "1000"
    assert result.votes == {"1000": 3, "999": 1, "i am not sure": 1}


def test_the_default_extractor_keeps_text_answers_as_text():
    result = ZeroShot().run({"question": "q"}, FakeProvider(["Answer: Paris."]))
    assert result.answer == "paris"


def test_a_reply_cut_off_without_an_answer_line_has_no_answer():
    fake = FakeProvider([REASONING])
    result = ZeroShot(extractor="numeric").run({"question": "q"}, fake, max_tokens=8)
    sample = result.samples[0]
    assert sample.text == "Step one: 12 + 7 = 19. Step"
    assert sample.finish_reason == "length" and sample.truncated
    assert result.answer is None and result.no_answer == 1  # not "19", the last number


def test_the_same_reply_finished_keeps_its_answer():
    result = ZeroShot(extractor="numeric").run({"question": "q"}, FakeProvider([REASONING]))
    assert result.answer == "24" and not result.samples[0].truncated


def test_a_reply_cut_off_after_its_answer_line_keeps_the_answer():
    fake = FakeProvider(["Answer: 24.\nLet me double check that."])
    result = ZeroShot(extractor="numeric").run({"question": "q"}, fake, max_tokens=3)
    assert result.samples[0].finish_reason == "length"
    assert result.answer == "24"


def test_cut_off_samples_do_not_vote_in_self_consistency():
    fake = FakeProvider([REASONING, "Answer: 24", "Answer: 19"])
    strategy = SelfConsistency(ZeroShot(extractor="numeric"), n=3)
    result = strategy.run({"question": "q"}, fake, max_tokens=8)
    assert [s.finish_reason for s in result.samples] == ["length", "stop", "stop"]
    assert [s.answer for s in result.samples] == [None, "24", "19"]
    assert result.votes == {"24": 1, "19": 1} and result.no_answer == 1


def test_read_choice_uses_the_strategys_own_extract():
    class Shouting(ZeroShot):
        def extract(self, text: str) -> str | None:
            return text.upper()

    strategy = Shouting()
    assert strategy.read_choice(Choice("abc", "stop")).answer == "ABC"
    assert strategy.read_choice(Choice("abc", "length")).answer is None


def test_read_choice_gives_reply_answer_for_every_finish_reason():
    # read_choice skips the token-limit check for "stop"; every reason must still agree.
    from promptlab.answers import reply_answer

    strategy = ZeroShot(extractor="numeric")
    for text in (REASONING, "So 100 + 50 = 15", "Answer: 150.\nThen", "nothing"):
        for finish in ("stop", "length", "LENGTH", "max_tokens", None, "content_filter"):
            sample = strategy.read_choice(Choice(text, finish))
            assert sample.answer == reply_answer(strategy.extract, text, finish), (text, finish)
            assert (sample.text, sample.finish_reason) == (text, finish)
