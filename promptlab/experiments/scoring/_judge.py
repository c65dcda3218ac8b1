"""LLM-as-judge: another model grades each reply against a rubric.

The judge prompt is a promptlab :class:`~promptlab.templating.template.PromptTemplate`
(chat blocks) and goes through any promptlab provider, so a local model, a hosted one or
a :class:`~promptlab.testing.FakeProvider` can judge. The judge is asked to reason first
and end with a structured verdict, a JSON object such as ``{"verdict": "PASS"}`` (or
``{"score": 4}`` on a scale); its whole reply is stored as the score's note, so every
grade can be audited. promptlab's providers have no JSON-output mode to switch on, so
the structure is asked for in the prompt, and :func:`parse_verdict` reads the JSON object
first and falls back to the written forms judges actually produce:

* pass/fail: ``Verdict: PASS``, ``**Verdict**: PASS``, ``**Verdict:** PASS``,
  ``Verdict - PASS``, ``Final verdict: **FAIL**``, ``PASSED``/``FAILED``, a bare
  ``PASS`` on the last line; ``yes``/``no`` and ``correct``/``incorrect`` are accepted;
* scale ``(low, high)``: ``Score: 4``, ``**Score**: 4``, ``Score: 4/5`` and
  ``Score: 4 out of 5``. A number "out of" something else than ``high`` (``4/10`` on a
  1-5 scale) or outside the range is not a verdict.

The judge's **own final** verdict counts: the last one, leaving out verdicts inside a
quoted example (a ``>`` quote, a fenced code block, or in quotation marks or backticks).
A reply without a readable verdict scores NaN with a note holding the reply: the cell
stays in the run, its other scores still count, and it shows in the summary's
``unscored`` count and in a warning naming how many and one example. A failed judge call
also leaves NaN with a note (see :func:`~promptlab.experiments.scoring.score_result`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from promptlab.completion import CompletionRequest
from promptlab.errors import ConfigurationError
from promptlab.experiments.scoring._match import expected_answer, reply_text
from promptlab.experiments.scoring._scorer import Score
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

Explain your reasoning briefly, then end with one final line holding only a JSON object:
{% if scale %}{"score": <a number from {{ scale[0] }} to {{ scale[1] }}>}{% else %}\
{"verdict": "PASS"} or {"verdict": "FAIL"}{% endif %}
{% enduser %}
"""

_OUTCOMES = r"(passed|pass|failed|fail|yes|no|incorrect|correct)"
_VERDICT = re.compile(r"\bverdict(?:\s+is)?[^\w\n]{1,8}" + _OUTCOMES + r"\b", re.IGNORECASE)
_BARE_VERDICT = re.compile(r"^[^\w\"'`“”]*(passed|pass|failed|fail|incorrect|correct)\W*$", re.I)
_NUMBER = r"(-?\d+(?:\.\d+)?)"
_SCORE = re.compile(
    r"\bscore(?:\s+is)?[\s*_:=–—-]{1,8}?" + _NUMBER + r"(?:\s*(?:/|out\s+of)\s*" + _NUMBER + ")?",
    re.IGNORECASE,
)
_PASSING = {"pass", "passed", "yes", "correct", "true"}
_FAILING = {"fail", "failed", "no", "incorrect", "false"}
_FENCE = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)
_JSON_OBJECT = re.compile(r"\{[^{}]*\}")


