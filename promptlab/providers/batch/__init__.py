"""Vendor batch APIs: OpenAI Batch and Anthropic Message Batches, behind one contract.

:func:`batch_api` gives the :class:`BatchAPI` of a provider, or None when its backend has
no batch API (local models, llama-server, LangChain). Size limits per vendor are one
table, :data:`BATCH_LIMITS` (override with :func:`set_batch_limits`). Scheduling batches
and recording them in a run directory is the experiment layer's job
(:mod:`promptlab.experiments.execution`).
"""

from __future__ import annotations

from typing import Any

from promptlab.errors import ConfigurationError
from promptlab.providers.base import Provider
from promptlab.providers.batch._api import BatchAPI, BatchResult, BatchStatus
from promptlab.providers.batch._limits import (
    BATCH_LIMITS,
    BatchLimits,
    batch_limits,
    set_batch_limits,
)

__all__ = [
    "BATCH_LIMITS",
    "BatchAPI",
    "BatchLimits",
    "BatchResult",
    "BatchStatus",
    "batch_api",
    "batch_api_from_description",
    "batch_limits",
    "set_batch_limits",
]


def batch_api(provider: Provider) -> BatchAPI | None:
    """The batch API of ``provider``'s backend, or None when it has none."""
    from promptlab.providers.anthropic import AnthropicProvider
    from promptlab.providers.openai import OpenAIProvider

    if isinstance(provider, OpenAIProvider):
        from promptlab.providers.batch._openai import OpenAIBatchAPI

        return OpenAIBatchAPI(provider)
    if isinstance(provider, AnthropicProvider):
        from promptlab.providers.batch._anthropic import AnthropicBatchAPI

        return AnthropicBatchAPI(provider)
    return None


def batch_api_from_description(description: dict[str, Any]) -> BatchAPI:
    """Rebuild a batch API from :meth:`BatchAPI.describe` (for status and cancel).

    The key is read as the provider reads it: from the vendor's variable for the vendor's
    own API; a compatible server gets no key unless it needs none.
    """
    vendor = description.get("vendor")
    base_url, name = description.get("base_url"), description.get("name")
    if vendor == "openai":
        from promptlab.providers.batch._openai import OpenAIBatchAPI
        from promptlab.providers.openai import OpenAIProvider

        return OpenAIBatchAPI(
            OpenAIProvider(str(description["model"]), base_url=base_url, name=name)
        )
    if vendor == "anthropic":
        from promptlab.providers.anthropic import AnthropicProvider
        from promptlab.providers.batch._anthropic import AnthropicBatchAPI

        return AnthropicBatchAPI(
            AnthropicProvider(str(description["model"]), base_url=base_url, name=name)
        )
    raise ConfigurationError(
        f"The run directory names a batch of vendor {vendor!r}, which has no batch API "
        "here; use one of openai, anthropic."
    )
