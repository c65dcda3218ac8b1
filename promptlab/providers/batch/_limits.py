"""How large one batch may be, per vendor: one table, which a user can override.

==========  ================  ===============  =================================================
vendor      requests/batch    bytes/batch      source
==========  ================  ===============  =================================================
openai      50,000            200 MB           ``openai`` SDK docstrings of ``batches.create``
                                               and ``files.create`` ("The file can contain up to
                                               50,000 requests, and can be up to 200 MB in
                                               size"; "The Batch API only supports .jsonl files
                                               up to 200 MB in size")
anthropic   100,000           256 MB           Anthropic's Message Batches guide ("100,000
                                               Message requests or 256 MB in size, whichever is
                                               reached first"); the ``anthropic`` SDK (2.14)
                                               does not state it
==========  ================  ===============  =================================================

"MB" is read as 10**6 bytes, the smaller reading, so a file never exceeds either. A
request file is cut into several batches at whichever limit comes first.

Example:
    >>> set_batch_limits("openai", BatchLimits(max_requests=10_000))  # smaller batches
"""

from __future__ import annotations

from dataclasses import dataclass

from promptlab._checks import is_int
from promptlab.errors import ConfigurationError


@dataclass(frozen=True)
class BatchLimits:
    """The most requests, and bytes of request data, one batch may hold.

    Attributes:
        max_requests: Requests per batch.
        max_bytes: Bytes of the batch's request data (the JSONL file for OpenAI, the JSON
            body for Anthropic).
    """

    max_requests: int
    max_bytes: int = 200_000_000

    def __post_init__(self) -> None:
        for name in ("max_requests", "max_bytes"):
            value = getattr(self, name)
            if not is_int(value) or value < 1:
                raise ConfigurationError(
                    f"BatchLimits {name}={value!r} is not allowed: use an integer >= 1."
                )


#: vendor -> limits. Change it with :func:`set_batch_limits`.
BATCH_LIMITS: dict[str, BatchLimits] = {
    "openai": BatchLimits(max_requests=50_000, max_bytes=200_000_000),
    "anthropic": BatchLimits(max_requests=100_000, max_bytes=256_000_000),
}


def set_batch_limits(vendor: str, limits: BatchLimits) -> None:
    """Use ``limits`` for ``vendor``'s batches from now on (e.g. smaller batches)."""
    if not isinstance(limits, BatchLimits):
        raise ConfigurationError(
            f"set_batch_limits({vendor!r}, {limits!r}): give a BatchLimits, e.g. "
            "BatchLimits(max_requests=10_000)."
        )
    if vendor not in BATCH_LIMITS:
        raise ConfigurationError(
            f"set_batch_limits: no batch API is known for {vendor!r}; use one of "
            f"{', '.join(sorted(BATCH_LIMITS))}."
        )
    BATCH_LIMITS[vendor] = limits


def batch_limits(vendor: str) -> BatchLimits:
    """The current limits for ``vendor``."""
    return BATCH_LIMITS[vendor]
