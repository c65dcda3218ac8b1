"""The provider contract: one async method, ``complete(request) -> Completion``.

A backend subclasses :class:`Provider`, declares its :class:`Capabilities` and implements
``_generate``. The base class checks every request against the capabilities first (a
parameter the backend cannot honour is a clear error, or is dropped with a warning when
the provider was built with ``on_unsupported="drop"``), fans ``n > 1`` out into
concurrent calls when the backend has no native ``n``, and times the call.

A backend whose work is synchronous anyway (a scripted fake, an in-process model) may
also implement ``_generate_sync``, the same call without ``async``: blocking calls
(:meth:`Provider.complete_sync`, and so ``Strategy.run``) then answer without an event
loop, through the same checks, tracing span and timing as :meth:`Provider.complete`.
"""

from __future__ import annotations

import time
import warnings
from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from promptlab.completion import Completion, CompletionRequest
from promptlab.errors import ConfigurationError, UnsupportedParameterError
from promptlab.params import GenerationParams
from promptlab.sync import run_sync
from promptlab.tracing import (
    active as tracing_active,
    completion_attributes,
    request_attributes,
    set_attributes,
    span,
)

if TYPE_CHECKING:  # scoring is a feature of its own: its module loads when used
    from promptlab.likelihood import PromptLogprobs, ScoredText

OnUnsupported = Literal["error", "drop"]


