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


# Plain values are checked without pydantic; everything else goes to a pydantic model built
# from the same field table. The two must agree on every input: same values, same types.
AWKWARD_VALUES = [
    None, 0, 1, -1, 2, 3, 20, 21, -2, -3, 0.0, 0.5, 1.0, 1.01, 2.5, -2.0, 2**53, 2**53 + 1,
    10**30, float("nan"), float("inf"), -float("inf"), True, False, "0.5", "3", "yes", "",
    "\n", ["a"], [""], ("a",), ["a", 1], [], b"x", 3.0, 3.5,
]  # fmt: skip


@pytest.mark.parametrize("field", list(GenerationParams.model_fields))
def test_every_input_gives_what_the_pydantic_model_gives(field):
    from promptlab.params import _pydantic_model

    model = _pydantic_model()
    for value in AWKWARD_VALUES:
        try:
            expected = getattr(model(**{field: value}), field)
        except pydantic.ValidationError:
            with pytest.raises(ParameterError, match=field):
                GenerationParams(**{field: value})
            continue
        got = getattr(GenerationParams(**{field: value}), field)
        assert (type(got), repr(got)) == (type(expected), repr(expected)), (field, value)


def test_values_are_coerced_as_pydantic_coerces_them():
    params = GenerationParams(temperature=1, top_p="0.5", n=True, stop=("a",), logprobs="yes")
    assert type(params.temperature) is float and params.temperature == 1.0
    assert params.top_p == 0.5 and params.n == 1 and params.stop == ["a"]
    assert params.logprobs is True


def test_nan_is_out_of_range():
    with pytest.raises(ParameterError, match=r"temperature=nan is not allowed: temperature must"):
        GenerationParams(temperature=float("nan"))


def test_stop_list_is_copied():
    stop = ["\n"]
    params = GenerationParams(stop=stop)
    stop.append("END")
    assert params.stop == ["\n"]


def test_equal_values_compare_and_hash_equal_and_survive_pickling():
    import copy
    import pickle

    params = GenerationParams(temperature=0.5, seed=3)
    assert params == GenerationParams(seed=3, temperature=0.5) != GenerationParams(seed=4)
    assert hash(params) == hash(GenerationParams(seed=3, temperature=0.5))
    assert pickle.loads(pickle.dumps(params)) == params == copy.deepcopy(params)
    assert pickle.loads(pickle.dumps(params)).set_fields() == {"temperature": 0.5, "seed": 3}
    assert repr(GenerationParams(n=2)).startswith("GenerationParams(temperature=None, stop=None")


def test_merge_keeps_checked_values_without_re_checking_them():
    merged = GenerationParams(temperature=0.7, stop="x").merge({"n": 2}, GenerationParams(seed=1))
    assert merged.set_fields() == {"temperature": 0.7, "stop": ["x"], "seed": 1, "n": 2}
    assert merged.model_fields_set == {"temperature", "stop", "seed", "n"}
    with pytest.raises(ParameterError, match="n=0"):
        merged.merge({"n": 0})


@pytest.mark.parametrize("field", list(GenerationParams.model_fields))
def test_a_mapping_layer_merges_as_the_params_it_would_build(field):
    # merge() checks a dict layer itself rather than building GenerationParams(**layer):
    # the same values and types, the same set fields, the same errors, for every input.
    for start in (GenerationParams(temperature=0.5, seed=3), GenerationParams()):
        for value in AWKWARD_VALUES:
            try:
                expected = start.merge(GenerationParams(**{field: value}))
            except ParameterError as exc:
                with pytest.raises(ParameterError) as raised:
                    start.merge({field: value})
                assert str(raised.value) == str(exc)
                continue
            merged = start.merge({field: value})
            assert merged == expected and merged.model_fields_set == expected.model_fields_set
            got, want = getattr(merged, field), getattr(expected, field)
            assert (type(got), repr(got)) == (type(want), repr(want)), (field, value)


def test_an_unknown_name_in_a_mapping_layer_is_named():
    with pytest.raises(ParameterError, match="unknown generation parameter 'temprature'"):
        GenerationParams(seed=1).merge({"temprature": 0.5})


def test_the_samples_a_request_already_asks_for_are_the_request_itself():
    whole = GenerationParams(seed=7, n=5, temperature=0.7)
    assert whole.for_samples(0, 5) is whole
    assert whole.for_samples(0, 2).given_values() == {"n": 2, "seed": 7, "temperature": 0.7}
    assert whole.for_samples(1, 5).seed == 8
    # n=True is coerced to 1 by the check, as it always was: no shortcut for it.
    one = GenerationParams(n=1)
    assert one.for_samples(0, True) == one and one.for_samples(0, True) is not one
