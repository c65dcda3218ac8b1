"""LLM-as-judge: another model grades each reply against a rubric.

The judge prompt is a promptlab :class:`~promptlab.templating.template.PromptTemplate`
(chat blocks) and goes through any promptlab provider, so a local model, a hosted one or
a :class:`~promptlab.testing.FakeProvider` can judge. The judge is asked to reason first
and end with a verdict line; its whole reply is stored as the score's note, so every
grade can be audited.

Verdicts: in pass/fail mode (default) a line ``Verdict: PASS`` or ``Verdict: FAIL``
(``yes``/``no`` and ``correct``/``incorrect`` are accepted) gives 1.0 or 0.0. With
``scale=(low, high)`` the judge ends with ``Score: <number>`` and the number, which must lie
in the range, is the score. The last verdict line wins. A reply without a readable
verdict scores NaN with a note (the cell stays in the run; its other scores still count).
A failed judge call raises the provider's error, so the runner records the cell as
errored and retries it on the next run.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from promptlab.completion import CompletionRequest
from promptlab.errors import ConfigurationError
from promptlab.experiments.match_scorers import expected_answer, reply_text
from promptlab.experiments.scoring import Score
from promptlab.params import GenerationParams
from promptlab.providers.base import Provider
from promptlab.strategies.base import StrategyResult
from promptlab.templating.template import PromptTemplate

__all__ = ["DEFAULT_JUDGE_TEMPLATE", "JudgeScorer", "parse_verdict"]

#: Variables: rubric, question, inputs (all task inputs), expected, response, answer, scale.
DEFAULT_JUDGE_TEMPLATE = """\
{% system %}You are a strict, fair grader. You judge one response against a rubric.{% endsystem %}
{% user %}
Rubric:
{{ rubric }}

{% if question %}Question:
{{ question }}

{% endif %}{% if expected is not none %}Reference answer:
{{ expected }}

{% endif %}Response to grade:
{{ response }}

