"""Build a provider from a string: ``"local"``, ``"local:/path/model.gguf"``, ...

Experiment files name providers this way. Each scheme maps to a small factory; vendor
modules are imported only when their scheme is used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from promptlab.errors import ConfigurationError
from promptlab.providers.base import Provider


def _local(rest: str, **kwargs: Any) -> Provider:
    from promptlab.providers.llama_cpp import LlamaCppProvider

    return LlamaCppProvider(rest or None, **kwargs)


def _fake(rest: str, **kwargs: Any) -> Provider:
    from promptlab.testing import FakeProvider

    if rest:
        kwargs.setdefault("script", [rest])
        kwargs.setdefault("cycle", True)
    return FakeProvider(**kwargs)


#: Scheme -> factory(rest_of_string, **kwargs). Extended by the HTTP backends.
SCHEMES: dict[str, Callable[..., Provider]] = {"local": _local, "fake": _fake}


def provider(spec: str | Provider, **kwargs: Any) -> Provider:
    """Build a provider from a spec string, or return a provider unchanged.

    Args:
        spec: ``"SCHEME"`` or ``"SCHEME:REST"``, e.g. ``"local"`` (the bundled model),
            ``"local:/models/phi.gguf"``, ``"fake:Answer: 4"``.
        **kwargs: Passed to the provider's constructor.

    Raises:
        ConfigurationError: The scheme is unknown; the message lists the known ones.
    """
    if isinstance(spec, Provider):
        return spec
    scheme, _, rest = spec.partition(":")
    factory = SCHEMES.get(scheme.strip().lower())
    if factory is None:
        known = ", ".join(f"{name}:" for name in sorted(SCHEMES))
        raise ConfigurationError(
            f"Unknown provider {spec!r}: the scheme {scheme!r} is not one of {known}. "
            'Examples: "local", "local:/path/model.gguf".'
        )
    return factory(rest.strip(), **kwargs)
