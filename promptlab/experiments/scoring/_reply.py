"""Scorers that check the reply's form: a regular expression, or valid JSON.

They read the reply text by default (for self-consistency, the first sample whose answer
won the vote); ``target="answer"`` makes them read the extracted final answer instead.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from promptlab.errors import ConfigurationError
from promptlab.experiments.scoring._match import NO_ANSWER, Target, check_target, target_text
from promptlab.experiments.scoring._scorer import Score
from promptlab.strategies.base import StrategyResult

__all__ = ["JsonValid", "RegexMatch"]


class RegexMatch:
    """The reply (or the answer) matches a regular expression.

    Args:
        pattern: The regular expression.
        mode: ``"search"`` (anywhere, default) or ``"fullmatch"`` (the whole text, after
            stripping outer whitespace).
        flags: ``re`` flags, e.g. ``re.IGNORECASE``.
        name: Score name (default ``"regex"``).
        target: ``"text"`` (default, the reply) or ``"answer"``.
    """

    binary = True

    def __init__(
        self,
        pattern: str,
        *,
        mode: Literal["search", "fullmatch"] = "search",
        flags: int = 0,
        name: str = "regex",
        target: Target = "text",
    ) -> None:
        check_target(target)
        if mode not in ("search", "fullmatch"):
            raise ConfigurationError(
                f"RegexMatch mode={mode!r} is not allowed: use 'search' or 'fullmatch'."
            )
        try:
            self.pattern = re.compile(pattern, flags)
        except re.error as exc:
            raise ConfigurationError(
                f"RegexMatch pattern={pattern!r} is not a valid regular expression: {exc}."
            ) from exc
        self.mode = mode
        self.name = name
        self.target = target

    async def score(self, task: Any, result: StrategyResult) -> Score:
        """1.0 if the pattern matches, else 0.0 (0.0 too when there is no answer)."""
        text = target_text(result, self.target)
        if text is None:
            return Score(0.0, NO_ANSWER)
        if self.mode == "fullmatch":
            return Score(1.0 if self.pattern.fullmatch(text.strip()) else 0.0)
        return Score(1.0 if self.pattern.search(text) else 0.0)


_FENCE = re.compile(r"^```[\w-]*\s*\n(.*?)\n?```$", re.DOTALL)


class JsonValid:
    """The reply is valid JSON.

    Args:
        strip_fences: Accept JSON wrapped in one Markdown code fence (```json ... ```),
            as chat models often write it (default: yes).
        name: Score name (default ``"json_valid"``).
        target: ``"text"`` (default, the reply) or ``"answer"``.
    """

    binary = True

    def __init__(
        self, *, strip_fences: bool = True, name: str = "json_valid", target: Target = "text"
    ) -> None:
        check_target(target)
        self.strip_fences = strip_fences
        self.name = name
        self.target = target

    async def score(self, task: Any, result: StrategyResult) -> Score:
        """1.0 if the text parses as JSON; the note gives the parser's complaint otherwise."""
        text = target_text(result, self.target)
        if text is None:
            return Score(0.0, NO_ANSWER)
        text = text.strip()
        fenced = _FENCE.match(text) if self.strip_fences else None
        if fenced:
            text = fenced.group(1)
        try:
            json.loads(text)
        except ValueError as exc:
            return Score(0.0, f"invalid JSON: {exc}")
        return Score(1.0)
