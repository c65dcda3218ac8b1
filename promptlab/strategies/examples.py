"""Few-shot examples: loading them, and choosing which to show for a task."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from promptlab.errors import ConfigurationError, DataError
from promptlab.jsonl import iter_jsonl

Example = Mapping[str, Any]


class ExampleSelector(Protocol):
    """Chooses ``k`` examples for one task. Semantic (embedding) selection plugs in here."""

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
    """Accept ``"fixed"``, ``"random"`` or a selector object."""
    if selection == "fixed":
        return FixedSelector()
    if selection == "random":
        return RandomSelector(seed)
    if isinstance(selection, str):
        raise ConfigurationError(
            f"selection={selection!r} is not allowed: use 'fixed', 'random' or an "
            "ExampleSelector object."
        )
    return selection


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
