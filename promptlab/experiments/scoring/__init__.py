"""Scorers: the :class:`Scorer` contract, the built-in scorers, and scoring one cell.

A scorer turns a task and a strategy's result into a :class:`Score`.
:func:`score_result` runs every scorer of an experiment on one cell, independently.
Building scorers from specs (``"numeric"``, ``{type: regex, ...}``) is
:func:`promptlab.experiments.config.scorer_from_spec`.
"""

from promptlab.experiments.scoring._judge import DEFAULT_JUDGE_TEMPLATE, JudgeScorer, parse_verdict
from promptlab.experiments.scoring._match import (
    ChoiceMatch,
    Contains,
    ExactMatch,
    NormalizedMatch,
    NumericMatch,
    Target,
    check_target,
    expected_answer,
    reply_text,
)
from promptlab.experiments.scoring._perplexity import (
    NO_LOGPROBS_NOTE,
    Perplexity,
    response_perplexity,
)
from promptlab.experiments.scoring._reference_perplexity import ReferencePerplexity
from promptlab.experiments.scoring._reply import JsonValid, RegexMatch
from promptlab.experiments.scoring._retrieval import (
    DEFAULT_GOLD_FIELD,
    MeanReciprocalRank,
    RecallAtK,
    gold_ids,
)
from promptlab.experiments.scoring._scorer import CallableScorer, Score, Scorer, score_result

__all__ = [
    "DEFAULT_GOLD_FIELD",
    "DEFAULT_JUDGE_TEMPLATE",
    "NO_LOGPROBS_NOTE",
    "CallableScorer",
    "ChoiceMatch",
    "Contains",
    "ExactMatch",
    "JsonValid",
    "JudgeScorer",
    "MeanReciprocalRank",
    "NormalizedMatch",
    "NumericMatch",
    "Perplexity",
    "RecallAtK",
    "ReferencePerplexity",
    "RegexMatch",
    "Score",
    "Scorer",
    "Target",
    "check_target",
    "expected_answer",
    "gold_ids",
    "parse_verdict",
    "reply_text",
    "response_perplexity",
    "score_result",
]