def parse_verdict(reply: str, scale: tuple[float, float] | None = None) -> float | None:
    """Read the judge's verdict from its reply: 1.0/0.0, a number on the scale, or None.

    A JSON object with ``"verdict"`` (or ``"score"``) is read first (the last one, fenced
    or not); otherwise the written forms listed in this module's docstring, the last one
    outside quoted examples.

    Args:
        reply: The judge's full reply.
        scale: ``(low, high)`` for graded verdicts; None for pass/fail.

    Returns:
        The score, or None when no verdict (or a number outside the scale) was found.

    Example:
        >>> parse_verdict("The answer is right.\\nVerdict: PASS")
        1.0
        >>> parse_verdict('Close, but one step is wrong.\\n{"score": 3}', scale=(1, 5))
        3.0
    """
    structured = _from_json(reply, scale)
    if structured is not None:
        return structured
    text = _unquoted_text(reply)
    if scale is not None:
        scores = _unquoted_matches(_SCORE, text)
        if not scores:
            return None
        value, out_of = scores[-1].group(1), scores[-1].group(2)
        return _on_scale(float(value), None if out_of is None else float(out_of), scale)
    words = [match.group(1) for match in _unquoted_matches(_VERDICT, text)]
    if not words:
        # A judge that ends with a bare "PASS" line still said what it meant.
        lines = [line for line in text.strip().splitlines() if line.strip()]
        bare = _BARE_VERDICT.match(lines[-1]) if lines else None
        if bare is None:
            return None
        words = [bare.group(1)]
    return 1.0 if words[-1].lower() in _PASSING else 0.0


def _on_scale(value: float, out_of: float | None, scale: tuple[float, float]) -> float | None:
    if out_of is not None and out_of != scale[1]:
        return None  # "4/10" on a 1-5 scale: another scale, not ours
    return value if scale[0] <= value <= scale[1] else None


def _from_json(reply: str, scale: tuple[float, float] | None) -> float | None:
    """The verdict of the last JSON object in the reply that holds one, else None."""
    key = "score" if scale is not None else "verdict"
    # A fenced ```json block is the answer asked for; a ">" quoted or in-quotes one is not.
    unquoted = "\n".join(line for line in reply.splitlines() if not line.lstrip().startswith(">"))
    for match in reversed(_unquoted_matches(_JSON_OBJECT, unquoted)):
        try:
            data = json.loads(match.group(0))
        except ValueError:
            continue
        if not isinstance(data, dict):
            continue
        fields = {str(k).strip().lower(): v for k, v in data.items()}
        if key not in fields:
            continue
        value = fields[key]
        if scale is not None:
            if isinstance(value, bool):
                return None
            if isinstance(value, (int, float)):
                return _on_scale(float(value), None, scale)
            return parse_verdict(f"Score: {value}", scale) if isinstance(value, str) else None
        if isinstance(value, bool):
            return 1.0 if value else 0.0
        word = str(value).strip().strip("*").lower()
        if word in _PASSING:
            return 1.0
        if word in _FAILING:
            return 0.0
        return None
    return None


def _unquoted_text(reply: str) -> str:
    """The reply without fenced code blocks and ``>`` quoted lines (quoted examples)."""
    text = _FENCE.sub("\n", reply)
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(">"))


def _unquoted_matches(pattern: re.Pattern[str], text: str) -> list[re.Match[str]]:
    """Matches not inside quotation marks or backticks on their line."""
    found = []
    for match in pattern.finditer(text):
        line_start = text.rfind("\n", 0, match.start()) + 1
        before = text[line_start : match.start()]
        quoted = (
            before.count('"') % 2 == 1
            or before.count("`") % 2 == 1
            or before.count("“") > before.count("”")
        )
        if not quoted:
            found.append(match)
    return found


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

        A reply without a readable verdict scores NaN with a note that says so and holds
        the reply.

        Raises:
            ProviderError: The judge call failed (in an experiment the judge's score for
                the cell is then NaN with the error as its note; other scores stand).
        """
        completion = await self.provider.complete(self.render(task, result))
        reasoning = completion.text
        value = parse_verdict(reasoning, self.scale)
        if value is None:
            wanted = (
                f'{{"score": <number from {self.scale[0]:g} to {self.scale[1]:g}>}} or '
                f"'Score: <number>' on that scale"
                if self.scale
                else '{"verdict": "PASS"}, {"verdict": "FAIL"} or a line \'Verdict: PASS\''
            )
            return Score(
                math.nan, f"judge gave no readable verdict (wanted {wanted}); reply: {reasoning}"
            )
        return Score(value, reasoning)

    def __repr__(self) -> str:
        return f"JudgeScorer(name={self.name!r}, provider={self._provider_spec!r})"
