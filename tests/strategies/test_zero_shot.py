from promptlab import GenerationParams, ZeroShot
from promptlab.testing import FakeProvider


def test_zero_shot_renders_calls_once_and_extracts():
    fake = FakeProvider(["I computed it. Answer: 42"])
    result = ZeroShot(extractor="numeric").run({"question": "6*7?"}, fake)
    assert result.answer == "42"
    assert result.text == "I computed it. Answer: 42"
    assert fake.calls == 1
    assert result.messages[-1].content.startswith("6*7?")
    assert result.usage.output_tokens == 5
    assert result.template == "zero_shot" and len(result.template_hash) == 16


def test_parameter_layers_reach_the_provider():
    fake = FakeProvider(["Answer: 1"])
    strategy = ZeroShot(params={"temperature": 0.9, "max_tokens": 50})
    strategy.run({"question": "q"}, fake, params=GenerationParams(temperature=0.3), seed=7)
    sent = fake.requests[0].params
    assert (sent.temperature, sent.max_tokens, sent.seed) == (0.3, 50, 7)


def test_system_prompt_and_answer_format():
    strategy = ZeroShot(system="Be brief.", answer_format="a whole number")
    messages = strategy.render({"question": "q"})
    assert messages[0].role == "system" and messages[0].content == "Be brief."
    assert "a whole number" in messages[1].content


def test_no_answer_is_none_not_an_error():
    result = ZeroShot(extractor="numeric").run({"question": "q"}, FakeProvider(["no idea"]))
    assert result.answer is None and result.no_answer == 1
