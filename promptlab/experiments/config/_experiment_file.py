"""Experiment files: an :class:`~promptlab.experiments.Experiment` written in YAML.

The schema (paths are relative to the YAML file's folder)::

    name: arithmetic                  # optional; default: the file name without .yaml
    description: ...                  # optional, free text
    tasks: arithmetic.jsonl           # a .jsonl/.csv file, or
    #   {path: f.csv, id_field: id, expected_field: answer, input_fields: [question],
    #    cluster_field: passage,      # tasks in groups: cluster-bootstrap intervals
    #    limit: 20}                   # limit: only the first 20 tasks (all are checked)
    providers:                        # name -> provider string (see providers.registry)
      local: local                    #   or {provider: local, concurrency: 1, options: {...},
                                      #       batch: true}  (the vendor's batch API)
    scorers: [numeric]                # names or {type: numeric, tolerance: 0.01, name: ...}
    repeats: 1                        # optional, >= 1
    seed: 0                           # optional, an integer or null
    concurrency: 8                    # optional, total cells at once
    templates: [prompts/]             # optional folders searched for named templates
    arms:                             # name -> strategy spec (see strategy_specs)
      zero_shot: {strategy: zero_shot, extractor: numeric, params: {max_tokens: 64}}
      cot: {strategy: chain_of_thought, extractor: numeric, params: {max_tokens: 160}}
      sc_cot:
        strategy: self_consistency
        n: 5
        temperature: 0.7
        base: {strategy: chain_of_thought, extractor: numeric}
        params: {max_tokens: 160}

Every problem raises :class:`~promptlab.errors.ConfigurationError`. The message names
the file, the line, the key path (e.g. ``arms.cot.params.temperature``) and what was
expected. Problems in a task file raise :class:`~promptlab.errors.DataError` instead,
naming the task file, its line and field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml

from promptlab._checks import is_int
from promptlab.errors import ConfigurationError
from promptlab.experiments.config._spec_checks import (
    Path_,
    SpecError,
    check_keys,
    expect_mapping,
    format_path,
)
from promptlab.experiments.config._strategy_specs import build_arm
from promptlab.experiments.tasks import TaskSet
from promptlab.templating import TemplateLibrary

TOP_KEYS = frozenset(
    {
        "name",
        "description",
        "tasks",
        "providers",
        "scorers",
        "arms",
        "repeats",
        "seed",
        "concurrency",
        "templates",
    }
)
REQUIRED_TOP = ("tasks", "providers", "scorers", "arms")
_TASK_KEYS = frozenset(
    {"path", "id_field", "expected_field", "input_fields", "cluster_field", "limit"}
)
_PROVIDER_KEYS = frozenset({"provider", "concurrency", "options", "batch"})

E = TypeVar("E")


def load_experiment(path: str | Path, build: Callable[..., E]) -> E:
    """Read and check an experiment file, and build the experiment it describes.

    ``Experiment.from_yaml`` is the public way in. The file is turned into the keyword
    arguments of ``build`` (the :class:`~promptlab.experiments.Experiment` class), and a
    :class:`~promptlab.errors.ConfigurationError` that ``build`` raises is reported with
    the file's name, like any other problem in it. Taking the class as an argument keeps
    this module below the definition it fills in (no import circle).

    Raises:
        ConfigurationError: The file is missing, is not valid YAML, or breaks the schema.
        DataError: The task file it names is malformed.
    """
    file = Path(path)
    if not file.is_file():
        raise ConfigurationError(f"{file}: no such experiment file.")
    text = file.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigurationError(f"{file}{where}: not valid YAML: {problem}.") from None
    try:
        return _build(data, file, build)
    except SpecError as exc:
        line = _line_of(root, exc.path)
        where = f", line {line}" if line else ""
        raise ConfigurationError(
            f"{file}{where}: {format_path(exc.path)}: {exc.detail}"
        ) from exc.__cause__


def _build(data: Any, file: Path, build: Callable[..., E]) -> E:
    folder = file.parent
    top = expect_mapping(data, (), "a mapping of experiment settings (tasks, arms, ...)")
    check_keys(top, TOP_KEYS, REQUIRED_TOP, (), "an experiment file")
    name = top.get("name", file.stem)
    if not isinstance(name, str) or not name:
        raise SpecError(("name",), f"expected a non-empty string, got {name!r}.")
    library = _library(top.get("templates"), folder)
    arms_spec = expect_mapping(top["arms"], ("arms",), "a mapping of arm name -> strategy spec")
    if not arms_spec:
        raise SpecError(("arms",), "expected at least one arm.")
    arms = {
        str(arm): build_arm(spec, ("arms", str(arm)), folder, library)
        for arm, spec in arms_spec.items()
    }
    providers, limits, batched = _providers(top["providers"])
    tasks = _tasks(top["tasks"], folder)
    scorers = _scorers(top["scorers"])
    options = {key: top[key] for key in ("repeats", "seed", "concurrency") if key in top}
    for key, value in options.items():
        if key == "seed" and value is None:
            continue
        minimum = 0 if key == "seed" else 1
        if not is_int(value) or value < minimum:
            raise SpecError((key,), f"expected an integer >= {minimum}, got {value!r}.")
    try:
        return build(
            arms=arms,
            providers=providers,
            tasks=tasks,
            scorers=scorers,
            provider_concurrency=limits,
            name=name,
            batch_providers=batched,
            **options,
        )
    except ConfigurationError as exc:
        raise SpecError((), str(exc)) from exc


def _providers(value: Any) -> tuple[dict[str, Any], dict[str, int], list[str]]:
    from promptlab.providers.registry import provider as build_provider

    spec = expect_mapping(value, ("providers",), "a mapping of name -> provider string")
    if not spec:
        raise SpecError(("providers",), "expected at least one provider, e.g. {local: local}.")
    providers: dict[str, Any] = {}
    limits: dict[str, int] = {}
    batched: list[str] = []
    for name, entry in spec.items():
        path: Path_ = ("providers", str(name))
        options: Mapping[str, Any] = {}
        if isinstance(entry, Mapping):
            check_keys(entry, _PROVIDER_KEYS, ("provider",), path, "a provider")
            limit = entry.get("concurrency")
            if limit is not None:
                if not is_int(limit) or limit < 1:
                    raise SpecError(
                        (*path, "concurrency"), f"expected an integer >= 1, got {limit!r}."
                    )
                limits[str(name)] = limit
            batch = entry.get("batch", False)
            if not isinstance(batch, bool):
                raise SpecError((*path, "batch"), f"expected true or false, got {batch!r}.")
            if batch:
                batched.append(str(name))
            options = expect_mapping(entry.get("options") or {}, (*path, "options"), "a mapping")
            path, entry = (*path, "provider"), entry["provider"]
        if not isinstance(entry, str):
            raise SpecError(path, f"expected a provider string such as 'local', got {entry!r}.")
        try:
            providers[str(name)] = build_provider(entry, **options)
        except ConfigurationError as exc:
            raise SpecError(path, str(exc)) from exc
        except TypeError as exc:  # options the provider's constructor does not take
            raise SpecError(
                (*path[:2], "options"), f"not accepted by the provider: {exc}."
            ) from exc
    return providers, limits, batched


def _tasks(value: Any, folder: Path) -> TaskSet:
    fields: dict[str, Any] = {}
    limit: int | None = None
    path: Path_ = ("tasks",)
    if isinstance(value, Mapping):
        check_keys(value, _TASK_KEYS, ("path",), path, "tasks")
        limit = value.get("limit")
        if limit is not None and (not is_int(limit) or limit < 1):
            raise SpecError((*path, "limit"), f"expected an integer >= 1, got {limit!r}.")
        fields = {k: value[k] for k in _TASK_KEYS - {"path", "limit"} if k in value}
        for key, item in fields.items():
            ok = isinstance(item, list) if key == "input_fields" else isinstance(item, str)
            if not ok:
                kind = "a list of field names" if key == "input_fields" else "a field name"
                raise SpecError((*path, key), f"expected {kind}, got {item!r}.")
        path, value = (*path, "path"), value["path"]
    if not isinstance(value, str):
        raise SpecError(path, f"expected a task file path (.jsonl or .csv), got {value!r}.")
    file = folder / value
    if not file.is_file():
        raise SpecError(
            path, f"no task file {str(file)!r} (paths are relative to the experiment file)."
        )
    if file.suffix.lower() not in (".jsonl", ".csv"):
        raise SpecError(path, f"expected a .jsonl or .csv task file, got {value!r}.")
    tasks = TaskSet.load(file, **fields)  # keys and types are checked above
    # The whole file is checked above; the limit then keeps its first tasks.
    return tasks if limit is None else tasks[:limit]


def _scorers(value: Any) -> list[Any]:
    from promptlab.experiments.config._scorer_specs import scorer_from_spec

    items = value if isinstance(value, list) else [value]
    if not items:
        raise SpecError(("scorers",), "expected at least one scorer, e.g. [numeric].")
    built = []
    for index, spec in enumerate(items):
        path: Path_ = ("scorers", index) if isinstance(value, list) else ("scorers",)
        try:
            built.append(scorer_from_spec(spec))
        except ConfigurationError as exc:
            raise SpecError(path, str(exc)) from exc
    return built


def _library(value: Any, folder: Path) -> TemplateLibrary | None:
    if value is None:
        return None
    folders = [value] if isinstance(value, str) else value
    if not isinstance(folders, list) or not all(isinstance(f, str) for f in folders):
        raise SpecError(("templates",), f"expected a list of folder paths, got {value!r}.")
    for index, name in enumerate(folders):
        if not (folder / name).is_dir():
            raise SpecError(("templates", index), f"no such folder {str(folder / name)!r}.")
    return TemplateLibrary([folder / name for name in folders])


def _line_of(root: Any, path: Path_) -> int | None:
    """The 1-based line of the YAML node at ``path`` (or of its nearest existing parent)."""
    node, line = root, None
    if node is not None:
        line = node.start_mark.line + 1
    for part in path:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, item in node.value:
                if getattr(key, "value", None) == str(part):
                    child = item if not isinstance(item, yaml.ScalarNode) else key
                    line = key.start_mark.line + 1
                    break
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line
