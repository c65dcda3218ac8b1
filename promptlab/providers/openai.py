"""OpenAI's Chat Completions API, and any server that speaks it (vLLM, llama.cpp, Ollama).

Built on the official ``openai`` SDK (``AsyncOpenAI``). Parameter mapping:

=================== ==================================================================
promptlab           Chat Completions
=================== ==================================================================
temperature, top_p  same names (rejected for reasoning models on the official API)
stop                ``stop``; at most 4 on the official API, more is a clear error
frequency_penalty,  same names (rejected for reasoning models on the official API)
presence_penalty
max_tokens          ``max_completion_tokens`` on the official API and for reasoning
                    models (o1, o3, o4 families, gpt-5 and later); ``max_tokens`` for other
                    servers, which may not know the newer name
seed                ``seed``
n                   ``n``: one request returns every sample. ``native_n=False`` for
                    servers without it (n concurrent requests); a server that returns
                    fewer choices than asked gets the rest requested one by one
logprobs,           ``logprobs`` / ``top_logprobs`` -> ``Choice.logprobs``
top_logprobs
=================== ==================================================================

Cached prompt tokens come from ``usage.prompt_tokens_details.cached_tokens``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from promptlab.completion import Choice, Completion, CompletionRequest, TokenLogprob, Usage
from promptlab.errors import (
    BadRequestError,
    ConfigurationError,
    ResponseFormatError,
    UnsupportedParameterError,
)
from promptlab.likelihood import (
    SCORING_BACKENDS,
    PromptLogprobs,
    ScoredText,
    check_rolling,
    scoring_parts,
    split_trailing_space,
)
from promptlab.messages import Message
from promptlab.params import GenerationParams
from promptlab.providers.base import Capabilities
from promptlab.providers.openai_likelihood import (
    Pieces,
    continuation_logprobs,
    echo_body,
    echoed_pieces,
    prompt_logprobs_body,
    vllm_pieces,
)
from promptlab.providers.vendor_api import EndpointOptions, VendorAPIProvider

if TYPE_CHECKING:
    from typing_extensions import Unpack

OPENAI_KEY_ENV = "OPENAI_API_KEY"

MaxTokensField = Literal["max_tokens", "max_completion_tokens"]

# Reasoning models: o1, o3, o4-mini..., and gpt-5 onwards (gpt-5.4, gpt-6-...), but not
# the "-chat" variants, which are plain chat models.
_REASONING = re.compile(r"^(o\d|gpt-[5-9])(?!.*-chat)")


def is_reasoning_model(model: str) -> bool:
    """True for OpenAI reasoning models (o1/o3/o4, gpt-5 and later; not ``*-chat*``)."""
    return bool(_REASONING.match(model))


def openai_capabilities(model: str, *, official: bool, native_n: bool = True) -> Capabilities:
    """What an OpenAI-style endpoint honours for ``model``.

    On the official API, reasoning models accept only the default sampling settings, so
    temperature, top_p, penalties and logprobs are marked unsupported (a clear error
    before sending, or dropped with ``on_unsupported="drop"``). Compatible servers get
    everything, with no limit on stop sequences.
    """
    sampling = not (official and is_reasoning_model(model))
    return Capabilities(
        native_n=native_n,
        logprobs=sampling,
        max_top_logprobs=20,
        penalties=sampling,
        seed=True,
        temperature=sampling,
        top_p=sampling,
        max_stop=4 if official else None,
    )


class OpenAIProvider(VendorAPIProvider):
    """OpenAI's Chat Completions API, or an OpenAI-compatible server given by ``base_url``.

    Args:
        model: Model name, e.g. ``"gpt-4o-mini"``.
        api_key: The API key. Default: ``$OPENAI_API_KEY`` for the official API (a
            missing key raises :class:`~promptlab.errors.MissingAPIKeyError`
            at construction). For another ``base_url``, ``$OPENAI_API_KEY`` is *not*
            read, so your OpenAI key is never sent to a third-party server: pass
            ``api_key``, or ``api_key_env``; without either a placeholder key is sent,
            which local servers (llama.cpp, vLLM, Ollama) ignore.
        base_url: A compatible server, e.g. ``"http://127.0.0.1:8080/v1"``.
        api_key_env: Environment variable to read the key from.
        timeout: Seconds per attempt.
        max_retries: Retries after the first attempt (default 3); the SDK's own retries
            are turned off so attempts are not doubled.
        retry: A full :class:`~promptlab.providers.retry.RetryPolicy` instead.
        requests_per_minute: Client-side request limit, shared by all calls.
        tokens_per_minute: Client-side token limit (estimated before sending).
        rate_limiter: A limiter shared with other providers.
        max_tokens_field: Force ``"max_tokens"`` or ``"max_completion_tokens"``.
        native_n: Whether the server returns ``n`` choices in one request (True for
            OpenAI and vLLM). Use False for llama.cpp's server: it allows ``n`` only up
            to its ``--parallel`` slot count and its usage counts one choice (older
            versions return a single choice). A server that returns fewer choices than
            asked gets the rest requested separately, with a warning, and the provider
            stops sending ``n``.
        price: Price per million tokens. Default: the pricing table for the official
            API, 0 for a server on loopback, unknown (None) for other servers.
        capabilities: Override the supported-parameter flags entirely.
        name: Provider name in results and errors; ``"openai"`` or
            ``"openai-compatible"`` by default.
        default_headers: Extra HTTP headers for every request.
        on_unsupported: ``"error"`` (default) or ``"drop"`` for unsupported parameters.

    Example:
        >>> gpt = OpenAIProvider("gpt-4o-mini", requests_per_minute=500)
        >>> local = OpenAIProvider("smollm2", base_url="http://127.0.0.1:8080/v1",
        ...                        native_n=False)
        >>> ZeroShot().run({"question": "2+2?"}, gpt).answer
    """

    vendor = "openai"
    domain = "openai.com"
    key_env = OPENAI_KEY_ENV
    example_model = "gpt-4o-mini"

    def __init__(
        self,
        model: str,
        *,
        max_tokens_field: MaxTokensField | None = None,
        native_n: bool = True,
        capabilities: Capabilities | None = None,
        **options: Unpack[EndpointOptions],
    ) -> None:
        self.check_model(model)
        if max_tokens_field not in (None, "max_tokens", "max_completion_tokens"):
            raise ConfigurationError(
                f"max_tokens_field={max_tokens_field!r} is not allowed: use 'max_tokens', "
                "'max_completion_tokens', or None to choose by model."
            )
        official = self.is_official(options.get("base_url"))
        super().__init__(
            model,
            capabilities=capabilities
            or openai_capabilities(model, official=official, native_n=native_n),
            **options,
        )
        self.max_tokens_field: MaxTokensField = max_tokens_field or (
            "max_completion_tokens" if official or is_reasoning_model(model) else "max_tokens"
        )

    def _make_client(self) -> Any:
        return self._sdk_client("openai", "AsyncOpenAI")

    def request_body(self, request: CompletionRequest) -> dict[str, Any]:
        """The keyword arguments sent to ``chat.completions.create`` for ``request``."""
        params = request.params
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [m.to_dict() for m in request.messages],
        }
        for field in ("temperature", "top_p", "frequency_penalty", "presence_penalty", "seed"):
            value = getattr(params, field)
            if value is not None:
                body[field] = value
        if params.stop:
            body["stop"] = list(params.stop)
        if params.max_tokens is not None:
            body[self.max_tokens_field] = params.max_tokens
        if params.n is not None and params.n > 1:
            body["n"] = params.n
        if params.logprobs is not None:
            body["logprobs"] = params.logprobs
        if params.top_logprobs is not None:
            body["logprobs"] = True
            body["top_logprobs"] = params.top_logprobs
        return body

    async def _generate(self, request: CompletionRequest) -> Completion:
        body = self.request_body(request)
        response = await self._send(request, partial(self._post_chat, body))
        return await self._ensure_n_choices(request, self._completion(response))

    async def _post_chat(self, body: dict[str, Any]) -> Any:
        """POST ``body`` to ``/chat/completions``; the reply's JSON, as plain data.

        Through the SDK client's ``post`` (its documented way to make a request with a
        body you built): the same client, key, headers, timeout and error classes as
        ``chat.completions.create``, without the two steps that cost more CPU than the
        rest of a call: re-walking the body against the SDK's parameter types (it is
        built by :meth:`request_body` already) and building the SDK's response models,
        which :meth:`_completion` would only read back into a :class:`Completion`.
        """
        content = await self._client().post("/chat/completions", body=body, cast_to=bytes)
        return json.loads(content)  # malformed JSON: ResponseFormatError, retried

    async def prompt_logprobs(
        self,
        text: ScoredText,
        *,
        rolling: bool = False,
        context_size: int | None = None,
        stride: int | None = None,
    ) -> PromptLogprobs:
        """Score a given text through the server's ``/v1/completions`` endpoint (echo).

        Works on servers that echo the prompt with logprobs (vLLM); see
        :mod:`promptlab.providers.openai_likelihood`. The first token of a text without
        context gets no log-probability from these servers (unless the server prepends
        a BOS token); it is counted in ``PerplexityResult.unscored_tokens``.

        Raises:
            UnsupportedParameterError: OpenAI's own API (chat models return no prompt
                logprobs); a server that refuses ``echo`` (llama.cpp's llama-server) or
                returns no prompt logprobs; chat messages as context (a completions
                endpoint does not apply the chat template: format the prompt yourself);
                ``rolling`` (windows need the model's tokenizer, which is not exposed).
        """
        context, continuation = scoring_parts(text)
        check_rolling(rolling, context_size, stride)
        if self.official:
            raise UnsupportedParameterError(
                self.name,
                "prompt_logprobs",
                "OpenAI's chat models return log-probabilities only for the tokens they "
                "sample, never for a given text",
                fix=SCORING_BACKENDS,
            )
        if not isinstance(context, str):
            raise UnsupportedParameterError(
                self.name,
                "prompt_logprobs",
                "with chat messages as the context: a /v1/completions endpoint does not "
                "apply the model's chat template",
                fix="Give the context as the formatted prompt string.",
            )
        if rolling:
            raise UnsupportedParameterError(
                self.name,
                "rolling",
                "rolling windows need the model's tokenizer, which an OpenAI-compatible "
                "endpoint does not expose",
                fix="Split the text into parts that fit the context yourself, or score it "
                "with LlamaCppProvider.",
            )
        if context:
            context, continuation = split_trailing_space(context, continuation)
        prompt = context + continuation
        pieces = await self._prompt_pieces(prompt)
        return continuation_logprobs(pieces, prompt, len(context), self.name)

    async def _text_completion(self, body: dict[str, Any]) -> Any:
        return await self._client().completions.create(**body)

    async def _prompt_pieces(self, prompt: str) -> Pieces:
        """Every prompt token with its offset and logprob: from ``echo``, else from vLLM's
        ``prompt_logprobs`` (asked for only when the echo answer had none)."""
        estimate = CompletionRequest((Message("user", prompt),), GenerationParams(max_tokens=1))
        refused: BadRequestError | None = None
        for body, read in (
            (echo_body(self.model, prompt), echoed_pieces),
            (prompt_logprobs_body(self.model, prompt), vllm_pieces),
        ):
            try:
                response = await self._send(estimate, partial(self._text_completion, body))
            except BadRequestError as exc:
                if "echo" not in str(exc).lower() and "prompt_logprobs" not in str(exc).lower():
                    raise
                refused = exc
                continue
            choices = getattr(response, "choices", None) or [None]
            pieces = read(choices[0], prompt, self.name)
            if pieces is not None:
                return pieces
        reason = (
            f"the server refused the request ({refused})"
            if refused is not None
            else "the server answered without log-probabilities of the prompt (it ignored "
            "echo and prompt_logprobs, as llama.cpp's llama-server does)"
        )
        raise UnsupportedParameterError(
            self.name,
            "prompt_logprobs",
            f"{reason}, so it cannot score a given text",
            fix="For a llama.cpp model, load the same GGUF file with LlamaCppProvider. "
            + SCORING_BACKENDS,
        )

    def _completion(self, response: Any) -> Completion:
        """The :class:`Completion` in a Chat Completions response.

        Args:
            response: The response's JSON (a mapping), or the SDK's ``ChatCompletion``.

        Raises:
            ResponseFormatError: The response does not have the Chat Completions shape.
        """
        data = response if isinstance(response, Mapping) else _plain(response)
        try:
            choices = tuple(
                sorted((_choice(c) for c in data.get("choices") or ()), key=lambda c: c.index)
            )
            raw_usage = data.get("usage")
            usage = _usage(raw_usage)
            model = data.get("model") or self.model
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ResponseFormatError(
                f"the server's response does not have the Chat Completions shape ({exc!r}).",
                provider=self.name,
            ) from exc
        # Without usage a priced model's cost is unknown; a local one is still free.
        known = raw_usage is not None or (self.vendor == "local" and self.price is None)
        cost = self._cost(usage, self.model, model) if known else None
        return Completion(choices, usage, model=model, provider=self.name, cost_usd=cost)

    def _fingerprint_settings(self) -> dict[str, Any]:
        # The endpoint, and which field carries max_tokens (servers that know only one of
        # them ignore the other, so the answer's length can differ).
        return {**super()._fingerprint_settings(), "max_tokens_field": self.max_tokens_field}


def _plain(response: Any) -> Any:
    """An SDK response object as the JSON data it was read from."""
    dump = getattr(response, "model_dump", None)
    return dump() if dump is not None else response


def _choice(raw: Mapping[str, Any]) -> Choice:
    logprobs = None
    content = (raw.get("logprobs") or {}).get("content")
    if content is not None:
        logprobs = tuple(
            TokenLogprob(
                item["token"],
                float(item["logprob"]),
                tuple(
                    (top["token"], float(top["logprob"])) for top in item.get("top_logprobs") or ()
                ),
            )
            for item in content
        )
    text = (raw.get("message") or {}).get("content")
    return Choice(text or "", raw.get("finish_reason"), logprobs, raw.get("index") or 0)


def _usage(raw: Mapping[str, Any] | None) -> Usage:
    if raw is None:
        return Usage()
    details = raw.get("prompt_tokens_details") or {}
    return Usage(
        input_tokens=raw.get("prompt_tokens") or 0,
        output_tokens=raw.get("completion_tokens") or 0,
        cached_input_tokens=details.get("cached_tokens") or 0,
    )
