"""fast_init: the faster __init__ of the per-call records behaves as the dataclass's own."""

from __future__ import annotations

import dataclasses
import pickle
from dataclasses import dataclass, field

import pytest

from promptlab import GenerationParams, TemplateError
from promptlab._frozen import fast_init
from promptlab.completion import Choice, Completion, CompletionRequest, TokenLogprob, Usage
from promptlab.messages import Message
from promptlab.strategies.base import Sample, StrategyResult

RECORDS = [
    CompletionRequest,
    TokenLogprob,
    Choice,
    Usage,
    Completion,
    Message,
    Sample,
    StrategyResult,
]


@dataclass(frozen=True, slots=True)
class Plain:
    a: int
    b: str = "b"
    c: list[int] = field(default_factory=list)


@fast_init
@dataclass(frozen=True, slots=True)
class Fast:
    a: int
    b: str = "b"
    c: list[int] = field(default_factory=list)


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: r.__name__)
def test_every_per_call_record_has_the_fast_init(record: type) -> None:
    assert record.__init__.__qualname__ == f"{record.__qualname__}.__init__"
    assert "fast_init" in record.__init__.__code__.co_filename


@pytest.mark.parametrize(
    ("args", "kwargs"), [((1,), {}), ((1, "x"), {}), ((), {"a": 2, "c": [3]}), ((4, "y", [5]), {})]
)
def test_arguments_defaults_and_factories_match_the_dataclass(args, kwargs) -> None:
    fast, plain = Fast(*args, **kwargs), Plain(*args, **kwargs)
    assert (fast.a, fast.b, fast.c) == (plain.a, plain.b, plain.c)
    assert Fast(1).c is not Fast(1).c  # a fresh list per instance, as default_factory gives


def test_wrong_arguments_fail_as_they_would() -> None:
    with pytest.raises(TypeError):
        Fast()
    with pytest.raises(TypeError):
        Fast(1, d=2)
    with pytest.raises(TypeError):
        Fast(1, "b", [], 4)


def test_records_stay_frozen_comparable_replaceable_and_picklable() -> None:
    request = CompletionRequest((Message("user", "hi"),))
    assert request.params == GenerationParams()  # the default factory ran
    completion = Completion((Choice("Answer: 4", "stop"),), Usage(2, 2), model="m")
    with pytest.raises(dataclasses.FrozenInstanceError):
        completion.model = "other"  # type: ignore[misc]
    assert dataclasses.replace(completion, calls=0).calls == 0
    assert completion == Completion(
        (Choice("Answer: 4", "stop", None, 0),), Usage(2, 2, 0), 0.0, "m"
    )
    assert pickle.loads(pickle.dumps(completion)) == completion
    assert hash(Usage(1, 2)) == hash(Usage(1, 2))


def test_post_init_still_validates() -> None:
    with pytest.raises(TemplateError, match="role 'robot'"):
        Message("robot", "hi")  # type: ignore[arg-type]


def test_it_refuses_what_it_would_not_reproduce() -> None:
    @dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclass(frozen=True, slots=True)
    class WithHidden:
        a: int
        b: int = field(default=0, init=False)

    @dataclass(frozen=True, slots=True, kw_only=True)
    class KeywordOnly:
        a: int

    for cls in (NoSlots, WithHidden, KeywordOnly):
        with pytest.raises(TypeError, match="fast_init"):
            fast_init(cls)
