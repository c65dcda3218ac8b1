"""Opt-in OpenTelemetry tracing: a span per experiment, per cell and per provider call.

Tracing goes through ``opentelemetry-api`` (``pip install "promptlab[tracing]"``) and
does nothing until the application configures an OpenTelemetry SDK (a
``TracerProvider`` with an exporter): without one, and without the API installed, no
span is made and nothing is recorded. Provider-call spans carry the OpenTelemetry GenAI
semantic-convention attributes (``gen_ai.operation.name``, ``gen_ai.system``,
``gen_ai.request.model`` and parameters, ``gen_ai.response.model``,
``gen_ai.usage.input_tokens`` / ``output_tokens``, ``gen_ai.response.finish_reasons``);
promptlab's own are under ``promptlab.*`` (arm, task id, repeat, cache hit, cost).

Prompt and completion text are recorded only when content capture is on:
:func:`capture_content` ``(True)``, or the GenAI convention's environment variable
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true``. API keys are never recorded:
no attribute is read from a provider's client or its settings.

Example:
    >>> from opentelemetry import trace                                  # doctest: +SKIP
    >>> from opentelemetry.sdk.trace import TracerProvider               # doctest: +SKIP
    >>> trace.set_tracer_provider(TracerProvider())                      # doctest: +SKIP
    >>> # ... add an exporter; every run and provider call is now traced
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from promptlab._version import __version__

if TYPE_CHECKING:
    from promptlab.completion import Completion, CompletionRequest

__all__ = [
    "CAPTURE_CONTENT_ENV",
    "active",
    "capture_content",
    "capturing_content",
    "completion_attributes",
    "mark_error",
    "request_attributes",
    "set_attributes",
    "span",
]

#: The GenAI semantic conventions' switch for recording prompt and completion text.
CAPTURE_CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"

_capture: bool | None = None
_api: Any = None  # the opentelemetry.trace module, False when it is not installed


def capture_content(enabled: bool | None) -> None:
    """Record prompt and completion text in provider-call spans (``None``: as the env says)."""
    global _capture
    _capture = enabled


def capturing_content() -> bool:
    """Whether prompt and completion text go into spans."""
    if _capture is not None:
        return _capture
    return os.environ.get(CAPTURE_CONTENT_ENV, "").strip().lower() in ("1", "true", "yes")


def _load_api() -> Any:
    global _api
    if _api is None:
        try:
            from opentelemetry import trace
        except ImportError:
            _api = False
        else:
            _api = trace
    return _api


def _provider() -> Any:
    """The configured OpenTelemetry SDK tracer provider, or None (the no-op case)."""
    api = _api if _api is not None else _load_api()
    if api is False or _unconfigured(api):
        return None
    provider = api.get_tracer_provider()
    # Until an SDK sets a provider, the API hands out a proxy whose spans record nothing:
    # skip the span entirely, so an untraced call costs one check.
    if isinstance(provider, (api.ProxyTracerProvider, api.NoOpTracerProvider)):
        return None
    return provider


def _tracer() -> Any:
    """promptlab's tracer, or None when no OpenTelemetry SDK is configured."""
    provider = _provider()
    return None if provider is None else provider.get_tracer("promptlab", __version__)


def active() -> bool:
    """True when spans are recorded: an OpenTelemetry SDK's tracer provider is configured.

    Asked afresh on every call (cheaply while nothing is configured), so tracing starts
    as soon as an application sets a tracer provider, before or after promptlab's first
    call. :func:`span` makes a span exactly when this is true.
    """
    return _provider() is not None


# The API's getter looks OTEL_PYTHON_TRACER_PROVIDER up in os.environ on every call while no
# provider is set (a KeyError raised and caught: most of an untraced call's tracing cost).
# `_unconfigured` answers the same question from the environment's own dict.
_PROVIDER_ENV = "OTEL_PYTHON_TRACER_PROVIDER"
try:
    _PROVIDER_ENV_KEY: Any = os.environ.encodekey(_PROVIDER_ENV)
except AttributeError:  # pragma: no cover - os.environ is always an os._Environ
    _PROVIDER_ENV_KEY = None
_stock_getter: Any = None  # the API's own get_tracer_provider, once seen