class UnsupportedParameterWarning(UserWarning):
    """A parameter the provider cannot honour was dropped (``on_unsupported="drop"``)."""


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a backend can honour.

    Attributes:
        native_n: One call can return ``n`` samples. Without it, ``n > 1`` becomes
            ``n`` concurrent calls.
        logprobs: Token log-probabilities (``logprobs`` / ``top_logprobs``).
        max_top_logprobs: Largest ``top_logprobs`` accepted.
        penalties: ``frequency_penalty`` and ``presence_penalty``.
        seed: A sampling seed.
        temperature: ``temperature``.
        top_p: ``top_p``.
        max_stop: Most stop sequences per request; ``None`` means no limit, 0 means none.
    """

    native_n: bool = False
    logprobs: bool = False
    max_top_logprobs: int = 20
    penalties: bool = False
    seed: bool = False
    temperature: bool = True
    top_p: bool = True
    max_stop: int | None = None

    def unsupported(self, params: GenerationParams) -> dict[str, str]:
        """Map each parameter in ``params`` this backend cannot honour to the reason."""
        problems: dict[str, str] = {}
        # Only fields that were set can be unsupported; most requests set few or none.
        for name in params.model_fields_set:
            capability = _CAPABILITY_OF.get(name)
            if (
                capability is not None
                and not getattr(self, capability)
                and getattr(params, name) is not None
            ):
                problems[name] = "this backend has no such setting"
        if (
            self.logprobs
            and params.top_logprobs is not None
            and params.top_logprobs > self.max_top_logprobs
        ):
            problems["top_logprobs"] = f"at most {self.max_top_logprobs} are allowed"
        if params.stop and self.max_stop is not None and len(params.stop) > self.max_stop:
            problems["stop"] = (
                f"{len(params.stop)} stop sequences given, at most {self.max_stop} allowed"
            )
        return problems


# Generation parameter -> the capability flag it needs.
_CAPABILITY_OF = {
    "temperature": "temperature",
    "top_p": "top_p",
    "frequency_penalty": "penalties",
    "presence_penalty": "penalties",
    "seed": "seed",
    "logprobs": "logprobs",
    "top_logprobs": "logprobs",
}


class Provider(ABC):
    """Base class of every backend.

    Subclasses set ``name``, ``model`` and ``capabilities`` (and ``max_concurrency`` when
    the backend serves a limited number of calls at once) and implement
    :meth:`_generate`, which receives only requests the backend can honour. When
    ``capabilities.native_n`` is false, ``_generate`` is only ever asked for one sample.

    Args:
        on_unsupported: ``"error"`` (default) raises
            :class:`~promptlab.errors.UnsupportedParameterError` for a parameter the
            backend cannot honour; ``"drop"`` removes it and warns.
    """

    name: str = "provider"
    model: str = ""
    capabilities: Capabilities = Capabilities()
    #: Most calls this provider should serve at once, or None for no limit of its own.
    #: An :class:`~promptlab.Experiment` uses it as the provider's default concurrency.
    max_concurrency: int | None = None

    def __init__(self, *, on_unsupported: OnUnsupported = "error") -> None:
        if on_unsupported not in ("error", "drop"):
            raise ConfigurationError(
                f"on_unsupported={on_unsupported!r} is not allowed: use 'error' or 'drop'."
            )
        self.on_unsupported: OnUnsupported = on_unsupported

    @abstractmethod
    async def _generate(self, request: CompletionRequest) -> Completion:
        """Call the backend for a request it can honour."""

    def _generate_sync(self, request: CompletionRequest) -> Completion:
        """Optional hook: :meth:`_generate` for a backend whose work is synchronous anyway.

        Implement it when a call does its work in this thread anyway (a scripted fake, an
        in-process model such as llama.cpp) and it returns what :meth:`_generate` would
        for the same request: blocking calls then skip the event loop. It receives the
        same checked requests as :meth:`_generate`, one sample at a time unless
        ``capabilities.native_n``. It is used only while the class that defines it is the
        one (or a subclass of the one) that defines :meth:`_generate`, and :meth:`complete`
        is not overridden, so a subclass that changes either never loses its change.
        """
        raise NotImplementedError

    #: Whether blocking calls may use :meth:`_generate_sync` (set per class, see there).
    _generates_sync: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._generates_sync = _uses_generate_sync(cls)

    async def complete(self, request: CompletionRequest) -> Completion:
        """Send ``request`` and return the completion (``request.params.n`` choices)."""
        request = self.check(request)
        start = time.perf_counter()
        n = request.params.n or 1
        with self._span(request) as current:
            if n > 1 and not self.capabilities.native_n:
                completion = await self._fan_out(request, n)
            else:
                completion = await self._generate(request)
            return _finished(current, completion, start)

    def complete_sync(self, request: CompletionRequest) -> Completion:
        """Blocking :meth:`complete`; works in scripts and in notebooks.

        A backend with a native synchronous call (``_generate_sync``) answers in this
        thread, without an event loop, through the same checks, span and timing; so does
        a request it can answer in one call. Every other call goes through
        :func:`~promptlab.sync.run_sync`.
        """
        if self._generates_sync and (self.capabilities.native_n or (request.params.n or 1) == 1):
            request = self.check(request)
            start = time.perf_counter()
            if not tracing_active():  # no span to open: skip building one (the common case)
                completion = self._generate_sync(request)
                return _with_latency(completion, time.perf_counter() - start)
            with self._span(request) as current:
                return _finished(current, self._generate_sync(request), start)
        return run_sync(self.complete(request))

    def _span(self, request: CompletionRequest) -> AbstractContextManager[Any]:
        """The tracing span around one call (see :mod:`promptlab.tracing`)."""
        attributes = lambda: request_attributes(self.name, self.model, request)  # noqa: E731
        return span(f"chat {self.model}", attributes, client=True)

    async def prompt_logprobs(
        self,
        text: ScoredText,
        *,
        rolling: bool = False,
        context_size: int | None = None,
        stride: int | None = None,
    ) -> PromptLogprobs:
        """Log-probability of each token of a given text, teacher-forced (not sampled).

        The capability behind :func:`promptlab.perplexity`. ``text`` is a whole text, or a
        ``(context, continuation)`` pair: only the continuation is scored, given the
        context (a string, or chat messages formatted with the model's chat template).
        Backends that can score text override this; the default raises.

        Args:
            text: The text, or ``(context, continuation)``.
            rolling: Score a text longer than the context window in overlapping windows
                (see :func:`promptlab.likelihood.rolling_windows`). Without it, a text
                that does not fit raises
                :class:`~promptlab.errors.ContextWindowExceededError`.
            context_size: Tokens per window (default: the model's context size).
            stride: Tokens scored per window after the first (default: half a window).

        Raises:
            UnsupportedParameterError: This backend returns no log-probabilities of a
                given text (chat-only APIs such as OpenAI chat, Anthropic, LangChain chat
                models).
        """
        from promptlab.likelihood import SCORING_BACKENDS

        raise UnsupportedParameterError(
            self.name,
            "prompt_logprobs",
            "this backend does not return log-probabilities of a given text (a chat API "
            "returns them only for the tokens it samples), so it cannot compute the "
            "perplexity of a reference text",
            fix=SCORING_BACKENDS,
        )

    def prompt_logprobs_sync(
        self,
        text: ScoredText,
        *,
        rolling: bool = False,
        context_size: int | None = None,
        stride: int | None = None,
    ) -> PromptLogprobs:
        """Blocking :meth:`prompt_logprobs`; works in scripts and in notebooks."""
        return run_sync(
            self.prompt_logprobs(text, rolling=rolling, context_size=context_size, stride=stride)
        )

    async def aclose(self) -> None:  # noqa: B027 - most backends hold nothing to close
        """Release connections or models held by the provider."""

    async def __aenter__(self) -> Provider:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    def fingerprint(self) -> dict[str, Any]:
        """What identifies this provider's answers, as plain JSON data.

        The provider class, its name and model, plus :meth:`_fingerprint_settings`: every
        provider-level setting that changes what comes back (endpoint, model file, default
        ``max_tokens``...). Never API keys or headers. The response cache keys on it and a
        run directory records it, so two providers that could answer differently never
        share cached answers or resumed cells.
        """
        return {
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
            "name": self.name,
            "model": self.model,
            **self._fingerprint_settings(),
        }

    def _fingerprint_settings(self) -> dict[str, Any]:
        """Provider-level settings that change answers; backends extend this."""
        return {}

    def check(self, request: CompletionRequest) -> CompletionRequest:
        """Raise, or drop with a warning, any parameter this backend cannot honour."""
        if not request.params.model_fields_set:  # only a set parameter can be unsupported
            return request
        problems = self.capabilities.unsupported(request.params)
        if not problems:
            return request
        if self.on_unsupported == "error":
            name, detail = next(iter(problems.items()))
            raise UnsupportedParameterError(self.name, name, detail)
        for name, detail in problems.items():
            warnings.warn(
                f"Provider {self.name!r} dropped the parameter {name!r} ({detail}).",
                UnsupportedParameterWarning,
                stacklevel=3,
            )
        params = request.params
        if "stop" in problems and self.capabilities.max_stop:
            kept = (params.stop or [])[: self.capabilities.max_stop]
            params = params.merge({"stop": kept})
            del problems["stop"]
        return replace(request, params=params.without(*problems))

    async def _fan_out(self, request: CompletionRequest, n: int) -> Completion:
        # One call per sample, each seeded as sample i of the request (seed + i).
        import asyncio  # here, not at the top: `import promptlab` stays free of asyncio

        parts = await asyncio.gather(
            *(self._generate(request.for_samples(i, None)) for i in range(n))
        )
        return Completion.merge(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, model={self.model!r})"


def _uses_generate_sync(cls: type[Provider]) -> bool:
    """True when ``cls``'s blocking calls may use ``_generate_sync`` (see its docstring)."""
    if cls.complete is not Provider.complete:
        return False
    owner = {name: _defining_class(cls, name) for name in ("_generate", "_generate_sync")}
    sync_owner, async_owner = owner["_generate_sync"], owner["_generate"]
    return (
        sync_owner is not None
        and sync_owner is not Provider
        # The MRO, not issubclass: this runs inside ABCMeta.__new__, before the new class has
        # its own ABC cache, so issubclass would consult (and could be answered by) the
        # parent's cache: the answer then depended on which checks had run earlier.
        and (async_owner is None or async_owner in sync_owner.__mro__)
    )


def _defining_class(cls: type, name: str) -> type | None:
    return next((klass for klass in cls.__mro__ if name in vars(klass)), None)


def _finished(current: Any, completion: Completion, start: float) -> Completion:
    """The completion with its latency since ``start``, its attributes on the span."""
    if current is not None:
        set_attributes(current, completion_attributes(completion))
    return _with_latency(completion, time.perf_counter() - start)


def _with_latency(completion: Completion, latency_s: float) -> Completion:
    # Field by field rather than dataclasses.replace, which inspects the class each call.
    return Completion(
        completion.choices,
        completion.usage,
        latency_s,
        completion.model,
        completion.provider,
        completion.cost_usd,
        completion.calls,
    )
