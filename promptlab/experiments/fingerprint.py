"""The definition fingerprint: what a run directory's cells were produced by.

A run directory records, in ``experiment.json`` under ``"fingerprint"``, everything that
changes what a cell holds: each arm (strategy, template hash, parameters, extractor and
its settings...), each provider's :meth:`~promptlab.providers.base.Provider.fingerprint`,
each task's content hash, every scorer with its settings, ``repeats`` and ``seed``.
Resuming compares the stored fingerprint with the experiment's:

* an arm, provider or task **of the same name defined differently**, or another seed,
  is a :class:`~promptlab.errors.ConfigurationError` naming old and new values;
* a change **only in scorers** means a rescore of the stored outputs;
* arms, providers and tasks added are simply run; those removed, and repeats beyond
  ``repeats``, stay on disk but are left out of :class:`~promptlab.experiments.run.Run`.
  Their fingerprints are kept as ``retired`` so re-adding one defined differently is
  still caught.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import json
import math
import re
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptlab.params import GenerationParams
from promptlab.providers.base import Provider
from promptlab.templating import PromptTemplate

if TYPE_CHECKING:
    from promptlab.experiments.definition import Experiment

#: Bumped when the fingerprint's layout changes; another format is never compared.
FORMAT = 1
#: The sections whose entries are compared name by name.
NAMED_SECTIONS = ("arms", "providers", "tasks")
_LABELS = {"arms": "arm", "providers": "provider", "tasks": "task"}
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
        return {k: v for k, v in sorted(value.set_fields().items()) if v is not None}
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


def task_hash(task: Any) -> str:
    """A short hash of one task's inputs and expected answer."""
    row = [task.inputs, task.expected]
    return hashlib.sha256(json.dumps(row, sort_keys=True, default=str).encode()).hexdigest()[:16]


def definition_fingerprint(experiment: Experiment) -> dict[str, Any]:
    """The fingerprint of an experiment's definition (see the module docstring)."""
    described = experiment.describe()
    return _normal(
        {
            "format": FORMAT,
            "arms": described["arms"],
            "providers": {name: p.fingerprint() for name, p in experiment.providers.items()},
            "tasks": {task.id: task_hash(task) for task in experiment.tasks},
            "scorers": {s.name: settings_of(s) for s in experiment.scorers},
            "repeats": experiment.repeats,
            "seed": experiment.seed,
        }
    )


def _normal(data: Any) -> Any:
    """The value as it reads back from JSON, so stored and fresh fingerprints compare."""
    return json.loads(json.dumps(data, sort_keys=True, default=str))


@dataclass
class DefinitionChanges:
    """How an experiment's fingerprint differs from the one stored in a run directory.

    Attributes:
        conflicts: Human-readable lines for each arm, provider or task of the same name
            defined differently, and a changed seed; any conflict forbids resuming.
        scorers_changed: Names of scorers added or defined differently (to re-score).
        scorers_removed: Names of scorers no longer in the experiment.
    """

    conflicts: list[str] = field(default_factory=list)
    scorers_changed: list[str] = field(default_factory=list)
    scorers_removed: list[str] = field(default_factory=list)

    @property
    def rescore(self) -> bool:
        """True when only scorers changed, so stored outputs are scored again."""
        return not self.conflicts and bool(self.scorers_changed or self.scorers_removed)


def compare(stored: Mapping[str, Any], current: Mapping[str, Any]) -> DefinitionChanges:
    """Compare a stored fingerprint with the current one (both as from JSON)."""
    changes = DefinitionChanges()
    retired = stored.get("retired") or {}
    for section in NAMED_SECTIONS:
        old = {**(retired.get(section) or {}), **(stored.get(section) or {})}
        new = current.get(section) or {}
        differing = [n for n in new if n in old and old[n] != new[n]]
        for name in differing[:3]:
            detail = "; ".join(differences(old[name], new[name])[:3])
            changes.conflicts.append(
                f"{_LABELS[section]} {name!r} is defined differently: {detail}"
            )
        if len(differing) > 3:
            changes.conflicts.append(f"... and {len(differing) - 3} more {section}")
    if stored.get("seed") != current.get("seed"):
        changes.conflicts.append(
            f"the seed is different: {stored.get('seed')!r} -> {current.get('seed')!r}"
        )
    old_scorers, new_scorers = stored.get("scorers") or {}, current.get("scorers") or {}
    changes.scorers_changed = [n for n in new_scorers if old_scorers.get(n) != new_scorers[n]]
    changes.scorers_removed = [n for n in old_scorers if n not in new_scorers]
    return changes


def differences(old: Any, new: Any, path: str = "") -> list[str]:
    """``"path: old -> new"`` for every leaf where two JSON values differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        found = []
        # Public settings first: private ones are mostly derived from them.
        for key in sorted(set(old) | set(new), key=lambda k: (str(k).startswith("_"), str(k))):
            where = f"{path}.{key}" if path else str(key)
            if key not in old:
                found.append(f"{where}: (none) -> {_short(new[key])}")
            elif key not in new:
                found.append(f"{where}: {_short(old[key])} -> (none)")
            else:
                found += differences(old[key], new[key], where)
        return found
    if old == new:
        return []
    return [f"{path or 'value'}: {_short(old)} -> {_short(new)}"]


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def with_retired(
    current: Mapping[str, Any], stored: Mapping[str, Any], recorded: Mapping[str, Iterable[str]]
) -> dict[str, Any]:
    """``current`` plus, under ``retired``, the stored entries it dropped that still have cells.

    Args:
        current: The experiment's fingerprint.
        stored: The fingerprint stored in the run directory (or ``{}``).
        recorded: Section -> names that have records in ``cells.jsonl``.
    """
    retired: dict[str, Any] = {}
    old_retired = stored.get("retired") or {}
    for section in NAMED_SECTIONS:
        old = {**(old_retired.get(section) or {}), **(stored.get(section) or {})}
        keep = set(recorded.get(section, ()))
        kept = {n: v for n, v in old.items() if n not in current[section] and n in keep}
        if kept:
            retired[section] = kept
    return {**current, "retired": retired} if retired else dict(current)
