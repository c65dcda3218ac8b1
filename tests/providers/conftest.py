"""Fixtures for the provider tests: the session-wide llama-server (tests/support)."""

from tests.support.llama_server import llama_server  # noqa: F401  (registers the fixture)
