"""Chain of thought: ask for reasoning first, then read the answer out of it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from promptlab.errors import ConfigurationError
from promptlab.strategies.base import Strategy
from promptlab.strategies.context import context_template
from promptlab.templating.template import PromptTemplate


class ChainOfThought(Strategy):
    """Step-by-step reasoning before the final answer.

    On its own it is zero-shot CoT (template ``chain_of_thought``). Wrapping a strategy
    that supplies examples, such as :class:`~promptlab.strategies.few_shot.FewShot`, makes
    it few-shot CoT (template ``chain_of_thought_few_shot``): each example then needs a
    ``rationale`` field with its worked reasoning. Wrapping a
    :class:`~promptlab.strategies.rag.RAG` shows its retrieved passages (the template's
    ``_context`` variant). The answer is extracted from the end of the reasoning by the
    extractor, which defaults to the wrapped strategy's.

    Args:
        base: The strategy whose inputs (and examples) to use, or None.
        template: Overrides the CoT template.
        **kwargs: Passed to :class:`~promptlab.strategies.base.Strategy`; unset ones
            (extractor, system, answer_format) are taken from ``base``.

    Example:
        >>> cot = ChainOfThought(extractor="numeric")
        >>> few_shot_cot = ChainOfThought(FewShot("examples/arithmetic_shots.jsonl", k=3))
    """

    default_template = "chain_of_thought"

    def __init__(
        self,
        base: Strategy | None = None,
        *,
        template: str | PromptTemplate | None = None,
        **kwargs: Any,
    ) -> None:
        self.base = base
        if base is not None:
            kwargs.setdefault("extractor", base.extractor)
            kwargs.setdefault("system", base.system)
            kwargs.setdefault("answer_format", base.answer_format)
            if template is None and base.has_examples:
                template = "chain_of_thought_few_shot"
        super().__init__(template, **kwargs)
        if base is not None:
            self.params = base.params.merge(self.params)
        self.has_examples = base is not None and base.has_examples
        self.has_context = base is not None and base.has_context
        if self.has_context:  # the base retrieves passages: show them (RAG inside CoT)
            self.template = context_template(self.template)
        if self.has_examples:
            self._check_rationales()

    @property
    def name(self) -> str:
        inner = f"{self.base.name}, " if self.base is not None else ""
        return f"ChainOfThought({inner}{self.template.name})"

    def describe(self) -> dict[str, Any]:
        description = super().describe()
        if self.base is not None:
            description["base"] = self.base.describe()
        return description

    def template_inputs(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        if self.base is None:
            return super().template_inputs(inputs)
        return self._with_own_settings(self.base.template_inputs(inputs))

    async def atemplate_inputs(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        if self.base is None:
            return super().template_inputs(inputs)
        return self._with_own_settings(await self.base.atemplate_inputs(inputs))

    def prepares_inputs_sync(self) -> bool:
        return self.base is None or self.base.prepares_inputs_sync()

    def _with_own_settings(self, variables: dict[str, Any]) -> dict[str, Any]:
        """The base's variables, plus this strategy's system prompt and answer format."""
        for key, value in super().template_inputs({}).items():
            variables.setdefault(key, value)
        return variables

    def _check_rationales(self) -> None:
        examples = getattr(self.base, "examples", [])
        lacking = [i for i, e in enumerate(examples) if not e.get("rationale")]
        if lacking and "rationale" in self.template.source:
            raise ConfigurationError(
                f"Few-shot chain of thought needs a 'rationale' (the worked reasoning) in "
                f"every example; examples at positions {lacking[:5]} have none. Add it, or "
                "use FewShot without ChainOfThought."
            )
