"""Anthropic's Messages API through the official ``anthropic`` SDK (``AsyncAnthropic``).

Parameter mapping:

=================== ==================================================================
promptlab           Messages API
=================== ==================================================================
system messages     joined into the ``system`` field
stop                ``stop_sequences``
max_tokens          ``max_tokens`` (required by the API: default
                    :data:`DEFAULT_MAX_TOKENS`)
temperature, top_p  sent in ``extra_body``: since ``anthropic`` 1.0 the SDK no longer
                    lists them as arguments, but the API still honours them on models
                    that accept them (see below)
n                   no native ``n``: ``n`` concurrent requests (by the base class)
penalties, seed,    not supported: a clear error, or dropped with a warning when the
logprobs            provider was built with ``on_unsupported="drop"``
=================== ==================================================================

Models differ on sampling settings (as known when this was written; override with
``sampling=``):

- Claude 3.x, Claude 4 and 4.0/4.1 Sonnet...: temperature and top_p, alone or together.
- Claude Opus 4.1 and the 4.5 and 4.6 models: temperature *or* top_p; both together is
  refused by the API, so promptlab raises
  :class:`~promptlab.errors.UnsupportedParameterError` before sending (or drops top_p
  with a warning under ``on_unsupported="drop"``).
- Claude Opus 4.7 and later, Claude Mythos, and any Claude 5 model: neither; the API
  answers 400 to either, so both are marked unsupported.

Unknown model names (e.g. on a compatible server) are assumed to accept both.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from promptlab._checks import is_int
from promptlab.completion import Choice, Completion, CompletionRequest, Usage
from promptlab.errors import ConfigurationError, UnsupportedParameterError
from promptlab.providers.base import Capabilities, UnsupportedParameterWarning
from promptlab.providers.vendor_api import EndpointOptions, VendorAPIProvider

if TYPE_CHECKING:
    from typing_extensions import Unpack

ANTHROPIC_KEY_ENV = "ANTHROPIC_API_KEY"
#: ``max_tokens`` sent when the request does not set it (the API requires a value).
DEFAULT_MAX_TOKENS = 1024

Sampling = Literal["both", "either", "none"]

# Anthropic stop reasons in the OpenAI vocabulary the rest of promptlab uses.
FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}

_VERSION = re.compile(r"^claude-([a-z]+)-(\d+)(?:-(\d{1,2})(?!\d))?")


def sampling_rule(model: str) -> Sampling:
    """Which of temperature/top_p ``model`` accepts: ``"both"``, ``"either"`` or ``"none"``."""
    if model.startswith("claude-mythos"):
        return "none"
    match = _VERSION.match(model)
    if match is None:  # claude-3-5-sonnet..., or a name we do not know
        return "both"
    family, major, minor = match.group(1), int(match.group(2)), int(match.group(3) or 0)
    if (major, minor) >= (4, 7):
        return "none"
    if (major, minor) >= (4, 5) or (family == "opus" and (major, minor) >= (4, 1)):
        return "either"
    return "both"


def anthropic_capabilities(model: str, sampling: Sampling | None = None) -> Capabilities:
    """The capability flags of ``model`` on the Messages API."""
    rule = sampling or sampling_rule(model)
    return Capabilities(
        native_n=False,
        logprobs=False,
        penalties=False,
        seed=False,
        temperature=rule != "none",
        top_p=rule != "none",
        max_stop=None,
    )


class AnthropicProvider(VendorAPIProvider):
    """Claude models through Anthropic's Messages API.

    Args:
        model: Model name, e.g. ``"claude-haiku-4-5"``.
        api_key: The API key; default ``$ANTHROPIC_API_KEY`` (missing: a
            :class:`~promptlab.errors.MissingAPIKeyError` at construction). For
            another ``base_url`` the variable is not read unless ``api_key_env`` names it.
        base_url: A compatible server's root URL (e.g. llama.cpp's ``llama-server``).
        api_key_env: Environment variable to read the key from.
        default_max_tokens: ``max_tokens`` when the request does not set it.
        sampling: Override the model's temperature/top_p rule (``"both"``,
            ``"either"``, ``"none"``).
        timeout, max_retries, retry, requests_per_minute, tokens_per_minute,
        rate_limiter, price, capabilities, name, default_headers, on_unsupported:
            As for :class:`~promptlab.providers.openai.OpenAIProvider`.

    Example:
        >>> claude = AnthropicProvider("claude-haiku-4-5", requests_per_minute=50)
        >>> SelfConsistency(ChainOfThought(), n=5).run({"question": "..."}, claude)
    """

    vendor = "anthropic"
    domain = "anthropic.com"
    key_env = ANTHROPIC_KEY_ENV
    example_model = "claude-haiku-4-5"

    def __init__(
        self,
        model: str,
        *,
        default_max_tokens: int = DEFAULT_MAX_TOKENS,
        sampling: Sampling | None = None,
        capabilities: Capabilities | None = None,
        **options: Unpack[EndpointOptions],
    ) -> None:
        self.check_model(model)
        if sampling not in (None, "both", "either", "none"):
            raise ConfigurationError(
                f"sampling={sampling!r} is not allowed: use 'both', 'either', 'none', or None "
                "to choose by model."
            )
        if not is_int(default_max_tokens) or default_max_tokens < 1:
            raise ConfigurationError(
                f"default_max_tokens={default_max_tokens!r} is not allowed: use an integer >= 1."
            )
        self.sampling: Sampling = sampling or sampling_rule(model)
        super().__init__(
            model,
            capabilities=capabilities or anthropic_capabilities(model, self.sampling),
            **options,
        )
        self.default_max_tokens = default_max_tokens
        self.assumed_output_tokens = default_max_tokens

    def check(self, request: CompletionRequest) -> CompletionRequest:
        """The base checks, plus the "temperature or top_p, not both" rule of some models."""
        request = super().check(request)
        params = request.params
        if self.sampling != "either" or params.temperature is None or params.top_p is None:
            return request
        detail = f"{self.model} accepts temperature or top_p, not both"
        if self.on_unsupported == "error":
            raise UnsupportedParameterError(self.name, "top_p", detail)
        warnings.warn(
            f"Provider {self.name!r} dropped the parameter 'top_p' ({detail}).",
            UnsupportedParameterWarning,
            stacklevel=3,
        )
        return replace(request, params=params.without("top_p"))

    def _make_client(self) -> Any:
        return self._sdk_client("anthropic", "AsyncAnthropic")

    def request_body(self, request: CompletionRequest) -> dict[str, Any]:
        """The keyword arguments sent to ``messages.create`` for ``request``."""
        params = request.params
        system = "\n\n".join(m.content for m in request.messages if m.role == "system")
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [m.to_dict() for m in request.messages if m.role != "system"],
            "max_tokens": params.max_tokens or self.default_max_tokens,
        }
        if system:
            body["system"] = system
        if params.stop:
            body["stop_sequences"] = list(params.stop)
        given = params.given_values()
        sampling = {k: given[k] for k in ("temperature", "top_p") if k in given}
        if sampling:
            body["extra_body"] = sampling
        return body

    async def _generate(self, request: CompletionRequest) -> Completion:
        body = self.request_body(request)
        message = await self._send(request, lambda: self._client().messages.create(**body))
        return self._completion(message)

    def _completion(self, message: Any) -> Completion:
        """A Messages API reply (an SDK ``Message``) as a completion, at direct prices."""
        text = "".join(
            block.text for block in message.content if getattr(block, "type", "") == "text"
        )
        reason = message.stop_reason
        choice = Choice(text, FINISH_REASONS.get(reason, reason) if reason else None)
        usage = _usage(message.usage)
        model = getattr(message, "model", None) or self.model
        return Completion(
            (choice,),
            usage,
            model=model,
            provider=self.name,
            cost_usd=self._cost(usage, self.model, model),
        )

    def _fingerprint_settings(self) -> dict[str, Any]:
        # default_max_tokens decides where an answer is cut when the request sets no
        # max_tokens; the sampling rule decides which of temperature/top_p are sent.
        return {
            **super()._fingerprint_settings(),
            "default_max_tokens": self.default_max_tokens,
            "sampling": self.sampling,
        }


def _usage(raw: Any) -> Usage:
    # Anthropic's input_tokens leaves out cache reads and writes; add them back so that
    # input_tokens is the whole prompt, as for every other provider.
    cache_read = getattr(raw, "cache_read_input_tokens", None) or 0
    cache_write = getattr(raw, "cache_creation_input_tokens", None) or 0
    return Usage(
        input_tokens=(raw.input_tokens or 0) + cache_read + cache_write,
        output_tokens=raw.output_tokens or 0,
        cached_input_tokens=cache_read,
    )
