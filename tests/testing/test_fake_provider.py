import pytest

from promptlab import CompletionRequest, ConfigurationError, GenerationParams, Message, ServerError
from promptlab.testing import FakeProvider


def ask(fake, prompt="hi", **params):
    return fake.complete_sync(
        CompletionRequest.of([Message("user", prompt)], GenerationParams(**params))
    )


def test_list_script_in_order_then_exhausted():
    fake = FakeProvider(["a", "b"])
    assert ask(fake).text == "a" and ask(fake).text == "b"
    with pytest.raises(ConfigurationError, match="ran out of scripted replies after 2"):
        ask(fake)


def test_dict_script_keyed_by_last_user_message_with_default():
    fake = FakeProvider({"2+2?": "4"}, default="?")
    assert ask(fake, "2+2?").text == "4" and ask(fake, "other").text == "?"
    strict = FakeProvider({"2+2?": "4"})
    with pytest.raises(ConfigurationError, match="no scripted reply"):
        ask(strict, "3+3?")


def test_callable_script_sees_the_request_and_n():
    fake = FakeProvider(lambda req: f"T={req.params.temperature}")
    completion = ask(fake, temperature=0.3, n=3)
    assert completion.texts == ["T=0.3"] * 3
    assert fake.requests[0].params.n == 3


def test_scripted_exception_is_raised():
    fake = FakeProvider([ServerError("boom", provider="fake", status=503)])
    with pytest.raises(ServerError, match="503"):
        ask(fake)


def test_stop_and_max_tokens_are_honoured():
    fake = FakeProvider(["one two three STOP four"], cycle=True)
    assert ask(fake, stop=["STOP"]).text == "one two three "
    completion = ask(fake, max_tokens=2)
    assert completion.text == "one two" and completion.choices[0].finish_reason == "length"


def test_logprobs_when_asked():
    completion = ask(FakeProvider(["a b"]), logprobs=True)
    assert [t.token for t in completion.choices[0].logprobs] == ["a", "b"]
