"""Build a provider from a string: ``"local"``, ``"openai:gpt-4o-mini"``, ...

Experiment files name providers this way. Each scheme maps to a small factory; vendor
modules are imported only when their scheme is used.

====================================== ==============================================
string                                 provider
====================================== ==============================================
``local``                              the bundled SmolLM2, in-process (llama.cpp)
``local:/path/model.gguf``             any GGUF file, in-process
``openai:MODEL``                       OpenAI (key in ``$OPENAI_API_KEY``)
``anthropic:MODEL``                    Anthropic (key in ``$ANTHROPIC_API_KEY``)
``openai-compatible:MODEL@URL``        any OpenAI-compatible server, e.g.
                                       ``openai-compatible:qwen2.5@http://10.0.0.5:8000/v1``
``anthropic-compatible:MODEL@URL``     a server speaking the Anthropic Messages API
``vllm:MODEL[@URL]``                   vLLM; URL defaults to ``http://127.0.0.1:8000/v1``
``ollama:MODEL[@URL]``                 Ollama; ``http://127.0.0.1:11434/v1``; n is sent
                                       as n separate requests
``llama-server[:MODEL][@URL]``         llama.cpp's server; ``http://127.0.0.1:8080/v1``;
                                       n as n separate requests (its own n is capped
                                       by its slots and its usage counts one choice);
                                       ``llama-server@http://127.0.0.1:8081`` names
                                       only the URL
``fake:TEXT``                          :class:`~promptlab.testing.FakeProvider`
====================================== ==============================================

The scheme ends at the first ``:`` or ``@``, so a URL's own colons (``http://``, a port)
are never mistaken for the scheme separator. The URL after ``@`` must start with
``http://`` or ``https://``; it is used as given.

A LangChain chat model has no string form, because it is an object built in Python:
wrap it with ``LangChainProvider(ChatOpenAI(...))`` and pass the provider itself.
Keyword arguments given to :func:`provider` go to the provider's constructor.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from promptlab.errors import ConfigurationError
from promptlab.providers.base import Provider


def _local(rest: str, **kwargs: Any) -> Provider:
    from promptlab.providers.llama_cpp import LlamaCppProvider

    return LlamaCppProvider(rest or None, **kwargs)


def _fake(rest: str, **kwargs: Any) -> Provider:
    from promptlab.providers.fake import FakeProvider

    if rest:
        kwargs.setdefault("script", [rest])
        kwargs.setdefault("cycle", True)
    return FakeProvider(**kwargs)


_MODEL_AT_URL = re.compile(r"^(?P<model>.*?)@(?P<url>https?://\S+)$", re.IGNORECASE)
# The scheme, then ":" (model, path...), "@" (a URL) or the end of the string.
_SCHEME = re.compile(r"^\s*(?P<scheme>[A-Za-z][\w.+-]*?)\s*(?P<sep>[:@]|$)")


def _model_and_url(scheme: str, rest: str, default_url: str | None) -> tuple[str, str]:
    match = _MODEL_AT_URL.match(rest)
    if match:
        return match["model"], match["url"]
    if "@" in rest:
        url = rest.rpartition("@")[2]
        raise ConfigurationError(
            f"Provider {scheme + ':' + rest!r}: the server URL after '@' is {url!r}, which "
            "does not start with http:// or https://. Write it in full, e.g. "
            f'"{scheme}:MODEL@http://127.0.0.1:8000/v1".'
        )
    if default_url is None:
        raise ConfigurationError(
            f"Provider {scheme + ':' + rest!r} needs a server URL after '@': write "
            f'"{scheme}:MODEL@http://HOST:PORT/v1", e.g. '
            f'"{scheme}:qwen2.5-7b@http://127.0.0.1:8000/v1".'
        )
    return rest, default_url


def _need_model(scheme: str, model: str, example: str) -> str:
    if not model:
        raise ConfigurationError(
            f"Provider string {scheme + ':'!r} needs a model name after the colon, "
            f'e.g. "{scheme}:{example}".'
        )
    return model


def _openai(rest: str, **kwargs: Any) -> Provider:
    from promptlab.providers.openai import OpenAIProvider

    return OpenAIProvider(_need_model("openai", rest, "gpt-4o-mini"), **kwargs)


def _anthropic(rest: str, **kwargs: Any) -> Provider:
    from promptlab.providers.anthropic import AnthropicProvider

    return AnthropicProvider(_need_model("anthropic", rest, "claude-haiku-4-5"), **kwargs)


def _compatible_server(
    scheme: str, default_url: str | None, example: str, native_n: bool = True
) -> Callable[..., Provider]:
    def build(rest: str, **kwargs: Any) -> Provider:
        from promptlab.providers.openai import OpenAIProvider

        model, url = _model_and_url(scheme, rest, default_url)
        if scheme == "llama-server":
            model = model or "llama-server"  # it serves one model and ignores the name
        kwargs.setdefault("native_n", native_n)
        if scheme != "openai-compatible":
            kwargs.setdefault("name", scheme)
        return OpenAIProvider(_need_model(scheme, model, example), base_url=url, **kwargs)

    return build


def _anthropic_compatible(rest: str, **kwargs: Any) -> Provider:
    from promptlab.providers.anthropic import AnthropicProvider

    model, url = _model_and_url("anthropic-compatible", rest, None)
    model = _need_model("anthropic-compatible", model, "claude-haiku-4-5@http://127.0.0.1:8080")
    return AnthropicProvider(model, base_url=url, **kwargs)


#: Scheme -> factory(rest_of_string, **kwargs).
SCHEMES: dict[str, Callable[..., Provider]] = {
    "local": _local,
    "fake": _fake,
    "openai": _openai,
    "anthropic": _anthropic,
    "openai-compatible": _compatible_server(
        "openai-compatible", None, "MODEL@http://127.0.0.1:8000/v1"
    ),
    "anthropic-compatible": _anthropic_compatible,
    "vllm": _compatible_server("vllm", "http://127.0.0.1:8000/v1", "Qwen/Qwen2.5-7B-Instruct"),
    "ollama": _compatible_server("ollama", "http://127.0.0.1:11434/v1", "llama3.2", False),
    "llama-server": _compatible_server("llama-server", "http://127.0.0.1:8080/v1", "", False),
}


def provider(spec: str | Provider, **kwargs: Any) -> Provider:
    """Build a provider from a spec string, or return a provider unchanged.

    Args:
        spec: ``"SCHEME"`` or ``"SCHEME:REST"``, e.g. ``"local"`` (the bundled model),
            ``"local:/models/phi.gguf"``, ``"openai:gpt-4o-mini"``,
            ``"openai-compatible:MODEL@http://127.0.0.1:8000/v1"`` (table above).
        **kwargs: Passed to the provider's constructor.

    Raises:
        ConfigurationError: The scheme is unknown; the message lists the known ones.
    """
    if isinstance(spec, Provider):
        return spec
    scheme, rest = _split_scheme(spec)
    factory = SCHEMES.get(scheme.lower())
    if factory is None:
        known = ", ".join(f"{name}:" for name in sorted(SCHEMES))
        raise ConfigurationError(
            f"Unknown provider {spec!r}: the scheme {scheme!r} is not one of {known}. "
            'Examples: "local", "local:/path/model.gguf", "openai:gpt-4o-mini", '
            '"anthropic:claude-haiku-4-5", "openai-compatible:MODEL@http://127.0.0.1:8000/v1". '
            "A LangChain model has no string form: pass LangChainProvider(model) instead."
        )
    return factory(rest.strip(), **kwargs)


def _split_scheme(spec: str) -> tuple[str, str]:
    """``"SCHEME:REST"`` -> (SCHEME, REST); ``"SCHEME@URL"`` -> (SCHEME, "@URL")."""
    match = _SCHEME.match(spec)
    if match is None:
        return spec.strip(), ""
    rest = spec[match.end() :]
    return match["scheme"], "@" + rest if match["sep"] == "@" else rest
