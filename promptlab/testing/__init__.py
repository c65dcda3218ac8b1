"""Test doubles for your own tests: :class:`FakeProvider` needs no network and no model."""

from promptlab.testing.fake_provider import FakeProvider

__all__ = ["FakeProvider"]
