"""Generation parameters with checked ranges, and their layered merge.

Every field defaults to ``None``, meaning *not set*: the provider's own default applies.
An explicit value, even one equal to a provider default, is always sent. Layers merge
with later layers winning, field by field, only for fields that were set::

    strategy defaults < experiment / arm settings < per-call overrides
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

from promptlab.errors import ParameterError

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

# Each field once: its type, its bounds (pydantic's ``ge``/``gt``/``le`` names), and the
# plain-words range used in error messages. Both the quick check below and the pydantic
# model that checks every other input are built from this table.
_FIELDS: dict[str, tuple[type, dict[str, Any], str]] = {
    "temperature": (float, {"ge": 0}, ">= 0 (0 is greedy; higher is more random)"),
    "stop": (list, {}, "a list of non-empty strings"),
    "frequency_penalty": (float, {"ge": -2, "le": 2}, "between -2 and 2"),
    "presence_penalty": (float, {"ge": -2, "le": 2}, "between -2 and 2"),
    "max_tokens": (int, {"ge": 1}, "an integer >= 1"),
    "top_p": (float, {"gt": 0, "le": 1}, "greater than 0 and at most 1"),
    "seed": (int, {}, "an integer"),
    "n": (int, {"ge": 1}, "an integer >= 1"),
    "logprobs": (bool, {}, "true or false"),
    "top_logprobs": (int, {"ge": 0, "le": 20}, "an integer between 0 and 20"),
}
_ALLOWED = {name: allowed for name, (_, _, allowed) in _FIELDS.items()}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "ge": operator.ge,
    "gt": operator.gt,
    "le": operator.le,
}
_EXACT_FLOAT = 2**53  # ints up to here convert to float exactly, as pydantic converts them


class GenerationParams:
    """Sampling settings for one request. Unset fields leave the provider's default.

    Args:
        temperature: Randomness of sampling, >= 0. 0 always picks the likeliest token.
        stop: Strings that end generation when produced; they are not part of the output.
        frequency_penalty: In [-2, 2]. Positive values lower a token's score in
            proportion to how often it has already appeared, so repetition falls.
        presence_penalty: In [-2, 2]. Positive values lower the score of every token that
            has appeared at all, by a flat amount: a push toward new tokens and topics.
        max_tokens: Most tokens to generate.
        top_p: Nucleus sampling, in (0, 1]: sample only from the smallest set of tokens
            whose probabilities add up to ``top_p``.
        seed: Seed for the provider's sampler, for reproducible samples where supported.
        n: How many completions to sample for the same prompt.
        logprobs: Return the log-probability of each generated token.
        top_logprobs: Also return this many most likely alternatives per token (0-20).

    Values are checked as a frozen pydantic model with these fields would check them (the
    same coercions, such as ``1`` to ``1.0`` or ``"0.5"`` to ``0.5``, and the same errors,
    raised as :class:`~promptlab.errors.ParameterError`). Plain values of the field's own
    type are checked here directly and pydantic is imported only for anything else, so
    ``import promptlab`` and a first strategy do not pay for building a pydantic model.

    Example:
        >>> GenerationParams(temperature=0.7, stop=["\\n\\n"]).set_fields()
        {'temperature': 0.7, 'stop': ['\\n\\n']}
    """

    __slots__ = (*_FIELDS, "_set")

    model_fields: ClassVar[Mapping[str, str]] = MappingProxyType(_ALLOWED)
    """The field names, in order, each with its allowed range in plain words."""

    temperature: float | None
    stop: list[str] | None
    frequency_penalty: float | None
    presence_penalty: float | None
    max_tokens: int | None
    top_p: float | None
    seed: int | None
    n: int | None
    logprobs: bool | None
    top_logprobs: int | None
    _set: frozenset[str]

    def __init__(self, **data: Any) -> None:
        _fill(self, _checked(data))

    @classmethod
    def _from_checked(cls, values: Mapping[str, Any]) -> GenerationParams:
        # Values taken from other instances were checked when those were built.
        params = object.__new__(cls)
        _fill(params, values)
        return params

    @property
    def model_fields_set(self) -> frozenset[str]:
        """The names of the fields that were set explicitly."""
        return self._set

    def __setattr__(self, name: str, value: Any) -> None:
        raise _frozen_error(name, value)

    def __delattr__(self, name: str) -> None:
        raise _frozen_error(name, None)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GenerationParams):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in _FIELDS)

    def __hash__(self) -> int:
        return hash((GenerationParams, *(getattr(self, name) for name in _FIELDS)))

    def __repr__(self) -> str:
        return f"GenerationParams({', '.join(self._field_texts())})"

    def __str__(self) -> str:
        return " ".join(self._field_texts())

    def _field_texts(self) -> list[str]:
        return [f"{name}={getattr(self, name)!r}" for name in _FIELDS]

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.set_fields(),))

    def set_fields(self) -> dict[str, Any]:
        """The fields that were set explicitly, as a dict (unset fields are left out)."""
        return {name: getattr(self, name) for name in _FIELDS if name in self._set}

    def merge(self, *layers: GenerationParams | Mapping[str, Any] | None) -> GenerationParams:
        """Return these parameters overlaid by each layer in turn; later layers win.

        Only fields that a layer set explicitly override earlier values.
        """
        # Merging runs on every call (strategy < arm < per-call layers) and most layers are
        # empty, so empty layers are skipped and an unchanged result is returned as is:
        # instances are frozen, and re-validating costs more than the rest of the merge.
        result = self
        for layer in layers:
            if layer is None:
                continue
            if isinstance(layer, GenerationParams):
                if not layer.model_fields_set:
                    continue
                if not result.model_fields_set:
                    result = layer
                    continue
                values = layer.set_fields()
            elif not layer:
                continue
            else:
                # Checked as GenerationParams(**layer) checks it, with no instance of its own.
                values = _checked(layer)
            merged = result.set_fields()
            merged.update(values)
            result = GenerationParams._from_checked(merged)
        return result

    def given_values(self) -> dict[str, Any]:
        """The parameters that carry a value, sorted by name: what is recorded and hashed.

        Unset fields and fields set to ``None`` (which also means "the provider's default")
        are left out, so two parameter sets that send the same request compare equal.

        Example:
            >>> GenerationParams(top_p=None, temperature=0.5).given_values()
            {'temperature': 0.5}
        """
        return {k: v for k, v in sorted(self.set_fields().items()) if v is not None}

    def sample_seed(self, k: int) -> int | None:
        """The seed of sample ``k`` (counted from 0) of a request: ``seed + k``, or None.

        Every sample of a seeded request gets its own seed, so the samples differ yet stay
        reproducible, and drawing them in parts (batches, one call per sample, a retry of
        the missing ones) gives each sample the seed it would get in one call.
        """
        return None if self.seed is None else self.seed + k

    def for_samples(self, first: int, n: int | None) -> GenerationParams:
        """The parameters that draw samples ``first, first + 1, ...`` of this request.

        The seed moves to :meth:`sample_seed` of ``first``; ``n`` is set to the number of
        samples wanted, or unset with ``n=None`` (one sample).

        Example:
            >>> GenerationParams(seed=7, n=8).for_samples(4, 2).given_values()
            {'n': 2, 'seed': 11}
        """
        if not first and type(n) is int and n == self.n:
            return self  # already these samples: frozen, so no copy is needed
        base = self if n is not None else self.without("n")
        update: dict[str, Any] = {} if n is None else {"n": n}
        if first and self.seed is not None:
            update["seed"] = self.sample_seed(first)
        return base.merge(update)

    def without(self, *names: str) -> GenerationParams:
        """A copy with the named fields unset."""
        if self.model_fields_set.isdisjoint(names):
            return self
        kept = {k: v for k, v in self.set_fields().items() if k not in names}
        return GenerationParams._from_checked(kept)


def _fill(params: GenerationParams, values: Mapping[str, Any]) -> None:
    for name in _FIELDS:
        object.__setattr__(params, name, values.get(name))
    object.__setattr__(params, "_set", frozenset(values))


def _rebuild(values: dict[str, Any]) -> GenerationParams:
    return GenerationParams(**values)


def _checked(data: Mapping[str, Any]) -> dict[str, Any]:
    """The checked values of ``data``: quickly when they are plain, else by pydantic."""
    values = _checked_quickly(data)
    return values if values is not None else _checked_by_pydantic(data)


def _checked_quickly(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The values, for inputs already of their field's type and in range; else None.

    None hands the input to :func:`_checked_by_pydantic`, which coerces what pydantic
    coerces and words every error; so this accepts only what pydantic would accept, and
    returns what pydantic would return.
    """
    values: dict[str, Any] = {}
    for name, value in data.items():
        spec = _FIELDS.get(name)
        if spec is None:
            return None
        if value is None:
            values[name] = None
            continue
        kind, bounds, _ = spec
        if kind is list:  # stop: one string becomes a list; strings must not be empty
            if type(value) is str:
                value = [value]
            elif type(value) is list:
                value = list(value)  # a copy: the caller's list may change later
            else:
                return None
            if not all(type(s) is str and s for s in value):
                return None
        elif kind is float:
            if type(value) is int and -_EXACT_FLOAT <= value <= _EXACT_FLOAT:
                value = float(value)
            elif type(value) is not float:
                return None
        elif type(value) is not kind:
            return None
        for bound, limit in bounds.items():
            if not _COMPARE[bound](value, limit):  # NaN fails every bound
                return None
        values[name] = value
    return values


def _checked_by_pydantic(data: Mapping[str, Any]) -> dict[str, Any]:
    from pydantic import ValidationError

    try:
        checked = _pydantic_model()(**data)
    except ValidationError as exc:
        raise ParameterError(_describe(exc)) from None
    return {name: getattr(checked, name) for name in checked.model_fields_set}


@functools.cache
def _pydantic_model() -> type[BaseModel]:
    """A frozen pydantic model with the same fields, for inputs the quick check leaves."""
    from pydantic import ConfigDict, Field, create_model, field_validator

    def stop_as_list(cls: type, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    def stop_not_empty(cls: type, value: list[str] | None) -> list[str] | None:
        if value is not None and any(s == "" for s in value):
            raise ValueError("stop strings must not be empty")
        return value

    annotations = {float: float | None, int: int | None, bool: bool | None, list: list[str] | None}
    fields: dict[str, Any] = {
        name: (annotations[kind], Field(default=None, **bounds))
        for name, (kind, bounds, _) in _FIELDS.items()
    }
    return create_model(
        "GenerationParams",
        __config__=ConfigDict(frozen=True, extra="forbid"),
        __validators__={
            "stop_as_list": field_validator("stop", mode="before")(stop_as_list),
            "stop_not_empty": field_validator("stop")(stop_not_empty),
        },
        **fields,
    )


def _frozen_error(name: str, value: Any) -> Exception:
    # The error pydantic raises for a frozen model, so callers see the same exception.
    from pydantic_core import ValidationError as CoreValidationError

    return CoreValidationError.from_exception_data(
        "GenerationParams", [{"type": "frozen_instance", "loc": (name,), "input": value}]
    )


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "params"
        top = str(error["loc"][0]) if error["loc"] else field
        value = error.get("input")
        if error["type"] == "extra_forbidden":
            known = ", ".join(GenerationParams.model_fields)
            problems.append(f"unknown generation parameter {field!r}. Known parameters: {known}.")
            continue
        allowed = _ALLOWED.get(top, error["msg"])
        problems.append(f"{field}={value!r} is not allowed: {field} must be {allowed}.")
    return "Invalid generation parameters: " + " ".join(problems)
