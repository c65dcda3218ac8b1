"""Provider fingerprints: what could change an answer is in them, secrets never are.

The response cache keys on ``provider.fingerprint()`` and run directories record it, so
two providers that can answer differently must differ, two built the same way (in two
processes) must be equal, and no API key, header or secret field may appear.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import Field, SecretStr

from promptlab.providers.anthropic import AnthropicProvider
from promptlab.providers.base import Provider
from promptlab.providers.fingerprints import is_secret_name, public_data, safe_url
from promptlab.providers.llama_cpp import LlamaCppProvider
from promptlab.providers.openai import OpenAIProvider
from promptlab.providers.registry import provider
from promptlab.testing import FakeProvider

SECRET = "sk-fingerprint-SECRET-0123456789"


def dumped(built: Provider) -> str:
    """The fingerprint as the cache and the run directory store it (JSON must work)."""
    return json.dumps(built.fingerprint(), sort_keys=True)


def gguf(folder: Path, content: bytes = b"GGUF fake model") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model.gguf"
    path.write_bytes(content)
    return path


# --- what makes two providers different -------------------------------------------------


def test_two_openai_compatible_urls_differ() -> None:
    a = provider("openai-compatible:qwen@http://10.0.0.5:8000/v1")
    b = provider("openai-compatible:qwen@http://10.0.0.6:8000/v1")
    assert (a.name, a.model) == (b.name, b.model)
    assert a.fingerprint()["base_url"] == "http://10.0.0.5:8000/v1"
    assert a.fingerprint() != b.fingerprint()


def test_two_llama_server_urls_differ() -> None:
    a = provider("llama-server@http://127.0.0.1:8080")
    b = provider("llama-server@http://127.0.0.1:8081")
    assert (a.name, a.model) == (b.name, b.model)
    assert a.fingerprint() != b.fingerprint()


def test_two_gguf_files_with_the_same_name_differ(tmp_path: Path) -> None:
    a = LlamaCppProvider(gguf(tmp_path / "a", b"GGUF model A"))
    b = LlamaCppProvider(gguf(tmp_path / "b", b"GGUF model B"))
    assert a.model == b.model == "model"
    assert a.fingerprint() != b.fingerprint()


def test_the_same_gguf_file_moved_or_reinstalled_is_the_same_model(tmp_path: Path) -> None:
    # A reinstalled venv puts the same file at a new path with a new mtime: same answers.
    a = LlamaCppProvider(gguf(tmp_path / "a"))
    b = LlamaCppProvider(gguf(tmp_path / "b"))
    os.utime(b.model_path, ns=(1, 1))
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint()["model_file"]["name"] == "model.gguf"


def test_the_sampled_hash_sees_a_change_deep_inside_a_large_file(tmp_path: Path) -> None:
    # 4 MiB of zeros vs the same with one block changed at the end (where a sampled block is).
    content = bytearray(4 * 1024 * 1024)
    first = LlamaCppProvider(gguf(tmp_path / "a", bytes(content)))
    content[-10] = 1
    second = LlamaCppProvider(gguf(tmp_path / "b", bytes(content)))
    assert first.fingerprint() != second.fingerprint()


def test_a_gguf_file_replaced_in_place_differs(tmp_path: Path) -> None:
    path = gguf(tmp_path)
    before = LlamaCppProvider(path).fingerprint()
    assert LlamaCppProvider(path).fingerprint() == before  # same file: same identity
    path.write_bytes(b"GGUF another model, same name")
    os.utime(path, ns=(1, 1))
    assert LlamaCppProvider(path).fingerprint() != before


@pytest.mark.parametrize(
    ("setting", "other"),
    [("n_ctx", 4096), ("chat_format", "chatml"), ("prefix_cache", "longest")],
)
def test_llama_cpp_settings_differ(tmp_path: Path, setting: str, other: Any) -> None:
    path = gguf(tmp_path)
    assert (
        LlamaCppProvider(path).fingerprint()
        != LlamaCppProvider(path, **{setting: other}).fingerprint()
    )


def test_llama_cpp_fingerprint_names_the_default_max_tokens(tmp_path: Path) -> None:
    fingerprint = LlamaCppProvider(gguf(tmp_path)).fingerprint()
    assert fingerprint["default_max_tokens"] == 512
    assert fingerprint["n_ctx"] == 2048


def test_anthropic_default_max_tokens_differs() -> None:
    a = AnthropicProvider("claude-haiku-4-5", api_key=SECRET)
    b = AnthropicProvider("claude-haiku-4-5", api_key=SECRET, default_max_tokens=4096)
    assert a.fingerprint()["default_max_tokens"] == 1024
    assert a.fingerprint() != b.fingerprint()


def test_openai_max_tokens_field_differs() -> None:
    a = OpenAIProvider("m", base_url="http://127.0.0.1:8000/v1")
    b = OpenAIProvider(
        "m", base_url="http://127.0.0.1:8000/v1", max_tokens_field="max_completion_tokens"
    )
    assert a.fingerprint() != b.fingerprint()


def test_fake_providers_with_different_scripts_differ() -> None:
    assert FakeProvider(["A"]).fingerprint() != FakeProvider(["B"]).fingerprint()
    assert FakeProvider({"q": "A"}).fingerprint() != FakeProvider({"q": "B"}).fingerprint()
    assert (
        FakeProvider(lambda request: "A").fingerprint()
        != FakeProvider(lambda request: "B").fingerprint()
    )
    assert FakeProvider(["A"]).fingerprint() == FakeProvider(["A"]).fingerprint()


def test_the_class_name_and_model_are_always_there() -> None:
    fingerprint = FakeProvider(model="m").fingerprint()
    assert fingerprint["class"] == "promptlab.providers.fake.FakeProvider"
    assert (fingerprint["name"], fingerprint["model"]) == ("fake", "m")


# --- LangChain ---------------------------------------------------------------------------


def test_langchain_models_with_different_settings_differ() -> None:
    pytest.importorskip("langchain_openai")
    from langchain_openai import ChatOpenAI

    from promptlab.providers.langchain import LangChainProvider

    def wrap(**fields: Any) -> LangChainProvider:
        return LangChainProvider(ChatOpenAI(model="gpt-4o-mini", api_key=SECRET, **fields))

    base = wrap()
    assert base.fingerprint() == wrap().fingerprint()  # stable: no object addresses
    for change in (
        {"temperature": 0.9},
        {"max_tokens": 64},
        {"base_url": "http://127.0.0.1:8000/v1"},
        {"model_kwargs": {"top_k": 5}},
    ):
        assert wrap(**change).fingerprint() != base.fingerprint(), change
    # Settings that cannot change an answer do not split the cache.
    assert wrap(max_retries=0, timeout=5).fingerprint() == base.fingerprint()
    assert base.fingerprint()["chat_model"] == "langchain_openai.chat_models.base.ChatOpenAI"


def test_langchain_anthropic_default_max_tokens_differs() -> None:
    pytest.importorskip("langchain_anthropic")
    from langchain_anthropic import ChatAnthropic

    from promptlab.providers.langchain import LangChainProvider

    a = LangChainProvider(ChatAnthropic(model="claude-haiku-4-5", api_key=SECRET))
    b = LangChainProvider(ChatAnthropic(model="claude-haiku-4-5", api_key=SECRET, max_tokens=99))
    assert a.fingerprint() != b.fingerprint()


# --- secrets -------------------------------------------------------------------------------


def test_no_key_header_or_url_password_in_any_http_fingerprint() -> None:
    built = [
        OpenAIProvider(
            "m",
            api_key=SECRET,
            base_url=f"https://user:{SECRET}@gateway.example.com/v1?api_key={SECRET}&v=2",
            default_headers={"Authorization": f"Bearer {SECRET}", "X-Api-Key": SECRET},
        ),
        OpenAIProvider("gpt-4o-mini", api_key=SECRET),
        AnthropicProvider("claude-haiku-4-5", api_key=SECRET, default_headers={"x": SECRET}),
        provider("llama-server@http://127.0.0.1:8080", api_key=SECRET),
    ]
    for each in built:
        assert SECRET not in dumped(each), type(each).__name__
    assert built[0].fingerprint()["base_url"] == "https://gateway.example.com/v1?v=2"


def test_no_secret_in_a_langchain_fingerprint() -> None:
    pytest.importorskip("langchain_openai")
    pytest.importorskip("langchain_anthropic")
    from langchain_anthropic import ChatAnthropic
    from langchain_core.language_models.fake_chat_models import FakeListChatModel
    from langchain_openai import ChatOpenAI

    from promptlab.providers.langchain import LangChainProvider

    class GatewayChat(FakeListChatModel):
        """A third-party chat model with secrets under names that do not look secret."""

        deployment_pass: SecretStr = SecretStr(SECRET)  # caught by its type
        routing: dict[str, Any] = Field(
            default_factory=lambda: {"region": "eu", "gateway_token": SECRET}
        )
        endpoint: str = f"https://svc:{SECRET}@llm.example.com/v1"

    models = [
        ChatOpenAI(
            model="gpt-4o-mini",
            api_key=SECRET,
            default_headers={"Authorization": f"Bearer {SECRET}"},
            default_query={"key": SECRET},
            model_kwargs={"user": "u1", "extra_headers": {"Authorization": SECRET}},
        ),
        ChatAnthropic(model="claude-haiku-4-5", api_key=SECRET),
        GatewayChat(responses=["x"]),
    ]
    for model in models:
        fingerprint = dumped(LangChainProvider(model))
        assert SECRET not in fingerprint, type(model).__name__
        assert "0x" not in fingerprint  # no object address: equal across processes
    gateway = LangChainProvider(models[2]).fingerprint()["chat_model_fields"]
    assert gateway["routing"] == {"region": "eu"}
    assert gateway["endpoint"] == "https://llm.example.com/v1"
    assert "deployment_pass" not in gateway


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("api_key", True),
        ("openai_api_key", True),
        ("anthropicApiKey", True),
        ("default_headers", True),
        ("azure_ad_token", True),
        ("password", True),
        ("max_tokens", False),
        ("max_completion_tokens", False),
        ("top_k", False),
        ("model_kwargs", False),
        ("temperature", False),
    ],
)
def test_secret_looking_names(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


def test_public_data_drops_secret_values_anywhere() -> None:
    data = public_data({"a": [SecretStr(SECRET), {"token": SECRET, "n": 1}], "b": SecretStr("x")})
    assert SECRET not in json.dumps(data)
    assert data == {"a": ["<secret>", {"n": 1}]}


def test_safe_url_keeps_host_port_path() -> None:
    assert safe_url("http://u:p@[::1]:8080/v1?token=t&x=1") == "http://[::1]:8080/v1?x=1"
    assert safe_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080"
