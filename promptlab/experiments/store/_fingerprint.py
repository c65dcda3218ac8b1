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
  ``repeats``, stay on disk but are left out of :class:`~promptlab.experiments.analysis.Run`.
  Their fingerprints are kept as ``retired`` so re-adding one defined differently is
  still caught.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from promptlab.experiments.tasks import Task, task_json

# Re-exported: the fingerprint describes scorers with the same rule strategies use.
from promptlab.strategies.description import settings_of

if TYPE_CHECKING:
    from promptlab.experiments.experiment import Experiment

#: Bumped when the fingerprint's layout changes; another format is never compared.
FORMAT = 1
#: The sections whose entries are compared name by name.
NAMED_SECTIONS = ("arms", "providers", "tasks")
_LABELS = {"arms": "arm", "providers": "provider", "tasks": "task"}


def task_hash(task: Task) -> str:
    """A short hash of one task's inputs and expected answer (SHA-256 of :func:`task_json`).

    Stored in every run directory's fingerprint: it must never change for the same task.
    """
    return hashlib.sha256(task_json(task).encode()).hexdigest()[:16]


def definition_fingerprint(
    experiment: Experiment, described: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The fingerprint of an experiment's definition (see the module docstring).

    ``described``: ``experiment.describe()`` when the caller already has it (describing
    hashes every task, which a large experiment feels).
    """
    if described is None:
        described = experiment.describe()
    tasks = {str(task.id): task_hash(task) for task in experiment.tasks}
    fingerprint = _normal(
        {
            "format": FORMAT,
            "arms": described["arms"],
            "providers": {name: p.fingerprint() for name, p in experiment.providers.items()},
            "scorers": {s.name: settings_of(s) for s in experiment.scorers},
            "repeats": experiment.repeats,
            "seed": experiment.seed,
        }
    )
    # Ids and hashes are already strings: only sorted, as the JSON round trip would.
    fingerprint["tasks"] = dict(sorted(tasks.items()))
    return dict(sorted(fingerprint.items()))


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


#: Modules whose classes and functions moved, old name -> new. Fingerprints name types and
#: functions by module path (see :func:`settings_of`), so a fingerprint stored before a move
#: is read with the new names: the move alone must not re-score a run (a judge scorer would
#: ask its judge again) or stop it resuming. Add a line whenever such a module moves.
MOVED_MODULES = {
    "promptlab.experiments.match_scorers": "promptlab.experiments.scoring._match",
    "promptlab.experiments.reply_scorers": "promptlab.experiments.scoring._reply",
    "promptlab.experiments.judge": "promptlab.experiments.scoring._judge",
    "promptlab.experiments.perplexity": "promptlab.experiments.scoring._perplexity",
    "promptlab.experiments.scoring": "promptlab.experiments.scoring._scorer",
    "promptlab.experiments.scorers": "promptlab.experiments.scoring._scorer",
    # A provider's fingerprint names its class too (``"class"``): the fake moved beside
    # the other backends so that the registry no longer imports the testing layer.
    "promptlab.testing.fake_provider": "promptlab.providers.fake",
}
_NAMED_BY_PATH = ("type", "function", "class")


def with_current_names(data: Any) -> Any:
    """A stored fingerprint with the type, function and class paths of moved modules updated."""
    if isinstance(data, dict):
        return {
            key: _moved(value) if key in _NAMED_BY_PATH else with_current_names(value)
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [with_current_names(value) for value in data]
    return data


def _moved(value: Any) -> Any:
    if not isinstance(value, str):
        return with_current_names(value)
    module, _, name = value.rpartition(".")
    # Exact module names only: promptlab.experiments.scoring was a module before it was a
    # package, and promptlab.experiments.scoring._match.X must stay as it is.
    return f"{MOVED_MODULES[module]}.{name}" if module in MOVED_MODULES else value


def compare(stored: Mapping[str, Any], current: Mapping[str, Any]) -> DefinitionChanges:
    """Compare a stored fingerprint with the current one (both as from JSON)."""
    stored = with_current_names(dict(stored))
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
