"""Shared fixtures and the CI rule: in CI a missing local model or server fails, never skips."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

T = TypeVar("T")

IN_CI = os.environ.get("CI", "").lower() == "true"

# The session-wide llama-server fixture, registered once for every test folder.
pytest_plugins = ["tests.support.llama_server"]


def require(what: str, build: Callable[[], T]) -> T:
    """Build a needed resource; if that fails, fail in CI and skip elsewhere."""
    try:
        return build()
    except Exception as exc:  # any failure to start is reported the same way
        message = f"{what} could not start: {type(exc).__name__}: {exc}"
        if IN_CI:
            pytest.fail(f"{message} (CI=true: this is a failure, not a skip)", pytrace=False)
        pytest.skip(message)


@pytest.fixture(autouse=True, scope="session")
def _private_response_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep every test's response cache out of the user's ~/.cache."""
    previous = os.environ.get("PROMPTLAB_CACHE_DIR")
    os.environ["PROMPTLAB_CACHE_DIR"] = str(tmp_path_factory.mktemp("promptlab-cache"))
    yield
    if previous is None:
        os.environ.pop("PROMPTLAB_CACHE_DIR", None)
    else:
        os.environ["PROMPTLAB_CACHE_DIR"] = previous


@pytest.fixture(scope="session")
def local_provider() -> Iterator[object]:
    """The bundled SmolLM2 model through LlamaCppProvider, loaded once per session."""
    from promptlab import CompletionRequest, GenerationParams, LlamaCppProvider, Message

    def build() -> LlamaCppProvider:
        provider = LlamaCppProvider()
        warmup = CompletionRequest.of([Message("user", "Hi")], GenerationParams(max_tokens=2))
        provider.complete_sync(warmup)
        return provider

    provider = require("The bundled local model (LlamaCppProvider)", build)
    yield provider


#: The only skips allowed in CI: tests that need a paid API key (opt-in).
ALLOWED_CI_SKIP_PREFIXES = ("paid API",)


def _forbid_skip_in_ci(report: pytest.TestReport | pytest.CollectReport) -> None:
    if not (IN_CI and report.skipped) or hasattr(report, "wasxfail"):
        return
    reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if not reason.removeprefix("Skipped: ").startswith(ALLOWED_CI_SKIP_PREFIXES):
        report.outcome = "failed"
        report.longrepr = f"CI=true forbids skipping this test: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """In CI (CI=true) any skip other than an opt-in paid-API test is a failure."""
    outcome = yield
    _forbid_skip_in_ci(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    """The same for whole modules skipped at import (``pytest.importorskip``)."""
    outcome = yield
    _forbid_skip_in_ci(outcome.get_result())
