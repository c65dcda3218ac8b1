"""Test doubles for your own tests: :class:`FakeProvider` needs no network and no model.

The fake is a provider, so its code lives with the providers
(:mod:`promptlab.providers.fake`, where the ``fake:`` provider string finds it without
importing this layer); this is its public home, as httpx re-exports ``MockTransport``.
The stub HTTP server for the remote backends lives here (:mod:`promptlab.testing.stub_server`).
"""

from promptlab.providers.fake import FakeProvider

__all__ = ["FakeProvider"]
