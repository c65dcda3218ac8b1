"""What every remote backend shares: retries, rate limits, timeouts, API keys and cost.

:class:`RemoteProvider` wraps each call to a vendor API in the same steps::

    rate limiter (requests + estimated tokens) -> per-attempt timeout -> SDK call
        -> SDK exception translated to a promptlab error -> retry policy

so that OpenAI, Anthropic and LangChain backends behave the same under load and faults.
API keys are held as :class:`pydantic.SecretStr` and never appear in a repr, an error
message or a log line written by promptlab.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import ipaddress
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypedDict, TypeVar
from urllib.parse import urlparse

from pydantic import SecretStr

from promptlab.completion import Completion, CompletionRequest, Usage
from promptlab.errors import (
    ConfigurationError,
    MissingAPIKeyError,
    MissingDependencyError,
    ResponseFormatError,
)
from promptlab.pricing import ModelPrice, cost_usd
from promptlab.providers.base import Capabilities, OnUnsupported, Provider
from promptlab.providers.error_mapping import translate_error
from promptlab.providers.fingerprints import safe_url
from promptlab.providers.rate_limit import RateLimiter, estimate_tokens
from promptlab.providers.retry import RetryPolicy

#: Sent to servers that need no key when none is configured; local servers ignore it.
PLACEHOLDER_KEY = "no-key-needed"

T = TypeVar("T")
C = TypeVar("C")

logger = logging.getLogger(__name__)

#: Seconds one attempt may take when no ``timeout`` is given.
DEFAULT_TIMEOUT = 120.0


def resolve_api_key(
    api_key: str | SecretStr | None, env_var: str | None, provider: str, *, required: bool
) -> SecretStr | None:
    """The key from the argument, else from ``env_var``; raise if required and missing.

    Raises:
        MissingAPIKeyError: ``required`` and no key was found; names the variable.
    """
    if isinstance(api_key, SecretStr):
        api_key = api_key.get_secret_value()
    if not api_key and env_var:
        api_key = os.environ.get(env_var) or None
    if api_key:
        return SecretStr(api_key)
    if required:
        where = f"set the environment variable {env_var}, or " if env_var else ""
        raise MissingAPIKeyError(
            f"no API key was given. To fix it, {where}pass api_key=... to the provider.",
            provider=provider,
        )
    return None


def is_loopback_url(url: str | None) -> bool:
    """True for a URL on this machine (localhost, 127.0.0.0/8, ::1)."""
    if not url:
        return False
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RemoteOptions(TypedDict, total=False):
    """The settings every remote provider takes as keyword arguments.

    Backends accept them as ``**options`` and pass them on to :class:`RemoteProvider`,
    which documents them; their defaults live there, in one place.
    """

    timeout: float | None
    max_retries: int | None
    retry: RetryPolicy | None
    requests_per_minute: float | None
    tokens_per_minute: float | None
    rate_limiter: RateLimiter | None
    price: ModelPrice | None
    on_unsupported: OnUnsupported


class RemoteProvider(Provider, Generic[C]):
    """Base class of backends that call a remote API through a vendor client.

    Subclasses implement :meth:`_make_client` (one SDK client per event loop, because
    HTTP connection pools belong to the loop that opened them) and call :meth:`_send`
    around each API call.

    Args:
        timeout: Seconds one attempt may take before it fails with
            :class:`~promptlab.errors.ProviderTimeoutError` (and is retried).
        max_retries: Retries after the first attempt (default 3). Give either this or
            ``retry``.
        retry: A full :class:`~promptlab.providers.retry.RetryPolicy`.
        requests_per_minute: Client-side request limit for this provider instance.
        tokens_per_minute: Client-side token limit (estimated before sending).
        rate_limiter: A :class:`~promptlab.providers.rate_limit.RateLimiter` to share
            between providers; replaces the two limits above.
        price: Price per million tokens, overriding :mod:`promptlab.pricing`.
        capabilities: Override what the backend is assumed to support.
        on_unsupported: ``"error"`` or ``"drop"``; see :class:`Provider`.
    """

    #: Vendor name used to look up prices in :mod:`promptlab.pricing`.
    vendor: str = ""
    #: Output tokens assumed by the rate limiter when ``max_tokens`` is not set.
    assumed_output_tokens: int = 256
    # Set by the SDK-backed subclasses (OpenAI, Anthropic); used by _sdk_client.
    base_url: str | None = None
    default_headers: dict[str, str] | None = None
    _api_key: SecretStr | None = None
    _safe_base_url: tuple[str, str] | None = None

    def __init__(
        self,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        rate_limiter: RateLimiter | None = None,
        price: ModelPrice | None = None,
        capabilities: Capabilities | None = None,
        on_unsupported: OnUnsupported = "error",
    ) -> None:
        super().__init__(on_unsupported=on_unsupported)
        if timeout is not None and not timeout > 0:
            raise ConfigurationError(
                f"timeout={timeout!r} is not allowed: use seconds > 0, or None for no limit."
            )
        if retry is not None and max_retries is not None:
            raise ConfigurationError(
                f"Both max_retries={max_retries!r} and retry={retry!r} were given: pass one. "
                "retry=RetryPolicy(max_attempts=...) sets everything max_retries does."
            )
        if rate_limiter is not None and (requests_per_minute or tokens_per_minute):
            raise ConfigurationError(
                "Both rate_limiter and requests_per_minute/tokens_per_minute were given: "
                "pass the limits to RateLimiter(...) or to the provider, not both."
            )
        self.timeout = timeout
        retries = 3 if max_retries is None else max_retries
        self.retry = retry or RetryPolicy.from_max_retries(retries)
        self.rate_limiter = rate_limiter or RateLimiter(requests_per_minute, tokens_per_minute)
        self.price = price
        if capabilities is not None:
            self.capabilities = capabilities
        self._key_hint = ""
        self._clients: dict[int, tuple[asyncio.AbstractEventLoop, C]] = {}

    def _make_client(self) -> C:
        """Build a vendor client for the running event loop."""
        raise NotImplementedError

    def _sdk_client(self, package: str, client_class: str) -> Any:
        """An async client of the vendor SDK ``package`` (imported now, on first use).

        The SDK's own retries are off: promptlab's :class:`RetryPolicy` is the only loop.
        """
        try:
            module = importlib.import_module(package)
        except ImportError:
            raise MissingDependencyError(package, package, type(self).__name__) from None
        key = self._api_key.get_secret_value() if self._api_key else PLACEHOLDER_KEY
        return getattr(module, client_class)(
            api_key=key,
            base_url=self.base_url,
            timeout=self.timeout,
            max_retries=0,
            default_headers=self.default_headers,
        )

    def _client(self) -> C:
        loop = asyncio.get_running_loop()
        entry = self._clients.get(id(loop))
        if entry is None or entry[0] is not loop:
            self._clients = {k: v for k, v in self._clients.items() if not v[0].is_closed()}
            entry = (loop, self._make_client())
            self._clients[id(loop)] = entry
        return entry[1]

    async def _send(self, request: CompletionRequest, call: Callable[[], Awaitable[T]]) -> T:
        """Run ``call`` under the rate limiter, timeout, error translation and retries."""
        limiter = self.rate_limiter
        # Estimated only when a limit needs it; most providers have none.
        tokens = estimate_tokens(request, self.assumed_output_tokens) if limiter.enabled else 1

        async def attempt() -> T:
            await limiter.acquire(tokens)  # returns at once when no limit is set
            try:
                if self.timeout is None:
                    return await call()
                if sys.version_info >= (3, 11):
                    # Unlike wait_for on 3.11, a timeout context spawns no extra Task per call.
                    async with asyncio.timeout(self.timeout):
                        return await call()
                return await asyncio.wait_for(call(), self.timeout)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                raise translate_error(exc, provider=self.name, key_hint=self._key_hint) from exc

        return await self.retry.call(attempt, provider=self.name)

    async def _ensure_n_choices(
        self, request: CompletionRequest, completion: Completion
    ) -> Completion:
        """Sample the missing choices when a server ignored ``n``.

        Some OpenAI-compatible servers (llama.cpp's ``llama-server``, Ollama) accept
        ``n`` but return one choice. Rather than silently giving fewer samples, the rest
        are requested one by one (concurrently), the provider stops asking for native
        ``n``, and a warning says how to avoid the wasted first attempt.
        """
        wanted = request.params.n or 1
        have = len(completion.choices)
        if have == 0:
            raise ResponseFormatError("the server's response has no choices.", provider=self.name)
        if have >= wanted:
            return completion
        if self.capabilities.native_n:
            logger.warning(
                "%s: asked for n=%d but the server returned %d choice(s); sampling the rest "
                "with separate requests from now on. Build the provider with native_n=False "
                "for this server.",
                self.name,
                wanted,
                have,
            )
            self.capabilities = dataclasses.replace(self.capabilities, native_n=False)
        missing = (
            self._generate(request.for_samples(have + i, None)) for i in range(wanted - have)
        )
        return Completion.merge([completion, *await asyncio.gather(*missing)])

    def _cost(self, usage: Usage, *models: str) -> float | None:
        """Dollars for ``usage``: the explicit price, else the first model found in the table."""
        if self.price is not None:
            return self.price.cost(usage)
        for model in models:
            if model:
                cost = cost_usd(self.vendor, model, usage)
                if cost is not None:
                    return cost
        return None

    async def aclose(self) -> None:
        """Close the clients opened on the running loop; forget those of closed loops."""
        loop = asyncio.get_running_loop()
        clients, self._clients = self._clients, {}
        for key, (owner, client) in clients.items():
            if owner is loop:
                await _close(client)
            elif not owner.is_closed():
                self._clients[key] = (owner, client)

    def _fingerprint_settings(self) -> dict[str, Any]:
        """The endpoint (without credentials); never the API key or headers."""
        url = self.base_url
        if url is None:
            return {"base_url": None}
        # Asked once per cell; parsing the URL each time cost more than the rest of the
        # fingerprint. Keyed by the URL, so a changed base_url is seen.
        cached = self._safe_base_url
        if cached is None or cached[0] != url:
            cached = self._safe_base_url = (url, safe_url(url))
        return {"base_url": cached[1]}

    def _describe(self) -> dict[str, Any]:
        """Fields shown by ``repr``; never the API key."""
        return {"model": self.model}

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self._describe().items() if v is not None)
        return f"{type(self).__name__}({fields})"


async def _close(client: Any) -> None:
    close = getattr(client, "close", None) or getattr(client, "aclose", None)
    if close is not None:
        result = close()
        if asyncio.iscoroutine(result):
            await result