def _unconfigured(api: Any) -> bool:
    """True when ``api.get_tracer_provider()`` would return the API's proxy (no SDK).

    That is: the getter is the API's own (tests and instrumentations may replace it), no
    provider has been set, and ``OTEL_PYTHON_TRACER_PROVIDER`` names none. Checked on every
    call, so a provider configured later is seen at once. False means "ask the getter".
    """
    global _stock_getter
    getter = api.get_tracer_provider
    if getter is not _stock_getter:
        if (
            getattr(getter, "__module__", None) != api.__name__
            or getattr(getter, "__qualname__", None) != "get_tracer_provider"
            or not hasattr(api, "_TRACER_PROVIDER")  # an API version this check does not know
        ):
            return False  # replaced: only the replacement knows
        _stock_getter = getter
    if api._TRACER_PROVIDER is not None:
        return False
    try:
        return _PROVIDER_ENV_KEY not in os.environ._data  # type: ignore[attr-defined]
    except AttributeError:  # pragma: no cover - a replaced os.environ: ask it
        return _PROVIDER_ENV not in os.environ


def span(
    name: str,
    attributes: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
    *,
    client: bool = False,
) -> AbstractContextManager[Any]:
    """A span named ``name`` around the block, or nothing (``None``) when tracing is off.

    ``attributes`` may be a function, called only when a span is made (an untraced call
    then builds nothing). An exception leaving the block is recorded on the span and sets
    its status to error.
    """
    tracer = _tracer()
    if tracer is None:
        return _NO_SPAN  # reusable; an untraced call builds no generator per call
    return _recording_span(tracer, name, attributes, client)


_NO_SPAN: AbstractContextManager[None] = nullcontext()


@contextmanager
def _recording_span(
    tracer: Any,
    name: str,
    attributes: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
    client: bool,
) -> Iterator[Any]:
    given = attributes() if callable(attributes) else attributes
    kind = _api.SpanKind.CLIENT if client else _api.SpanKind.INTERNAL
    with tracer.start_as_current_span(name, kind=kind, attributes=_clean(given)) as current:
        yield current


def set_attributes(current: Any, attributes: Mapping[str, Any]) -> None:
    """Add attributes to a span from :func:`span` (nothing when it is ``None``)."""
    if current is not None and current.is_recording():
        current.set_attributes(_clean(attributes))


def mark_error(current: Any, description: str) -> None:
    """Set a span's status to error (a failure that was handled, not raised)."""
    if current is not None and current.is_recording():
        current.set_status(_api.Status(_api.StatusCode.ERROR, description))


def _clean(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Attribute values OpenTelemetry accepts: no None, sequences as tuples of one type."""
    clean: dict[str, Any] = {}
    for key, value in attributes.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            clean[key] = tuple("" if v is None else str(v) for v in value)
        elif isinstance(value, (bool, int, float, str)):
            clean[key] = value
        else:
            clean[key] = str(value)
    return clean


def request_attributes(system: str, model: str, request: CompletionRequest) -> dict[str, Any]:
    """GenAI attributes of a provider call, before it is sent."""
    params = request.params
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.system": system,
        "gen_ai.provider.name": system,
        "gen_ai.request.model": model,
        "gen_ai.request.temperature": params.temperature,
        "gen_ai.request.top_p": params.top_p,
        "gen_ai.request.max_tokens": params.max_tokens,
        "gen_ai.request.seed": params.seed,
        "gen_ai.request.stop_sequences": params.stop,
        "gen_ai.request.frequency_penalty": params.frequency_penalty,
        "gen_ai.request.presence_penalty": params.presence_penalty,
        "gen_ai.request.choice.count": params.n,
    }
    if capturing_content():
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        attributes["gen_ai.input.messages"] = json.dumps(messages, ensure_ascii=False)
    return attributes


def completion_attributes(completion: Completion) -> dict[str, Any]:
    """GenAI attributes of a provider call's answer."""
    attributes: dict[str, Any] = {
        "gen_ai.response.model": completion.model or None,
        "gen_ai.usage.input_tokens": completion.usage.input_tokens,
        "gen_ai.usage.output_tokens": completion.usage.output_tokens,
        "gen_ai.response.finish_reasons": [c.finish_reason for c in completion.choices],
        "promptlab.cost_usd": completion.cost_usd,
    }
    if capturing_content():
        texts = [{"role": "assistant", "content": c.text} for c in completion.choices]
        attributes["gen_ai.output.messages"] = json.dumps(texts, ensure_ascii=False)
    return attributes
