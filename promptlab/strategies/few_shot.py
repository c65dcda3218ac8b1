"""Few-shot prompting: worked examples as earlier chat turns."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from promptlab.errors import ConfigurationError
from promptlab.strategies.base import Strategy
from promptlab.strategies.examples import (
    Example,
    ExampleSelector,
    as_selector,
    current_task_id,
    describe_selector,
    example_id,
    load_examples,
)


class FewShot(Strategy):
    """Show ``k`` worked examples before the question (built-in template ``few_shot``).

    Args:
        examples: A list of dicts (each with ``question`` and ``answer`` for the built-in
            template), or a path to a ``.jsonl`` / ``.json`` / ``.yaml`` file of them.
        k: How many to show; all of them by default.
        selection: ``"fixed"`` (the first ``k``), ``"random"`` (seeded per task),
            ``"similar"`` (the ``k`` most similar by BM25, see
            :class:`~promptlab.strategies.similar_examples.SimilarExamples`), or an
            :class:`~promptlab.strategies.examples.ExampleSelector`. A selector with its own
            ``k`` (``SimilarExamples(4)``) gives ``k`` when this ``k`` is not set.
        seed: Seed for random selection.
        **kwargs: Passed to :class:`~promptlab.strategies.base.Strategy`.

    A task is never shown its own example, so a task set cannot leak its own answers
    into the prompt: an example is left out when its ``question`` equals the task's, or
    when its id (its ``id`` field, else the content id a task without an id gets) is the
    id of the task an experiment is running. The ids of the examples shown are in
    ``StrategyResult.shots`` and in each cell record.

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
        self.selector = as_selector(selection, seed)
        selector_k = getattr(self.selector, "k", None)
        if k is not None and selector_k is not None and k != selector_k:
            raise ConfigurationError(
                f"k={k} and the selector's k={selector_k} disagree: give k in one place."
            )
        self.k = k or selector_k or len(self.examples)
        self.example_ids = [example_id(example) for example in self.examples]
        prepare = getattr(self.selector, "prepare", None)
        if callable(prepare):  # e.g. SimilarExamples: a copy with this pool indexed, once
            self.selector = prepare(self.examples, self.k)

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
            "selection": describe_selector(self.selector),
        }

    def pool(self, inputs: Mapping[str, Any]) -> list[Example]:
        """The examples this task may be shown: all but the task's own.

        An example is the task's own when its id is the id of the task being run (see
        :func:`~promptlab.strategies.examples.running_task`) or its ``question`` equals
        the task's.
        """
        question = inputs.get("question")
        task_id = current_task_id()
        return [
            example
            for example, identity in zip(self.examples, self.example_ids, strict=True)
            if identity != task_id and (question is None or example.get("question") != question)
        ]

    def select_examples(self, inputs: Mapping[str, Any]) -> list[Example]:
        """The examples shown for this task."""
        return self.selector.select(self.pool(inputs), inputs, self.k)

    async def aselect_examples(self, inputs: Mapping[str, Any]) -> list[Example]:
        """:meth:`select_examples` for async code: a selector's ``aselect`` when it has one."""
        aselect = getattr(self.selector, "aselect", None)
        if aselect is None:
            return self.select_examples(inputs)
        chosen: list[Example] = await aselect(self.pool(inputs), inputs, self.k)
        return chosen

    def template_inputs(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        variables = super().template_inputs(inputs)
        variables["examples"] = self.select_examples(inputs)
        return variables

    async def atemplate_inputs(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        # Strategy's own variables, not self.template_inputs: that would select in sync.
        variables = super().template_inputs(inputs)
        variables["examples"] = await self.aselect_examples(inputs)
        return variables

    def prepares_inputs_sync(self) -> bool:
        # A selector without ``aselect`` selects the same examples on both paths.
        own = type(self)
        return (
            own.template_inputs is FewShot.template_inputs
            and own.atemplate_inputs is FewShot.atemplate_inputs
            and getattr(self.selector, "aselect", None) is None
        )
