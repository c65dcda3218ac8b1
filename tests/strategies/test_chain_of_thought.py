import pytest

from promptlab import ChainOfThought, ConfigurationError, FewShot, ZeroShot
from promptlab.testing import FakeProvider

SHOTS = [
    {"question": "2 + 3?", "rationale": "Two plus three makes five.", "answer": "5"},
    {"question": "4 * 2?", "rationale": "Four twice is eight.", "answer": "8"},
]


def test_zero_shot_cot_asks_for_steps_and_extracts_from_the_reasoning():
    fake = FakeProvider(["12 + 7 is 19, and 19 - 4 = 15.\nAnswer: 15"])
    result = ChainOfThought(extractor="numeric").run({"question": "12+7-4?"}, fake)
    assert "step by step" in result.messages[-1].content
    assert result.answer == "15"


def test_few_shot_cot_shows_rationales_and_inherits_extractor():
    cot = ChainOfThought(FewShot(SHOTS, extractor="numeric"))
    messages = cot.render({"question": "6 + 1?"})
    assert cot.template.name == "chain_of_thought_few_shot"
    assert messages[1].role == "assistant"
    assert "Two plus three makes five." in messages[1].content
    assert messages[1].content.endswith("Answer: 5")
    assert cot.run({"question": "6 + 1?"}, FakeProvider(["so 7. Answer: 7"])).answer == "7"


def test_few_shot_cot_without_rationales_is_a_clear_error():
    with pytest.raises(ConfigurationError, match="rationale"):
        ChainOfThought(FewShot([{"question": "q", "answer": "a"}]))


def test_wrapping_zero_shot_keeps_its_settings():
    cot = ChainOfThought(ZeroShot(system="Think.", params={"max_tokens": 300}))
    assert cot.render({"question": "q"})[0].content == "Think."
    assert cot.params.max_tokens == 300
    assert cot.name == "ChainOfThought(ZeroShot(zero_shot), chain_of_thought)"
