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


def batch_api_from_description(
    description: dict[str, Any], *, api_key_env: str | None = None
) -> BatchAPI:
    """Rebuild a batch API from :meth:`BatchAPI.describe` (for status and cancel).

    The key is read as the run's provider read it: from the variable the description
    names (``api_key_env``), else from the vendor's variable for the vendor's own API; a
    compatible server without either gets a placeholder key. ``api_key_env`` here names
    the variable to read instead (for a run that passed its key in code).

    Raises:
        ConfigurationError: The vendor has no batch API here, or the run's key was given
            in code and no ``api_key_env`` says where to find it now.
    """
    vendor = description.get("vendor")
    options: dict[str, Any] = {
        "base_url": description.get("base_url"),
        "name": description.get("name"),
        "api_key_env": api_key_env or description.get("api_key_env"),
    }
    if options["api_key_env"] is None and description.get("key") == "argument":
        raise ConfigurationError(
            f"The run reached {options['base_url']} with a key given in code (api_key=...), "
            "which the run directory does not keep: put the key in an environment variable "
            "and name it with --api-key-env VAR (api_key_env= in Python)."
        )
    if vendor == "openai":
        from promptlab.providers.batch._openai import OpenAIBatchAPI
        from promptlab.providers.openai import OpenAIProvider

        return OpenAIBatchAPI(OpenAIProvider(str(description["model"]), **options))
    if vendor == "anthropic":
        from promptlab.providers.anthropic import AnthropicProvider
        from promptlab.providers.batch._anthropic import AnthropicBatchAPI

        return AnthropicBatchAPI(AnthropicProvider(str(description["model"]), **options))
    raise ConfigurationError(
        f"The run directory names a batch of vendor {vendor!r}, which has no batch API "
        "here; use one of openai, anthropic."
    )
