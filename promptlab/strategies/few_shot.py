"""Few-shot prompting: worked examples as earlier chat turns."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from promptlab.errors import ConfigurationError
from promptlab.strategies.base import Strategy
from promptlab.strategies.description import settings_of
from promptlab.strategies.examples import Example, ExampleSelector, as_selector, load_examples


class FewShot(Strategy):
    """Show ``k`` worked examples before the question (built-in template ``few_shot``).

    Args:
        examples: A list of dicts (each with ``question`` and ``answer`` for the built-in
            template), or a path to a ``.jsonl`` / ``.json`` / ``.yaml`` file of them.
        k: How many to show; all of them by default.
        selection: ``"fixed"`` (the first ``k``), ``"random"`` (seeded per task), or an
            :class:`~promptlab.strategies.examples.ExampleSelector`.
        seed: Seed for random selection.
        **kwargs: Passed to :class:`~promptlab.strategies.base.Strategy`.

    An example whose ``question`` equals the task's question is never shown, so a task
    set cannot leak its own answers into the prompt.

    Example:
        >>> shots = [{"question": "2 + 2?", "answer": "4"}, {"question": "3 + 5?", "answer": "8"}]
        >>> strategy = FewShot(shots, k=2, extractor="numeric")
    """

    default_template = "few_shot"
    has_examples = True

    def __init__(
        self,
        examples: Sequence[Example] | str | Path,
        *,
        k: int | None = None,
        selection: str | ExampleSelector = "fixed",
        seed: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.examples = load_examples(examples)
        if not self.examples:
            raise ConfigurationError("FewShot needs at least one example; the list is empty.")
        if k is not None and k < 1:
            raise ConfigurationError(f"k={k} is not allowed: k must be at least 1.")
        self.k = k if k is not None else len(self.examples)
        self.selector = as_selector(selection, seed)

    def describe(self) -> dict[str, Any]:
        text = json.dumps(self.examples, sort_keys=True, default=str)
        return {
            **super().describe(),
            "k": self.k,
            # The examples by count and content hash: enough to tell two sets apart.
            "examples": {
                "count": len(self.examples),
                "hash": hashlib.sha256(text.encode()).hexdigest()[:16],
            },
            "selection": settings_of(self.selector),
        }

    def select_examples(self, inputs: Mapping[str, Any]) -> list[Example]:
        """The examples shown for this task."""
        question = inputs.get("question")
        pool = [e for e in self.examples if question is None or e.get("question") != question]
        return self.selector.select(pool, inputs, self.k)

    def template_inputs(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        variables = super().template_inputs(inputs)
        variables["examples"] = self.select_examples(inputs)
        return variables
