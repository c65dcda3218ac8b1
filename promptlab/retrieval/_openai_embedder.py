"""Embeddings from an OpenAI-compatible ``/v1/embeddings`` endpoint: :class:`OpenAIEmbedder`.

The same endpoint is served by OpenAI, vLLM, Ollama and llama.cpp's
``llama-server --embeddings``. Calls go through the official ``openai`` SDK
(``embeddings.create``) with promptlab's retry policy and error translation, as
:class:`~promptlab.providers.openai.OpenAIProvider` does; the API key is held as a
:class:`pydantic.SecretStr` and never appears in a repr, an error or a fingerprint.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Sequence
from typing import Any

from pydantic import SecretStr

from promptlab.errors import ConfigurationError, MissingDependencyError
from promptlab.providers.error_mapping import translate_error
from promptlab.providers.fingerprints import safe_url
from promptlab.providers.openai import OPENAI_KEY_ENV, OpenAIProvider
from promptlab.providers.remote import PLACEHOLDER_KEY
from promptlab.providers.retry import RetryPolicy
from promptlab.providers.vendor_api import endpoint_key
from promptlab.retrieval._embedder import Embedder


class OpenAIEmbedder(Embedder):
    """Embeddings from OpenAI's API, or any server that speaks it (``base_url``).

    Args:
        model: The embedding model, e.g. ``"text-embedding-3-small"``.
        base_url: A compatible server, e.g. ``"http://127.0.0.1:8080/v1"`` for
            ``llama-server --embeddings``.
        api_key: The key. As for :class:`~promptlab.providers.openai.OpenAIProvider`:
            ``$OPENAI_API_KEY`` is read for the official API only (a missing key is an
            error at construction); another ``base_url`` gets ``api_key``, ``api_key_env``,
            or a placeholder that local servers ignore.
        api_key_env: Environment variable to read the key from.
        dimensions: Sent as the API's ``dimensions`` (OpenAI's text-embedding-3 models
            shorten their vectors to it), and checked on every vector that comes back.
        batch_size: Texts per request (OpenAI accepts up to 2048).
        timeout: Seconds per attempt.
        max_retries: Retries after the first attempt (default 3).
        retry: A full :class:`~promptlab.providers.retry.RetryPolicy` instead.
        default_headers: Extra HTTP headers for every request.

    Example:
        >>> local = OpenAIEmbedder("nomic-embed", base_url="http://127.0.0.1:8080/v1")
        >>> retriever = EmbeddingRetriever("docs/", local)
    """

    def __init__(
        self,
        model: str = "text-embedding-3-small",
        *,
        base_url: str | None = None,
        api_key: str | SecretStr | None = None,
        api_key_env: str | None = None,
        dimensions: int | None = None,
        batch_size: int = 128,
        timeout: float | None = 60.0,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        default_headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(batch_size=batch_size, dimensions=dimensions)
        if not model or not isinstance(model, str):
            raise ConfigurationError(
                f"model={model!r} is not allowed: give the embedding model's name, e.g. "
                "'text-embedding-3-small'."
            )
        if retry is not None and max_retries is not None:
            raise ConfigurationError(
                f"Both max_retries={max_retries!r} and retry={retry!r} were given: pass one."
            )
        official = OpenAIProvider.is_official(base_url)
        self.model = model
        self.base_url = base_url
        self.name = f"{'openai' if official else 'openai-compatible'}:{model}"
        self.timeout = timeout
        self.retry = retry or RetryPolicy.from_max_retries(
            3 if max_retries is None else max_retries
        )
        self.default_headers = default_headers
        self._api_key, self._key_hint = endpoint_key(
            api_key, api_key_env, OPENAI_KEY_ENV, official=official, provider=self.name
        )
        self._clients: dict[int, tuple[asyncio.AbstractEventLoop, Any]] = {}

    async def _embed_batch(self, texts: list[str], *, query: bool) -> Sequence[Sequence[float]]:
        client = self._client()
        extra: dict[str, Any] = {} if self.dimensions is None else {"dimensions": self.dimensions}

        async def attempt() -> Any:
            try:
                return await client.embeddings.create(
                    model=self.model, input=texts, encoding_format="float", **extra
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                raise translate_error(exc, provider=self.name, key_hint=self._key_hint) from exc

        response = await self.retry.call(attempt, provider=self.name)
        data = sorted(response.data or [], key=lambda item: item.index)
        return [item.embedding for item in data]

    def _client(self) -> Any:
        # HTTP connection pools belong to the event loop that opened them: one client per loop.
        loop = asyncio.get_running_loop()
        entry = self._clients.get(id(loop))
        if entry is None or entry[0] is not loop:
            try:
                openai = importlib.import_module("openai")
            except ImportError:
                raise MissingDependencyError("openai", "openai", "OpenAIEmbedder") from None
            key = self._api_key.get_secret_value() if self._api_key else PLACEHOLDER_KEY
            client = openai.AsyncOpenAI(
                api_key=key,
                base_url=self.base_url,
                timeout=self.timeout,
                max_retries=0,  # promptlab's RetryPolicy is the only retry loop
                default_headers=self.default_headers,
            )
            self._clients = {k: v for k, v in self._clients.items() if not v[0].is_closed()}
            entry = (loop, client)
            self._clients[id(loop)] = entry
        return entry[1]

    def fingerprint(self) -> dict[str, Any]:
        """Class, model, endpoint (without credentials) and dimensions; never the key."""
        return {
            **super().fingerprint(),
            "model": self.model,
            "base_url": safe_url(self.base_url) if self.base_url else None,
        }

    def __repr__(self) -> str:
        return f"OpenAIEmbedder(model={self.model!r}, base_url={self.base_url!r})"
