"""Provider strings for the HTTP backends, as experiment files write them."""

from __future__ import annotations

import pytest

from promptlab.errors import ConfigurationError
from promptlab.providers.anthropic import AnthropicProvider
from promptlab.providers.openai import OpenAIProvider
from promptlab.providers.registry import SCHEMES, provider
from promptlab.testing.stub_server import StubServer
from tests.providers.stub_setup import STUB_KEY, ask


@pytest.fixture(autouse=True)
def keys(monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", STUB_KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", STUB_KEY)


def test_vendor_strings() -> None:
    gpt = provider("openai:gpt-4o-mini", max_retries=1)
    claude = provider("anthropic:claude-haiku-4-5")
    assert isinstance(gpt, OpenAIProvider) and gpt.model == "gpt-4o-mini" and gpt.base_url is None
    assert gpt.retry.max_attempts == 2  # keyword arguments reach the constructor
    assert isinstance(claude, AnthropicProvider) and claude.model == "claude-haiku-4-5"


@pytest.mark.parametrize(
    ("spec", "name", "model", "url", "native_n"),
    [
        ("openai-compatible:qwen2.5@http://10.0.0.5:8000/v1", "openai-compatible", "qwen2.5",
         "http://10.0.0.5:8000/v1", True),
        ("vllm:Qwen/Qwen2.5-7B-Instruct", "vllm", "Qwen/Qwen2.5-7B-Instruct",
         "http://127.0.0.1:8000/v1", True),
        ("vllm:m@https://gpu.example.com/v1", "vllm", "m", "https://gpu.example.com/v1", True),
        ("ollama:llama3.2:3b", "ollama", "llama3.2:3b", "http://127.0.0.1:11434/v1", False),
        ("llama-server", "llama-server", "llama-server", "http://127.0.0.1:8080/v1", False),
        ("llama-server:@http://127.0.0.1:9999/v1", "llama-server", "llama-server",
         "http://127.0.0.1:9999/v1", False),
        # The README's forms of llama-server[:MODEL][@URL]; a URL's ':' is not the scheme's.
        ("llama-server@http://127.0.0.1:8080", "llama-server", "llama-server",
         "http://127.0.0.1:8080", False),
        ("llama-server@https://gpu.example.com:8443/v1", "llama-server", "llama-server",
         "https://gpu.example.com:8443/v1", False),
        ("llama-server:smollm2", "llama-server", "smollm2", "http://127.0.0.1:8080/v1", False),
        ("llama-server:smollm2@http://127.0.0.1:8081/v1", "llama-server", "smollm2",
         "http://127.0.0.1:8081/v1", False),
        ("vllm@http://10.0.0.5:8000/v1", None, None, None, None),
        ("ollama:llama3.2@http://10.0.0.7:11434/v1", "ollama", "llama3.2",
         "http://10.0.0.7:11434/v1", False),
        (" llama-server @http://127.0.0.1:8080", "llama-server", "llama-server",
         "http://127.0.0.1:8080", False),
    ],
)  # fmt: skip
def test_compatible_server_strings(spec, name, model, url, native_n) -> None:
    if name is None:  # vLLM serves many models: the name is required
        with pytest.raises(ConfigurationError, match="needs a model name"):
            provider(spec)
        return
    built = provider(spec)
    assert isinstance(built, OpenAIProvider)
    assert (built.name, built.model, built.base_url) == (name, model, url)
    assert built.capabilities.native_n is native_n
    assert built.capabilities.max_stop is None  # the 4-stop limit is OpenAI's own


def test_anthropic_compatible_string() -> None:
    built = provider("anthropic-compatible:claude-x@http://127.0.0.1:8080")
    assert isinstance(built, AnthropicProvider)
    assert (built.model, built.base_url) == ("claude-x", "http://127.0.0.1:8080")


async def test_a_llama_server_url_string_talks_to_that_server() -> None:
    async with StubServer() as srv:
        built = provider(f"llama-server@{srv.base_url}")
        completion = await built.complete(ask())
        assert srv.stats.total_requests == 1
    assert completion.provider == "llama-server" and completion.text


async def test_a_string_built_provider_talks_to_the_server() -> None:
    async with StubServer() as srv:
        built = provider(f"openai-compatible:stub-model@{srv.base_url}")
        completion = await built.complete(ask(n=2))
        assert srv.stats.total_requests == 1
    assert len(completion.choices) == 2 and completion.provider == "openai-compatible"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("openai-compatible:qwen2.5", "needs a server URL after '@'"),
        ("vllm:qwen@10.0.0.5:8000/v1", "does not start with http"),
        ("llama-server@127.0.0.1:8080", "does not start with http"),
        ("openai:", "needs a model name"),
        ("anthropic:", "needs a model name"),
        ("langchain:ChatOpenAI", "LangChainProvider"),
        ("bedrock:claude", "openai-compatible:"),
    ],
)
def test_bad_strings_explain_what_to_write(spec, message) -> None:
    with pytest.raises(ConfigurationError, match=message):
        provider(spec)


def test_unknown_scheme_lists_every_known_scheme() -> None:
    with pytest.raises(ConfigurationError) as info:
        provider("nope:x")
    for scheme in SCHEMES:
        assert f"{scheme}:" in str(info.value)
    assert {"openai", "anthropic", "openai-compatible", "vllm", "ollama", "llama-server"} <= set(
        SCHEMES
    )
