import pydantic
import pytest

from promptlab import GenerationParams, ParameterError


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [
        ("temperature", -0.1, ">= 0"),
        ("frequency_penalty", 2.5, "between -2 and 2"),
        ("presence_penalty", -3, "between -2 and 2"),
        ("top_p", 0, "greater than 0 and at most 1"),
        ("top_p", 1.01, "greater than 0 and at most 1"),
        ("max_tokens", 0, ">= 1"),
        ("n", 0, ">= 1"),
        ("top_logprobs", 21, "between 0 and 20"),
    ],
)
def test_out_of_range_value_names_field_value_and_range(field, value, allowed):
    with pytest.raises(ParameterError) as info:
        GenerationParams(**{field: value})
    message = str(info.value)
    assert f"{field}={value!r}" in message
    assert allowed in message


def test_boundaries_are_accepted():
    params = GenerationParams(
        temperature=0, frequency_penalty=-2, presence_penalty=2, top_p=1, top_logprobs=0
    )
    assert params.temperature == 0 and params.top_p == 1


def test_unknown_parameter_is_named():
    with pytest.raises(ParameterError, match="unknown generation parameter 'temprature'"):
        GenerationParams(temprature=0.5)


def test_parameter_error_is_a_value_error_and_a_promptlab_error():
    from promptlab import PromptlabError

    with pytest.raises(ValueError):
        GenerationParams(temperature=-1)
    with pytest.raises(PromptlabError):
        GenerationParams(temperature=-1)


def test_single_stop_string_becomes_a_list_and_empty_is_rejected():
    assert GenerationParams(stop="\n").stop == ["\n"]
    with pytest.raises(ParameterError, match="stop"):
        GenerationParams(stop=[""])


def test_not_set_differs_from_explicit_value():
    assert GenerationParams().set_fields() == {}
    explicit = GenerationParams(temperature=0.0)
    assert explicit.set_fields() == {"temperature": 0.0}
    # An explicit 0 in a later layer overrides an earlier 0.7; an unset field does not.
    merged = GenerationParams(temperature=0.7, seed=1).merge(GenerationParams(temperature=0.0))
    assert merged.temperature == 0.0 and merged.seed == 1


def test_layers_merge_in_order_strategy_then_arm_then_call():
    strategy = GenerationParams(temperature=0.7, max_tokens=100, stop=["\n\n"])
    arm = GenerationParams(temperature=0.2)
    call = {"max_tokens": 10}
    merged = strategy.merge(arm, call)
    assert merged.set_fields() == {"temperature": 0.2, "max_tokens": 10, "stop": ["\n\n"]}


def test_params_are_frozen():
    params = GenerationParams(temperature=1)
    with pytest.raises(pydantic.ValidationError, match="frozen_instance"):
        params.temperature = 2  # type: ignore[misc]
    assert params.temperature == 1 and params.set_fields() == {"temperature": 1}


def test_without_unsets_fields():
    params = GenerationParams(temperature=1, seed=3).without("seed")
    assert params.set_fields() == {"temperature": 1}


def test_given_values_leave_out_unset_and_none_sorted_by_name():
    params = GenerationParams(top_p=None, temperature=0.5, max_tokens=8)
    assert list(params.given_values().items()) == [("max_tokens", 8), ("temperature", 0.5)]
    assert GenerationParams(seed=None).given_values() == GenerationParams().given_values() == {}


def test_sample_k_of_a_request_seeded_s_uses_s_plus_k():
    seeded = GenerationParams(seed=100, n=8, temperature=0.7)
    assert [seeded.sample_seed(k) for k in (0, 1, 5)] == [100, 101, 105]
    assert GenerationParams(n=8).sample_seed(3) is None
    # A batch of two starting at sample 4, and a single sample 6 (n unset).
    assert seeded.for_samples(4, 2).given_values() == {"n": 2, "seed": 104, "temperature": 0.7}
    assert seeded.for_samples(6, None).given_values() == {"seed": 106, "temperature": 0.7}
    # The first batch keeps the request's seed; no seed stays no seed.
    assert seeded.for_samples(0, 3).seed == 100
    assert GenerationParams(n=4).for_samples(2, None).given_values() == {}