Explain your reasoning briefly, then end with one final line of the form
{% if scale %}"Score: <a number from {{ scale[0] }} to {{ scale[1] }}>".{% else %}\
"Verdict: PASS" or "Verdict: FAIL".{% endif %}
{% enduser %}
"""

_VERDICT = re.compile(
    r"verdict\s*[:=]\s*\**\s*(pass|fail|yes|no|correct|incorrect)\b", re.IGNORECASE
)
_BARE_VERDICT = re.compile(r"^\W*(pass|fail|correct|incorrect)\W*$", re.IGNORECASE)
_SCORE = re.compile(r"score\s*[:=]\s*\**\s*(-?\d+(?:\.\d+)?)(?:\s*/\s*\d+(?:\.\d+)?)?", re.I)
_PASSING = {"pass", "yes", "correct"}


def parse_verdict(reply: str, scale: tuple[float, float] | None = None) -> float | None:
    """Read the judge's verdict from its reply: 1.0/0.0, a number on the scale, or None.

    Args:
        reply: The judge's full reply.
        scale: ``(low, high)`` for graded verdicts; None for pass/fail.

    Returns:
        The score, or None when no verdict (or a number outside the scale) was found.

    Example:
        >>> parse_verdict("The answer is right.\\nVerdict: PASS")
        1.0
    """
    if scale is not None:
        numbers = _SCORE.findall(reply)
        if not numbers:
            return None
        value = float(numbers[-1])
        return value if scale[0] <= value <= scale[1] else None
    words = _VERDICT.findall(reply)
    if not words:
        # A judge that ends with a bare "PASS" line still said what it meant.
        lines = [line for line in reply.strip().splitlines() if line.strip()]
        bare = _BARE_VERDICT.match(lines[-1]) if lines else None
        if bare is None:
            return None
        words = [bare.group(1)]
    return 1.0 if words[-1].lower() in _PASSING else 0.0


class JudgeScorer:
    """Grade replies with an LLM judge and a rubric.

    Args:
        provider: Any promptlab provider, or a provider string such as ``"local"``
            (built on first use, so loading an experiment file loads no model).
        rubric: What a good response is, in plain words.
        template: The judge prompt: a :class:`PromptTemplate`, a template name, or Jinja
            source with chat blocks. Variables: ``rubric``, ``question``, ``inputs``,
            ``expected``, ``response``, ``answer``, ``scale``. Default:
            :data:`DEFAULT_JUDGE_TEMPLATE`.
        scale: ``(low, high)`` for graded scores; None (default) for pass/fail.
        params: Generation parameters for the judge (default: temperature 0,
            max_tokens 512).
        name: Score name (default ``"judge"``).

    Example:
        >>> judge = JudgeScorer("local", rubric="The answer names a real colour.")
    """

    def __init__(
        self,
        provider: Provider | str,
        *,
        rubric: str,
        template: PromptTemplate | str | None = None,
        scale: tuple[float, float] | None = None,
        params: GenerationParams | Mapping[str, Any] | None = None,
        name: str = "judge",
    ) -> None:
        if not isinstance(rubric, str) or not rubric.strip():
            raise ConfigurationError(
                f"JudgeScorer rubric={rubric!r} is not allowed: give the judge a non-empty "
                f"rubric, e.g. 'The answer is correct and explains why.'"
            )
        if scale is not None and not (
            len(scale) == 2
            and all(isinstance(v, (int, float)) for v in scale)
            and scale[0] < scale[1]
        ):
            raise ConfigurationError(
                f"JudgeScorer scale={scale!r} is not allowed: use (low, high) with low < high, "
                f"e.g. (1, 10), or None for pass/fail."
            )
        self._provider_spec = provider
        self._provider: Provider | None = provider if isinstance(provider, Provider) else None
        self.rubric = rubric
        if template is None:
            self.template = PromptTemplate(DEFAULT_JUDGE_TEMPLATE, name="judge")
        else:
            self.template = PromptTemplate.coerce(template)
        self.scale = (float(scale[0]), float(scale[1])) if scale is not None else None
        if isinstance(params, GenerationParams):
            self.params = params
        else:
            self.params = GenerationParams(
                **{"temperature": 0.0, "max_tokens": 512, **(params or {})}
            )
        self.name = name
        self.binary = scale is None

    @property
    def provider(self) -> Provider:
        """The judge's provider (built from its string on first use)."""
        if self._provider is None:
            from promptlab.providers.registry import provider as build_provider

            self._provider = build_provider(self._provider_spec)
        return self._provider

    def render(self, task: Any, result: StrategyResult) -> CompletionRequest:
        """The request the judge would receive for this cell."""
        inputs = (
            task.get("inputs", {}) if isinstance(task, Mapping) else getattr(task, "inputs", {})
        )
        inputs = dict(inputs or {})
        variables = {
            "rubric": self.rubric,
            "inputs": inputs,
            "question": inputs.get("question", ""),
            "expected": expected_answer(task),
            "response": reply_text(result),
            "answer": result.answer,
            "scale": self.scale,
        }
        return CompletionRequest(self.template.render(variables), self.params)

    async def score(self, task: Any, result: StrategyResult) -> Score:
        """Ask the judge; its full reply becomes the note.

        Raises:
            ProviderError: The judge call failed (the cell is then recorded as errored).
        """
        completion = await self.provider.complete(self.render(task, result))
        reasoning = completion.text
        value = parse_verdict(reasoning, self.scale)
        if value is None:
            wanted = (
                f"'Score: <number from {self.scale[0]} to {self.scale[1]}>'"
                if self.scale
                else "'Verdict: PASS' or 'Verdict: FAIL'"
            )
            return Score(
                math.nan, f"judge gave no readable verdict (wanted {wanted}); reply: {reasoning}"
            )
        return Score(value, reasoning)

    def __repr__(self) -> str:
        return f"JudgeScorer(name={self.name!r}, provider={self._provider_spec!r})"
