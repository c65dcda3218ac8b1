import warnings

import pytest

from promptlab import (
    Capabilities,
    CompletionRequest,
    ConfigurationError,
    GenerationParams,
    Message,
    UnsupportedParameterError,
    UnsupportedParameterWarning,
    provider,
)
from promptlab.completion import Choice, Completion, Usage
from promptlab.testing import FakeProvider

REQUEST = [Message("user", "hi")]


def request(**params):
    return CompletionRequest.of(REQUEST, GenerationParams(**params))


def test_unsupported_parameter_error_names_provider_and_parameter():
    fake = FakeProvider(["x"], capabilities=Capabilities(penalties=False))
    with pytest.raises(UnsupportedParameterError) as info:
        fake.complete_sync(request(frequency_penalty=0.5))
    assert info.value.provider == "fake" and info.value.parameter == "frequency_penalty"
    assert "on_unsupported='drop'" in str(info.value)
    assert fake.calls == 0  # nothing was sent


def test_drop_mode_removes_parameter_with_a_warning():
    fake = FakeProvider(["x"], capabilities=Capabilities(), on_unsupported="drop")
    with pytest.warns(UnsupportedParameterWarning, match="presence_penalty"):
        fake.complete_sync(request(presence_penalty=1.0, temperature=0.5))
    sent = fake.requests[0].params
    assert sent.presence_penalty is None and sent.temperature == 0.5


def test_too_many_stop_sequences():
    fake = FakeProvider(["x"], capabilities=Capabilities(max_stop=2))
    with pytest.raises(UnsupportedParameterError, match="3 stop sequences given, at most 2"):
        fake.complete_sync(request(stop=["a", "b", "c"]))
    dropping = FakeProvider(["x"], capabilities=Capabilities(max_stop=2), on_unsupported="drop")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dropping.complete_sync(request(stop=["a", "b", "c"]))
    assert dropping.requests[0].params.stop == ["a", "b"]


def test_bad_on_unsupported_value():
    with pytest.raises(ConfigurationError, match="on_unsupported='ignore'"):
        FakeProvider(on_unsupported="ignore")  # type: ignore[arg-type]


def test_latency_is_measured():
    fake = FakeProvider(["x"], latency=0.05)
    assert fake.complete_sync(request()).latency_s >= 0.05


def test_provider_strings():
    assert provider("fake:Answer: 3").complete_sync(request()).text == "Answer: 3"
    with pytest.raises(ConfigurationError) as info:
        provider("gemini:pro")
    assert "local:" in str(info.value) and "'gemini'" in str(info.value)


@pytest.mark.parametrize(
    ("spec", "kind", "model"),
    [
        ("local", "LlamaCppProvider", "SmolLM2-135M-Instruct"),
        ("local:/nonexistent/dir/model.gguf", "ConfigurationError", None),
        ("fake:Answer: 3", "FakeProvider", "fake-model"),
        ("fake", "FakeProvider", "fake-model"),
        ("openai:gpt-4o-mini", "OpenAIProvider", "gpt-4o-mini"),
        ("anthropic:claude-haiku-4-5", "AnthropicProvider", "claude-haiku-4-5"),
        ("anthropic-compatible:claude-x@http://127.0.0.1:8080", "AnthropicProvider", "claude-x"),
        ("llama-server@http://127.0.0.1:8080", "OpenAIProvider", "llama-server"),
        ("LLAMA-SERVER:m@http://127.0.0.1:8080/v1", "OpenAIProvider", "m"),
    ],
)
def test_every_documented_provider_string_form(spec, kind, model, monkeypatch):
    """Each form in the README's provider-string table builds the provider it names."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    if kind == "ConfigurationError":  # the scheme was read as local: the path is checked
        with pytest.raises(ConfigurationError, match="no such GGUF file"):
            provider(spec)
        return
    built = provider(spec)
    assert (type(built).__name__, built.model) == (kind, model)


def test_merged_completion_renumbers_choices_and_adds_up():
    parts = [
        Completion(
            (Choice("a", "stop", None, 0),), Usage(3, 1), model="m", provider="p", cost_usd=0.5
        ),
        Completion((Choice("b"), Choice("c")), Usage(3, 2, 1), model="m2", cost_usd=0.25, calls=2),
    ]
    merged = Completion.merge(parts)
    assert [(c.text, c.index) for c in merged.choices] == [("a", 0), ("b", 1), ("c", 2)]
    assert merged.usage == Usage(6, 3, 1) and merged.calls == 3 and merged.cost_usd == 0.75
    assert (merged.model, merged.provider) == ("m", "p")
    # One unknown cost makes the total unknown, never a made-up partial sum.
    unknown = Completion((Choice("d"),), cost_usd=None)
    assert Completion.merge([*parts, unknown]).cost_usd is None
    assert Completion.merge(parts[:1]) is parts[0]
