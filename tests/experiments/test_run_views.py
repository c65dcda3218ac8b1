"""Run views that need no run: the setup label of each provider kind."""

from __future__ import annotations

import pytest

from promptlab.experiments.analysis import provider_setup
from promptlab.providers.registry import provider


@pytest.mark.parametrize(
    ("spec", "setup"),
    [
        ("local", "local, no key"),
        ("ollama:llama3.2", "local server, no key"),
        ("vllm:Qwen/Qwen2.5-7B-Instruct", "local server, no key"),
        ("llama-server", "local server, no key"),
        ("fake", "test double, no key"),
        ("openai-compatible:m@http://127.0.0.1:1/v1", "compatible server (key only if hosted)"),
        ("anthropic-compatible:m@http://127.0.0.1:1", "compatible server (key only if hosted)"),
    ],
)
def test_every_keyless_provider_kind_gets_its_setup_label(spec: str, setup: str) -> None:
    # The label is looked up by the name the provider really gives itself.
    assert provider_setup(provider(spec).name) == setup


@pytest.mark.parametrize("kind", ["openai", "anthropic", "someone-elses"])
def test_any_other_kind_needs_a_key(kind: str) -> None:
    assert provider_setup(kind) == "API key needed"
