"""Any LangChain chat model (``langchain-core`` ``BaseChatModel``) as a promptlab provider.

Generation parameters reach the model as call-time keyword arguments, the mechanism
behind ``model.bind(...)``: ``model.agenerate([messages], stop=..., **params)``. Which
parameters a model honours depends on its class:

- ``ChatOpenAI`` (and every ``BaseChatOpenAI``, e.g. ``AzureChatOpenAI``): all of them,
  with native ``n`` and logprobs, under the same rules as
  :class:`~promptlab.providers.openai.OpenAIProvider`.
- ``ChatAnthropic``: temperature, top_p, max_tokens and stop, under the same model rules
  as :class:`~promptlab.providers.anthropic.AnthropicProvider`; ``n > 1`` becomes
  concurrent calls.
- Any other chat model: ``stop`` (every LangChain chat model takes it); and temperature,
  top_p, max_tokens, seed and the penalties when the model declares a field of that
  name, set on a copy of the model (``model.model_copy(update=...)``) for that call.
  Anything else is reported unsupported. Pass ``capabilities=`` to override.

Usage comes from ``AIMessage.usage_metadata`` (``input_token_details.cache_read`` for
cached tokens). LangChain copies a response's usage onto every generation of an ``n > 1``
response, so it is counted once. SDK errors (which LangChain integrations re-raise as
classes inheriting from both the SDK error and LangChain's ``ModelError``) and plain
LangChain ``ModelError`` classes become promptlab errors.

Event loops: ``langchain-openai`` caches one async HTTP client per base URL for the whole
process, and its connections belong to the event loop that opened them. Use a ChatOpenAI
model from one event loop (promptlab's sync methods reuse one loop per thread), or give
it its own ``http_async_client``; otherwise the call fails with a
:class:`~promptlab.errors.ConfigurationError` that says so.

Retries: promptlab's :class:`~promptlab.providers.retry.RetryPolicy` retries each call.
The wrapped model's own client may retry too (``ChatOpenAI`` and ``ChatAnthropic``
default to 2 SDK retries); build it with ``max_retries=0`` so attempts are not multiplied.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from promptlab.completion import Choice, Completion, CompletionRequest, TokenLogprob, Usage
from promptlab.errors import ConfigurationError, MissingDependencyError
from promptlab.providers.anthropic import FINISH_REASONS, anthropic_capabilities
from promptlab.providers.base import Capabilities
from promptlab.providers.fingerprints import is_secret_name, public_data
from promptlab.providers.openai import OpenAIProvider, openai_capabilities
from promptlab.providers.remote import RemoteOptions, RemoteProvider, is_loopback_url

if TYPE_CHECKING:
    from typing_extensions import Unpack

_FIELD_PARAMS = (
    "temperature",
    "top_p",
    "max_tokens",
    "seed",
    "frequency_penalty",
    "presence_penalty",
)
_OPENAI_PARAMS = (*_FIELD_PARAMS, "n", "logprobs", "top_logprobs")
_ANTHROPIC_PARAMS = ("temperature", "top_p", "max_tokens")

# Chat-model fields that cannot change an answer: bookkeeping, clients, callbacks, retry
# and timeout settings. Left out of the fingerprint so that they do not split the cache.
_OPERATIONAL_FIELDS = frozenset(
    {
        "name",
        "cache",
        "verbose",
        "callbacks",
        "callback_manager",
        "tags",
        "metadata",
        "rate_limiter",
        "custom_get_token_ids",
        "profile",
        "max_retries",
        "request_timeout",
        "default_request_timeout",
        "stream_chunk_timeout",
        "include_response_headers",
    }
)


def _family(model: Any) -> str:
    names = {cls.__name__ for cls in type(model).__mro__}
    if "BaseChatOpenAI" in names:
        return "openai"
    if "ChatAnthropic" in names:
        return "anthropic"
    return "generic"


def _model_name(model: Any) -> str:
    for attribute in ("model_name", "model", "model_id"):
        value = getattr(model, attribute, None)
        if isinstance(value, str) and value:
            return value
    return type(model).__name__


class LangChainProvider(RemoteProvider[Any]):
    """Wrap a LangChain chat model so every promptlab strategy can use it.

    Args:
        model: A ``langchain_core.language_models.BaseChatModel`` instance.
        name: Provider name in results and errors; default ``"langchain"``.
        timeout: Seconds per attempt (on top of the model's own timeout).
        max_retries, retry, requests_per_minute, tokens_per_minute, rate_limiter:
            As for :class:`~promptlab.providers.openai.OpenAIProvider`.
        price: Price per million tokens. Default: the pricing table for ChatOpenAI and
            ChatAnthropic on the vendors' APIs, 0 for a server on loopback, else unknown.
        capabilities: Override the detected supported-parameter flags.
        native_n: Override whether the model returns ``n`` samples per call, e.g.
            ``False`` for ChatOpenAI aimed at llama.cpp's server, which ignores ``n``.
        on_unsupported: ``"error"`` (default) or ``"drop"`` for unsupported parameters.

    Example:
        >>> from langchain_openai import ChatOpenAI
        >>> lc = LangChainProvider(ChatOpenAI(model="gpt-4o-mini", max_retries=0))
        >>> ChainOfThought().run({"question": "..."}, lc).answer
    """

    def __init__(
        self,
        model: Any,
        *,
        name: str = "langchain",
        capabilities: Capabilities | None = None,
        native_n: bool | None = None,
        **options: Unpack[RemoteOptions],
    ) -> None:
        try:
            from langchain_core.language_models import BaseChatModel
        except ImportError:
            raise MissingDependencyError(
                "langchain-core", "langchain", "LangChainProvider"
            ) from None
        if not isinstance(model, BaseChatModel):
            raise ConfigurationError(
                f"LangChainProvider needs a LangChain chat model (a BaseChatModel such as "
                f"ChatOpenAI or ChatAnthropic), not {type(model).__name__}. For a model name, "
                'use a provider string instead, e.g. provider("openai:gpt-4o-mini").'
            )
        self.chat_model = model
        self.name = name
        self.model = _model_name(model)
        self.family = _family(model)
        self.vendor, detected = self._detect()
        if native_n is not None:
            detected = dataclasses.replace(detected, native_n=native_n)
        super().__init__(capabilities=capabilities or detected, **options)

    def _detect(self) -> tuple[str, Capabilities]:
        """Pricing vendor and capabilities, from the wrapped model's class and settings."""
        model = self.chat_model
        if self.family == "openai":
            base_url = getattr(model, "openai_api_base", None)
            official = OpenAIProvider.is_official(base_url)
            vendor = "openai" if official else "local" if is_loopback_url(base_url) else "langchain"
            return vendor, openai_capabilities(self.model, official=official)
        if self.family == "anthropic":
            base_url = str(getattr(model, "anthropic_api_url", "") or "")
            vendor = "local" if is_loopback_url(base_url) else "anthropic"
            return vendor, anthropic_capabilities(self.model)
        fields = set(type(model).model_fields)
        return type(model).__name__, Capabilities(
            native_n=False,
            logprobs=False,
            penalties={"frequency_penalty", "presence_penalty"} <= fields,
            seed="seed" in fields,
            temperature="temperature" in fields,
            top_p="top_p" in fields,
            max_stop=None,
        )

    def call_arguments(self, request: CompletionRequest) -> tuple[Any, dict[str, Any]]:
        """The model to call and the keyword arguments for its ``agenerate``."""
        params = request.params.given_values()
        stop = params.pop("stop", None)
        kwargs: dict[str, Any] = {"stop": list(stop)} if stop else {}
        model = self.chat_model
        if self.family == "openai":
            if params.get("top_logprobs") is not None:
                params["logprobs"] = True
            if params.get("n") == 1:
                del params["n"]
            kwargs.update({k: v for k, v in params.items() if k in _OPENAI_PARAMS})
        elif self.family == "anthropic":
            kwargs.update({k: v for k, v in params.items() if k in _ANTHROPIC_PARAMS})
        else:
            fields = set(type(model).model_fields)
            update = {k: v for k, v in params.items() if k in _FIELD_PARAMS and k in fields}
            if update:
                model = model.model_copy(update=update)
        return model, kwargs

    async def _generate(self, request: CompletionRequest) -> Completion:
        from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

        kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
        messages = [kinds[m.role](content=m.content) for m in request.messages]
        model, kwargs = self.call_arguments(request)
        result = await self._send(request, lambda: _agenerate(model, messages, kwargs))
        generations = result.generations[0]
        choices = tuple(_choice(g, i) for i, g in enumerate(generations))
        usage_data = (
            getattr(generations[0].message, "usage_metadata", None) if generations else None
        )
        usage = _usage(usage_data)
        known = usage_data is not None or (self.vendor == "local" and self.price is None)
        completion = Completion(
            choices,
            usage,
            model=self.model,
            provider=self.name,
            cost_usd=self._cost(usage, self.model) if known else None,
        )
        return await self._ensure_n_choices(request, completion)

    def _fingerprint_settings(self) -> dict[str, Any]:
        """The chat model's class and every field that can change an answer.

        Secrets (``SecretStr`` values, secret-looking names such as ``openai_api_key`` or
        ``default_headers``), clients, callbacks and the fields in ``_OPERATIONAL_FIELDS``
        are left out.
        """
        model = self.chat_model
        kind = type(model)
        fields = {
            name: getattr(model, name, None)
            for name in kind.model_fields
            if name not in _OPERATIONAL_FIELDS and "client" not in name and not is_secret_name(name)
        }
        return {
            "chat_model": f"{kind.__module__}.{kind.__qualname__}",
            "chat_model_fields": public_data(fields),
        }

    def _describe(self) -> dict[str, Any]:
        return {"model": self.model, "chat_model": type(self.chat_model).__name__}


async def _agenerate(model: Any, messages: list[Any], kwargs: dict[str, Any]) -> Any:
    try:
        return await model.agenerate([messages], **kwargs)
    except RuntimeError as exc:
        if "Event loop is closed" not in str(exc):
            raise
        # langchain-openai caches one async HTTP client per base URL for the whole
        # process; its pooled connections die with the event loop that opened them.
        raise ConfigurationError(
            f"The LangChain model {type(model).__name__} holds an HTTP client opened on an "
            "event loop that is now closed (langchain-openai shares one client per base URL "
            "across the process). Use the provider from one event loop (promptlab's sync "
            "methods reuse one loop per thread), or build the model with its own client, "
            "e.g. ChatOpenAI(..., http_async_client=httpx.AsyncClient()) created on the "
            "loop that uses it."
        ) from exc


def _choice(generation: Any, index: int) -> Choice:
    info = generation.generation_info or {}
    metadata = getattr(generation.message, "response_metadata", {}) or {}
    reason = info.get("finish_reason") or metadata.get("finish_reason")
    if reason is None and metadata.get("stop_reason"):
        stop_reason = metadata["stop_reason"]
        reason = FINISH_REASONS.get(stop_reason, stop_reason)
    return Choice(generation.text, reason, _logprobs(info.get("logprobs")), index)


def _logprobs(raw: Any) -> tuple[TokenLogprob, ...] | None:
    content = raw.get("content") if isinstance(raw, dict) else None
    if content is None:
        return None
    return tuple(
        TokenLogprob(
            item["token"],
            float(item["logprob"]),
            tuple((t["token"], float(t["logprob"])) for t in item.get("top_logprobs") or []),
        )
        for item in content
    )


def _usage(data: Any) -> Usage:
    if not data:
        return Usage()
    details = data.get("input_token_details") or {}
    return Usage(
        input_tokens=data.get("input_tokens") or 0,
        output_tokens=data.get("output_tokens") or 0,
        cached_input_tokens=details.get("cache_read") or 0,
    )
