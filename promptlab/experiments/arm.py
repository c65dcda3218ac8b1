"""An arm of an experiment: a strategy, its own parameters, and how a cell's seed is derived.

This module is a leaf of the experiment layer: cells, specs and the fingerprint depend on
it, and it depends on no other part of :mod:`promptlab.experiments`. An arm describes
itself (:meth:`ArmSpec.describe`) from its strategy's own :meth:`~Strategy.describe`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from promptlab.errors import ConfigurationError
from promptlab.params import GenerationParams
from promptlab.providers.base import Provider
from promptlab.strategies.base import Strategy

__all__ = ["ArmSpec", "derive_seed"]


@dataclass(frozen=True)
class ArmSpec:
    """One arm: a strategy plus the arm's own generation parameters.

    Args:
        strategy: The strategy to run.
        params: The arm layer of generation parameters, over the strategy's defaults.

    Example:
        >>> ArmSpec(ChainOfThought(extractor="numeric"), {"max_tokens": 160})
    """

    strategy: Strategy
    params: GenerationParams = field(default_factory=GenerationParams)

    def __post_init__(self) -> None:
        if not isinstance(self.strategy, Strategy):
            raise ConfigurationError(
                f"ArmSpec strategy={self.strategy!r} is not a Strategy; pass e.g. "
                "ZeroShot(), ChainOfThought() or SelfConsistency(...)."
            )
        if not isinstance(self.params, GenerationParams):
            object.__setattr__(self, "params", GenerationParams(**dict(self.params or {})))

    def describe(self) -> dict[str, Any]:
        """The arm as plain data: its strategy's description and the parameters it sets."""
        return {"strategy": self.strategy.describe(), "params": self.params.given_values()}

    def cell_params(self, seed: int | None, provider: Provider) -> GenerationParams:
        """The arm-layer parameters for one cell, with the derived seed when it applies."""
        if (
            seed is None
            or self.params.seed is not None
            or self.strategy.params.seed is not None
            or not provider.capabilities.seed
        ):
            return self.params
        return self.params.merge({"seed": seed})


def derive_seed(seed: int, task_id: str, arm: str, repeat: int) -> int:
    """The per-cell seed: a 31-bit number from SHA-256 of the four parts."""
    digest = hashlib.sha256(f"{seed}|{task_id}|{arm}|{repeat}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF
