"""Reading experiment-file specs: the key-path error and typed reads shared by the spec parsers.

Every parser (strategies, retrievers, scorers) reports a problem as a :class:`SpecError`
that carries the key path (``arms.rag.retriever.corpus``);
:mod:`promptlab.experiments.config` adds the file name and line to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from promptlab._checks import is_int, is_number
from promptlab.errors import ConfigurationError

Path_ = tuple[str | int, ...]


class SpecError(ConfigurationError):
    """A problem at one key path of an experiment file.

    Attributes:
        path: The keys leading to the problem, e.g. ``("arms", "cot", "params", "n")``.
        detail: What is wrong and what was expected.
    """

    def __init__(self, path: Path_, detail: str) -> None:
        self.path = path
        self.detail = detail
        super().__init__(f"{format_path(path)}: {detail}")


def format_path(path: Path_) -> str:
    """``arms.cot.params.temperature`` / ``scorers[0]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(top level)"


def expect_mapping(value: Any, path: Path_, expected: str) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else a :class:`SpecError` saying what was expected."""
    if not isinstance(value, Mapping):
        raise SpecError(path, f"expected {expected}, got {shown(value)}.")
    return value


def check_keys(
    mapping: Mapping[str, Any],
    allowed: frozenset[str] | set[str],
    required: tuple[str, ...],
    path: Path_,
    context: str,
) -> None:
    """Reject unknown keys and report missing required ones."""
    for key in mapping:
        if key not in allowed:
            raise SpecError(
                (*path, str(key)),
                f"unknown key for {context}; allowed keys: {', '.join(sorted(allowed))}.",
            )
    for key in required:
        if key not in mapping:
            raise SpecError((*path, key), f"missing required key for {context}.")


class SpecReader:
    """Typed reads of optional keys, with errors that name the key path."""

    def __init__(self, mapping: Mapping[str, Any], path: Path_) -> None:
        self.mapping, self.path = mapping, path

    def integer(self, key: str, minimum: int | None, default: int | None) -> Any:
        value = self.mapping.get(key, default)
        if value is None:
            return default
        if not is_int(value):
            raise SpecError((*self.path, key), f"expected an integer, got {shown(value)}.")
        if minimum is not None and value < minimum:
            raise SpecError((*self.path, key), f"expected an integer >= {minimum}, got {value}.")
        return value

    def number(self, key: str, minimum: float, default: float) -> float:
        value = self.mapping.get(key, default)
        if not is_number(value) or value < minimum:
            raise SpecError((*self.path, key), f"expected a number >= {minimum}, got {value!r}.")
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.mapping.get(key, default)
        if not isinstance(value, bool):
            raise SpecError((*self.path, key), f"expected true or false, got {shown(value)}.")
        return value

    def string(self, key: str) -> str | None:
        value = self.mapping.get(key)
        if value is not None and not isinstance(value, str):
            raise SpecError((*self.path, key), f"expected a string, got {shown(value)}.")
        return value

    def choice(self, key: str, options: tuple[str, ...], default: str) -> str:
        value = self.mapping.get(key, default)
        if value not in options:
            raise SpecError(
                (*self.path, key), f"expected one of {', '.join(options)}, got {value!r}."
            )
        return str(value)


def shown(value: Any) -> str:
    """A value and its type, for error messages: ``'x' (str)``."""
    return f"{value!r} ({type(value).__name__})"
