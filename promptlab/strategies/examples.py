"""Few-shot examples: loading them, naming them, and choosing which to show for a task."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Protocol

from promptlab._checks import is_int
from promptlab.errors import ConfigurationError, DataError
from promptlab.jsonl import content_id, iter_jsonl
from promptlab.strategies.description import settings_of

Example = Mapping[str, Any]

_TASK_ID: ContextVar[str | None] = ContextVar("promptlab_task_id", default=None)


def example_id(example: Example) -> str:
    """An example's id: its ``id`` field, else an id from its content.

    The content id is the one a task without an id gets
    (:func:`~promptlab.jsonl.content_id`), so a row used both as a task and as an example
    has the same id in both roles.
    """
    given = example.get("id")
    if (isinstance(given, str) and given) or is_int(given):
        return str(given)
    return content_id(example)


def shot_ids(variables: Mapping[str, Any]) -> tuple[str, ...]:
    """The ids of the few-shot examples among a template's variables (``examples``)."""
    examples = variables.get("examples")
    if not isinstance(examples, (list, tuple)):
        return ()
    return tuple(example_id(e) for e in examples if isinstance(e, Mapping))


@contextmanager
def running_task(task_id: str | None) -> Iterator[None]:
    """Mark ``task_id`` as the task being run, inside this block (and this asyncio task).

    The experiment runner wraps each cell in it, so few-shot selection can leave out the
    example whose id is the task's own, without the id being a template input.
    """
    token = _TASK_ID.set(task_id)
    try:
        yield
    finally:
        _TASK_ID.reset(token)


def current_task_id() -> str | None:
    """The id set by the innermost :func:`running_task`, or None outside one."""
    return _TASK_ID.get()


class ExampleSelector(Protocol):
    """Chooses ``k`` examples for one task.

    A selector may also have ``prepare(examples, k)``, returning the selector to use for
    that pool (``FewShot`` calls it once, when it is built: an index is made there), an
    async ``aselect`` with :meth:`select`'s arguments (``arun`` awaits it instead), and a
    ``describe()`` for fingerprints. :class:`~promptlab.strategies.SimilarExamples` has all
    three.
    """

    def select(
        self, examples: Sequence[Example], inputs: Mapping[str, Any], k: int
    ) -> list[Example]:
        """Return the examples to show for ``inputs``, in display order."""
        ...


class FixedSelector:
    """The first ``k`` examples, in file order, for every task."""

    def select(
        self, examples: Sequence[Example], inputs: Mapping[str, Any], k: int
    ) -> list[Example]:
        return list(examples[:k])


class RandomSelector:
    """``k`` examples drawn at random, reproducibly.

    The draw is seeded by ``seed`` and the task's inputs, so each task always gets the
    same examples whatever order or concurrency tasks run in, while different tasks get
    different examples.
    """

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def select(
        self, examples: Sequence[Example], inputs: Mapping[str, Any], k: int
    ) -> list[Example]:
        key = json.dumps(dict(inputs), sort_keys=True, default=str)
        digest = hashlib.sha256(f"{self.seed}:{key}".encode()).digest()
        rng = random.Random(int.from_bytes(digest[:8], "big"))
        return rng.sample(list(examples), min(k, len(examples)))


def as_selector(selection: str | ExampleSelector, seed: int) -> ExampleSelector:
    """Accept ``"fixed"``, ``"random"``, ``"similar"`` or a selector object."""
    if selection == "fixed":
        return FixedSelector()
    if selection == "random":
        return RandomSelector(seed)
    if selection == "similar":
        # Imported here: it brings in the retrieval package, which plain few-shot never needs.
        from promptlab.strategies.similar_examples import SimilarExamples

        return SimilarExamples()
    if isinstance(selection, str):
        raise ConfigurationError(
            f"selection={selection!r} is not allowed: use 'fixed', 'random', 'similar' or an "
            "ExampleSelector object."
        )
    return selection


def describe_selector(selector: ExampleSelector) -> Any:
    """A selector's settings for fingerprints: its own ``describe()`` when it has one."""
    describe = getattr(selector, "describe", None)
    return describe() if callable(describe) else settings_of(selector)


def load_examples(source: str | Path | Sequence[Example]) -> list[dict[str, Any]]:
    """Examples given inline, or read from a ``.jsonl``, ``.json`` or ``.yaml`` file."""
    if not isinstance(source, (str, Path)):
        return [dict(example) for example in source]
    path = Path(source)
    if not path.is_file():
        raise DataError("the examples file does not exist.", source=str(path))
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        rows = []
        for number, row in iter_jsonl(text, str(path)):
            if not isinstance(row, dict):
                raise DataError("each line must be a JSON object.", source=str(path), line=number)
            rows.append(row)
        return rows
    if path.suffix in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(text)
    elif path.suffix == ".json":
        data = json.loads(text)
    else:
        raise DataError(
            f"unknown examples file type {path.suffix!r}; use .jsonl, .json or .yaml.",
            source=str(path),
        )
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise DataError("the file must hold a list of objects.", source=str(path))
    return data
