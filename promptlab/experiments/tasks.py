"""Task sets: the questions an experiment asks, each with an id and an expected answer.

A :class:`TaskSet` loads from JSONL, CSV, a pandas DataFrame, a list of dicts or a Hugging
Face ``datasets.Dataset``. Every row is checked before any call is made: a malformed
file raises :class:`~promptlab.errors.DataError` naming the file, the 1-based line (for
CSV the header is line 1) and the field.

Field rules, the same for every source:

* ``id_field`` (default ``"id"``) gives the task id, as a string. A row without it gets
  an id derived from its content: the first 12 hex digits of the SHA-256 of its fields
  (as sorted JSON), so inserting or reordering rows never re-attaches a run's answers to
  other questions. A second identical row gets ``<id>-2``, and so on. Ids must be unique.
* ``expected_field`` (default ``"answer"``; ``"expected"`` is accepted too when the
  default is used) is the expected answer, and every row needs it.
* ``input_fields`` (default: every other field) become the template inputs.
* ``cluster_field`` (default: none) names the field that says which cluster a task
  belongs to (the passage, document or template its question comes from); every row
  then needs it. The field stays among the inputs. Statistics on such a task set use a
  cluster bootstrap, because tasks of one cluster are not independent.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

from promptlab._checks import is_int
from promptlab.errors import DataError
from promptlab.jsonl import content_id, iter_jsonl

_DEFAULT_EXPECTED = "answer"
_FALLBACK_EXPECTED = "expected"


@dataclass(frozen=True)
class Task:
    """One question of a task set.

    Attributes:
        id: Unique within its task set; cells and comparisons pair on it.
        inputs: The template variables, e.g. ``{"question": "What is 2 + 3?"}``.
        expected: The expected answer, as given in the data.
        cluster: The task's cluster (from the task set's ``cluster_field``), or None.
    """

    id: str
    inputs: dict[str, Any] = field(hash=False)
    expected: Any = field(default=None, hash=False)
    cluster: str | None = field(default=None, hash=False, repr=False)


#: ``json.dumps(value, sort_keys=True, default=str)`` without building an encoder per call.
_ENCODER = json.JSONEncoder(sort_keys=True, default=str)
#: A str as ``json.dumps`` writes it (ASCII-escaped); the C function when there is one.
_quote = json.encoder.encode_basestring_ascii


def _plain_json(value: Any) -> str | None:
    """``json.dumps(value)`` for a plain str or int (not a subclass, not bool), else None."""
    kind = type(value)
    if kind is str:
        return _quote(value)
    if kind is int:
        return int.__repr__(value)
    return None


def task_json(task: Task) -> str:
    """``json.dumps([task.inputs, task.expected], sort_keys=True, default=str)``, exactly.

    Task hashes (the run directory's fingerprint, :attr:`TaskSet.fingerprint`) are taken
    over this text, so it must never change: a stored run would stop resuming. Inputs of
    str keys and str or int values, and a str or int expected answer, are written here
    directly (most tasks, and several times faster); anything else goes through ``json``.
    """
    inputs, expected = task.inputs, task.expected
    answer = _plain_json(expected)
    if answer is not None and type(inputs) is dict and all(type(k) is str for k in inputs):
        parts = []
        for key in sorted(inputs):
            value = _plain_json(inputs[key])
            if value is None:
                break
            parts.append(f"{_quote(key)}: {value}")
        else:
            return f"[{{{', '.join(parts)}}}, {answer}]"
    return _ENCODER.encode([inputs, expected])


@dataclass(frozen=True)
class _Fields:
    id_field: str = "id"
    expected_field: str = _DEFAULT_EXPECTED
    input_fields: tuple[str, ...] | None = None
    cluster_field: str | None = None


class TaskSet(Sequence[Task]):
    """An ordered, validated collection of :class:`Task` objects.

    Args:
        tasks: The tasks; their ids must be unique.
        name: A short name (the file stem for files).
        source: Where the tasks came from, for records and error messages.
        cluster_field: The input field naming each task's cluster (a task's own
            ``cluster``, when set, wins); None when tasks are independent.

    Example:
        >>> tasks = TaskSet.from_records([{"question": "2 + 3?", "answer": 5}])
        >>> tasks[0]
        Task(id='922d6e166ea2', inputs={'question': '2 + 3?'}, expected=5)
    """

    def __init__(
        self,
        tasks: Iterable[Task],
        *,
        name: str = "tasks",
        source: str = "",
        cluster_field: str | None = None,
    ) -> None:
        self._tasks = list(tasks)
        self.name = name
        self.source = source or name
        self.cluster_field = cluster_field
        if cluster_field is not None:
            self._tasks = [
                _with_cluster(task, cluster_field, self.source, position)
                for position, task in enumerate(self._tasks, start=1)
            ]
        seen: set[str] = set()
        for position, task in enumerate(self._tasks, start=1):
            if task.id in seen:
                raise DataError(
                    f"duplicate task id {task.id!r}; every task needs its own id.",
                    source=self.source,
                    line=position,
                    field="id",
                )
            seen.add(task.id)

    # --- the Sequence protocol -------------------------------------------------------
    @overload
    def __getitem__(self, index: int) -> Task: ...
    @overload
    def __getitem__(self, index: slice) -> TaskSet: ...
    def __getitem__(self, index: int | slice) -> Task | TaskSet:
        if isinstance(index, slice):
            return TaskSet(
                self._tasks[index],
                name=self.name,
                source=self.source,
                cluster_field=self.cluster_field,
            )
        return self._tasks[index]

    def __len__(self) -> int:
        return len(self._tasks)

    def __iter__(self) -> Iterator[Task]:
        return iter(self._tasks)

    def __repr__(self) -> str:
        return f"TaskSet(name={self.name!r}, tasks={len(self)}, source={self.source!r})"

    @property
    def fingerprint(self) -> str:
        """A short hash of every task's id, inputs and expected answer.

        The SHA-256 of each task's ``json.dumps([id, inputs, expected], sort_keys=True,
        default=str)`` plus a newline, one after the other (built by :func:`task_json`).
        """
        lines = []
        for task in self._tasks:
            content = task_json(task)
            if type(task.id) is str:
                lines.append(f"[{_quote(task.id)}, {content[1:]}\n")
            else:
                lines.append(_ENCODER.encode([task.id, task.inputs, task.expected]) + "\n")
        return hashlib.sha256("".join(lines).encode()).hexdigest()[:16]

    # --- loaders -----------------------------------------------------------------------
    @classmethod
    def load(cls, source: Any, **fields: Any) -> TaskSet:
        """Load tasks from whatever ``source`` is.

        Args:
            source: A :class:`TaskSet` (returned as is), a ``.jsonl`` or ``.csv`` path, a
                pandas DataFrame, a ``datasets.Dataset``, or a list of dicts or Tasks.
            **fields: ``id_field``, ``expected_field``, ``input_fields``,
                ``cluster_field``.
        """
        if isinstance(source, TaskSet):
            return source
        if isinstance(source, (str, Path)):
            path = Path(source)
            suffix = path.suffix.lower()
            if suffix == ".jsonl":
                return cls.from_jsonl(path, **fields)
            if suffix == ".csv":
                return cls.from_csv(path, **fields)
            raise DataError(
                f"unknown task file type {suffix!r}; use a .jsonl or .csv file.",
                source=str(path),
            )
        module = type(source).__module__
        if module.startswith("pandas"):
            return cls.from_dataframe(source, **fields)
        if module.startswith("datasets"):
            return cls.from_hf_dataset(source, **fields)
        if isinstance(source, Sequence) and all(isinstance(t, Task) for t in source):
            return cls(source, cluster_field=_fields(fields).get("cluster_field"))
        if isinstance(source, Iterable):
            return cls.from_records(list(source), **fields)
        raise DataError(
            f"cannot load tasks from a {type(source).__name__}; give a .jsonl/.csv path, a "
            "DataFrame, a datasets.Dataset or a list of dicts.",
            source=type(source).__name__,
        )

    @classmethod
    def from_records(
        cls, records: Sequence[Mapping[str, Any]], *, name: str = "records", **fields: Any
    ) -> TaskSet:
        """Tasks from a list of dicts; rows are numbered from 1 in errors."""
        rows = ((number, row) for number, row in enumerate(records, start=1))
        return cls._build(rows, _Fields(**_fields(fields)), name=name, source=name)

    @classmethod
    def from_jsonl(cls, path: str | Path, **fields: Any) -> TaskSet:
        """Tasks from a JSON-lines file, one object per line; blank lines are skipped."""
        path = Path(path)
        rows = iter_jsonl(_read(path), str(path))
        return cls._build(rows, _Fields(**_fields(fields)), name=path.stem, source=str(path))

    @classmethod
    def from_csv(cls, path: str | Path, **fields: Any) -> TaskSet:
        """Tasks from a CSV file with a header row (line 1); every value is a string."""
        path = Path(path)
        text = _read(path)

        def rows() -> Iterator[tuple[int, Any]]:
            reader = csv.DictReader(text.splitlines(keepends=True))
            for row in reader:
                if None in row or any(value is None for value in row.values()):
                    raise DataError(
                        f"the row has {'more' if None in row else 'fewer'} values than the "
                        f"header's {len(reader.fieldnames or [])} columns.",
                        source=str(path),
                        line=reader.line_num,
                    )
                yield reader.line_num, row

        return cls._build(rows(), _Fields(**_fields(fields)), name=path.stem, source=str(path))

    @classmethod
    def from_dataframe(cls, frame: Any, *, name: str = "dataframe", **fields: Any) -> TaskSet:
        """Tasks from a pandas DataFrame, one row per task (rows numbered from 1)."""
        return cls.from_records(frame.to_dict(orient="records"), name=name, **fields)

    @classmethod
    def from_hf_dataset(
        cls, dataset: Any, *, split: str | None = None, name: str | None = None, **fields: Any
    ) -> TaskSet:
        """Tasks from a Hugging Face ``datasets.Dataset`` (or one split of a ``DatasetDict``).

        Example:
            >>> import datasets
            >>> data = datasets.load_dataset("json", data_files="tasks.jsonl", split="train")
            >>> tasks = TaskSet.from_hf_dataset(data)
        """
        if isinstance(dataset, Mapping):  # a DatasetDict: pick one split
            splits = list(dataset)
            if split is None and len(splits) == 1:
                split = splits[0]
            if split not in dataset:
                raise DataError(
                    f"split={split!r} is not in the dataset; its splits are {splits}. "
                    "Pass split=...",
                    source="datasets.DatasetDict",
                )
            dataset = dataset[split]
        label = name or _dataset_name(dataset)
        return cls.from_records(list(dataset), name=label, **fields)

    @classmethod
    def _build(
        cls, rows: Iterable[tuple[int, Any]], fields: _Fields, *, name: str, source: str
    ) -> TaskSet:
        tasks: list[Task] = []
        seen: dict[str, int] = {}
        for number, row in rows:
            task = _task_from_row(row, fields, len(tasks) + 1, source, number)
            if task.id in seen and row.get(fields.id_field) in (None, ""):
                # An identical row without an id: number the repeats of that content.
                copy = 2
                while f"{task.id}-{copy}" in seen:
                    copy += 1
                task = dataclasses.replace(task, id=f"{task.id}-{copy}")
            if task.id in seen:
                raise DataError(
                    f"duplicate task id {task.id!r} (first used on line {seen[task.id]}); "
                    "every task needs its own id.",
                    source=source,
                    line=number,
                    field=fields.id_field,
                )
            seen[task.id] = number
            tasks.append(task)
        if not tasks:
            raise DataError("there are no tasks in it; add at least one row.", source=source)
        return cls(tasks, name=name, source=source, cluster_field=fields.cluster_field)


def _task_from_row(row: Any, fields: _Fields, position: int, source: str, line: int) -> Task:
    if not isinstance(row, Mapping):
        raise DataError(
            f"each row must be an object with named fields, not a {type(row).__name__}.",
            source=source,
            line=line,
        )
    expected_key = fields.expected_field
    if expected_key not in row and expected_key == _DEFAULT_EXPECTED and _FALLBACK_EXPECTED in row:
        expected_key = _FALLBACK_EXPECTED
    if expected_key not in row:
        also = f" (or {_FALLBACK_EXPECTED!r})" if expected_key == _DEFAULT_EXPECTED else ""
        raise DataError(
            f"the expected answer is missing: every task needs the field "
            f"{expected_key!r}{also}. Add it, or pass expected_field=... to name another.",
            source=source,
            line=line,
            field=fields.expected_field,
        )
    raw_id = row.get(fields.id_field)
    if raw_id is None or raw_id == "":
        task_id = content_id(row)
    elif isinstance(raw_id, str) or is_int(raw_id):
        task_id = str(raw_id)
    else:
        raise DataError(
            f"the id {raw_id!r} is not a string or an integer.",
            source=source,
            line=line,
            field=fields.id_field,
        )
    if fields.input_fields is None:
        inputs = {k: v for k, v in row.items() if k not in (fields.id_field, expected_key)}
    else:
        missing = [name for name in fields.input_fields if name not in row]
        if missing:
            raise DataError(
                f"the input field {missing[0]!r} is missing (input_fields="
                f"{list(fields.input_fields)}).",
                source=source,
                line=line,
                field=missing[0],
            )
        inputs = {name: row[name] for name in fields.input_fields}
    cluster = None
    if fields.cluster_field is not None:
        if row.get(fields.cluster_field) in (None, ""):
            raise DataError(
                f"the cluster field {fields.cluster_field!r} is missing or empty; with "
                f"cluster_field set, every task needs it (say which passage, document or "
                f"template the task belongs to).",
                source=source,
                line=line,
                field=fields.cluster_field,
            )
        cluster = str(row[fields.cluster_field])
    return Task(task_id, inputs, row[expected_key], cluster)


def _with_cluster(task: Task, cluster_field: str, source: str, position: int) -> Task:
    if task.cluster is not None:
        return task
    value = task.inputs.get(cluster_field)
    if value is None or value == "":
        raise DataError(
            f"task {task.id!r} has no input {cluster_field!r} to read its cluster from; "
            f"give every task that input, or set Task.cluster.",
            source=source,
            line=position,
            field=cluster_field,
        )
    return dataclasses.replace(task, cluster=str(value))


def cluster_description(tasks: TaskSet) -> dict[str, Any]:
    """The clusters as ``experiment.json`` records them under ``"tasks"``; ``{}`` without.

    ``{"cluster_field": "passage", "clusters": {task_id: cluster, ...}}``.
    """
    if tasks.cluster_field is None:
        return {}
    return {
        "cluster_field": tasks.cluster_field,
        "clusters": {task.id: task.cluster for task in tasks},
    }


def task_clusters_of(experiment: Mapping[str, Any]) -> dict[str, str] | None:
    """Task id -> cluster from an ``experiment.json`` description, or None without clusters."""
    section = experiment.get("tasks")
    clusters = section.get("clusters") if isinstance(section, Mapping) else None
    if not isinstance(clusters, Mapping):
        return None
    return {str(task): str(cluster) for task, cluster in clusters.items()}


def _fields(given: Mapping[str, Any]) -> dict[str, Any]:
    allowed = ("id_field", "expected_field", "input_fields", "cluster_field")
    unknown = [key for key in given if key not in allowed]
    if unknown:
        raise TypeError(f"unknown task-set option {unknown[0]!r}; the options are {allowed}.")
    result = dict(given)
    if result.get("input_fields") is not None:
        result["input_fields"] = tuple(result["input_fields"])
    return result


def _read(path: Path) -> str:
    if not path.is_file():
        raise DataError("the task file does not exist.", source=str(path))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"the file is not UTF-8 text ({exc.reason}).", source=str(path)) from None
    if not text.strip():
        raise DataError("the task file is empty; add at least one task.", source=str(path))
    return text


def _dataset_name(dataset: Any) -> str:
    info = getattr(dataset, "info", None)
    return getattr(info, "dataset_name", None) or "dataset"
