"""JSON-ready descriptions of settings: what :meth:`Strategy.describe` and fingerprints hold.

A strategy describes its extractor, stopping rule, vote and example selector with
:func:`settings_of`, and the experiment layer describes its scorers with it too, so a run
directory's definition fingerprint (:mod:`promptlab.experiments.store`) names every setting
the same way. The output is stable across processes: no object ids, no memory addresses.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import math
import re
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from promptlab.params import GenerationParams
from promptlab.providers.base import Provider
from promptlab.templating import PromptTemplate

__all__ = ["settings_of"]

_MAX_DEPTH = 6


def settings_of(value: Any, _depth: int = 0) -> Any:
    """A JSON-ready description of an object's settings, for fingerprints.

    Plain data is kept; providers give their fingerprint, templates their name and hash,
    generation parameters those set, functions their qualified name and a hash of their
    source. Other objects give their type and their attributes, private ones included,
    except a lazily built ``_x`` kept beside the ``_x_spec`` it is built from (the spec
    identifies it).
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, Provider):
        return value.fingerprint()
    if isinstance(value, PromptTemplate):
        return {"template": value.name, "hash": value.hash}
    if isinstance(value, GenerationParams):
        return value.given_values()
    if isinstance(value, re.Pattern):
        return {"pattern": value.pattern, "flags": int(value.flags)}
    if isinstance(value, Path):
        return str(value)
    if _depth >= _MAX_DEPTH:
        return _type_name(value)
    if isinstance(value, Mapping):
        return {str(k): settings_of(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [settings_of(v, _depth + 1) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((settings_of(v, _depth + 1) for v in value), key=repr)
    if isinstance(value, (types.FunctionType, types.MethodType, types.BuiltinFunctionType)):
        return _callable_identity(value)
    if isinstance(value, functools.partial):
        return {
            "partial": _callable_identity(value.func),
            "args": settings_of(list(value.args), _depth + 1),
            "keywords": settings_of(dict(value.keywords), _depth + 1),
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        attributes = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    else:
        attributes = dict(getattr(value, "__dict__", {}))
    described: dict[str, Any] = {"type": _type_name(value)}
    for name, item in sorted(attributes.items()):
        if name.startswith("_") and f"{name}_spec" in attributes:
            continue
        described[name] = settings_of(item, _depth + 1)
    return described


def _type_name(value: Any) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"


def _callable_identity(function: Any) -> dict[str, Any]:
    name = f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', '?')}"
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        return {"function": name}
    return {"function": name, "source_hash": hashlib.sha256(source.encode()).hexdigest()[:16]}
