"""Provider backends, and :func:`provider` to build one from a string like ``"local"``."""

from promptlab.providers.base import Capabilities, Provider, UnsupportedParameterWarning
from promptlab.providers.registry import provider

__all__ = ["Capabilities", "Provider", "UnsupportedParameterWarning", "provider"]
