"""Helpers for tests of the blocking ``run`` routes: with and without the event loop."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from typing import Any

import pytest

from promptlab import ZeroShot
from promptlab.completion import Completion, CompletionRequest
from promptlab.providers.base import Capabilities, Provider
from promptlab.strategies.base import StrategyResult
from promptlab.testing import FakeProvider


class AsyncOnly(Provider):
    """A backend with only the async call (like every remote API): no ``_generate_sync``."""

    name = "async-only"
    capabilities = Capabilities(native_n=True, seed=True)

    def __init__(self, script: list[Any]) -> None:
        super().__init__()
        self.inner = FakeProvider(script, cycle=True, capabilities=self.capabilities)

    async def _generate(self, request: CompletionRequest) -> Completion:
        await asyncio.sleep(0)  # really suspends: only a running loop can finish it
        return await self.inner._generate(request)


def without_timing(result: StrategyResult) -> StrategyResult:
    """The result with wall times zeroed: the only fields two runs may differ in."""
    return dataclasses.replace(
        result,
        latency_s=0.0,
        completions=tuple(dataclasses.replace(c, latency_s=0.0) for c in result.completions),
    )


def forbid_run_sync(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every use of the event-loop bridge fail the test."""

    def no_loop(awaitable: Any) -> Any:
        awaitable.close()
        pytest.fail("the blocking call went through run_sync")

    for module in ("strategies.base", "strategies.self_consistency", "providers.base"):
        monkeypatch.setattr(f"promptlab.{module}.run_sync", no_loop)


class AwaitedInputs(ZeroShot):
    """A strategy whose async inputs differ from its sync ones (a search done async)."""

    def template_inputs(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return {**super().template_inputs(inputs), "question": "sync inputs"}

    async def atemplate_inputs(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {**super().template_inputs(inputs), "question": "async inputs"}
