"""Generation parameters with checked ranges, and their layered merge.

Every field defaults to ``None``, meaning *not set*: the provider's own default applies.
An explicit value, even one equal to a provider default, is always sent. Layers merge
with later layers winning, field by field, only for fields that were set::

    strategy defaults < experiment / arm settings < per-call overrides
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from promptlab.errors import ParameterError

# Plain-words ranges, used in error messages.
_ALLOWED: dict[str, str] = {
    "temperature": ">= 0 (0 is greedy; higher is more random)",
    "stop": "a list of non-empty strings",
    "frequency_penalty": "between -2 and 2",
    "presence_penalty": "between -2 and 2",
    "max_tokens": "an integer >= 1",
    "top_p": "greater than 0 and at most 1",
    "seed": "an integer",
    "n": "an integer >= 1",
    "logprobs": "true or false",
    "top_logprobs": "an integer between 0 and 20",
}


class GenerationParams(BaseModel):
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

    Example:
        >>> GenerationParams(temperature=0.7, stop=["\\n\\n"]).set_fields()
        {'temperature': 0.7, 'stop': ['\\n\\n']}
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    temperature: float | None = Field(default=None, ge=0)
    stop: list[str] | None = None
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    max_tokens: int | None = Field(default=None, ge=1)
    top_p: float | None = Field(default=None, gt=0, le=1)
    seed: int | None = None
    n: int | None = Field(default=None, ge=1)
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ParameterError(_describe(exc)) from None

    @field_validator("stop", mode="before")
    @classmethod
    def _stop_as_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [value]
        return value

    @field_validator("stop")
    @classmethod
    def _stop_not_empty(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and any(s == "" for s in value):
            raise ValueError("stop strings must not be empty")
        return value

    def set_fields(self) -> dict[str, Any]:
        """The fields that were set explicitly, as a dict (unset fields are left out)."""
        return {name: getattr(self, name) for name in self.model_fields_set}

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
            if not isinstance(layer, GenerationParams):
                if not layer:
                    continue
                layer = GenerationParams(**layer)
            if not layer.model_fields_set:
                continue
            if not result.model_fields_set:
                result = layer
                continue
            merged = result.set_fields()
            merged.update(layer.set_fields())
            result = GenerationParams(**merged)
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
        base = self if n is not None else self.without("n")
        update: dict[str, Any] = {} if n is None else {"n": n}
        if first and self.seed is not None:
            update["seed"] = self.sample_seed(first)
        return base.merge(update)

    def without(self, *names: str) -> GenerationParams:
        """A copy with the named fields unset."""
        if self.model_fields_set.isdisjoint(names):
            return self
        return GenerationParams(**{k: v for k, v in self.set_fields().items() if k not in names})


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
