"""Building scorers from specs, as written in experiment files and ``Experiment(scorers=...)``.

A spec is a type name (``"numeric"``) or a mapping (``{type: numeric, tolerance: 0.01}``).
Known types and their fields (every type also takes ``name``):

==========================  ===========================================================
``exact``                   ``target``
``normalized``              ``target``
``numeric``                 ``tolerance``, ``relative_tolerance``, ``target``
``contains``                ``value``, ``case_sensitive``, ``target``
``regex``                   ``pattern`` (required), ``mode``, ``ignore_case``, ``target``
``choice``                  ``letters``, ``target``
``json_valid``              ``strip_fences``, ``target``
``perplexity``              (none); the model's own sampled reply
``reference_perplexity``    ``metric``, ``reference``, ``context``, ``provider``,
                            ``rolling``, ``context_size``, ``stride``; a given reference text
``llm_judge``               ``provider`` (required), ``rubric`` (required), ``template``,
                            ``scale``, ``params``
``recall_at_k``             ``k``, ``gold_field``; retrieval recall against gold passage ids
``mrr``                     ``gold_field``; reciprocal rank of the first gold passage
==========================  ===========================================================

Example:
    >>> scorer_from_spec({"type": "numeric", "tolerance": 0.01}).tolerance
    0.01
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from promptlab.errors import ConfigurationError
from promptlab.experiments.scoring import (
    ChoiceMatch,
    Contains,
    ExactMatch,
    JsonValid,
    JudgeScorer,
    MeanReciprocalRank,
    NormalizedMatch,
    NumericMatch,
    Perplexity,
    RecallAtK,
    ReferencePerplexity,
    RegexMatch,
    Scorer,
)

__all__ = ["SCORER_TYPES", "scorer_from_spec"]


def _regex(pattern: str, *, ignore_case: bool = False, **fields: Any) -> Scorer:
    return RegexMatch(pattern, flags=re.IGNORECASE if ignore_case else 0, **fields)


def _judge(**fields: Any) -> Scorer:
    if "scale" in fields and fields["scale"] is not None:
        fields["scale"] = tuple(fields["scale"])
    return JudgeScorer(**fields)


#: type -> (factory, allowed fields, required fields).
SCORER_TYPES: dict[str, tuple[Callable[..., Scorer], frozenset[str], frozenset[str]]] = {
    "exact": (ExactMatch, frozenset({"name", "target"}), frozenset()),
    "normalized": (NormalizedMatch, frozenset({"name", "target"}), frozenset()),
    "numeric": (
        NumericMatch,
        frozenset({"name", "target", "tolerance", "relative_tolerance"}),
        frozenset(),
    ),
    "contains": (
        Contains,
        frozenset({"name", "target", "value", "case_sensitive"}),
        frozenset(),
    ),
    "regex": (
        _regex,
        frozenset({"name", "target", "pattern", "mode", "ignore_case"}),
        frozenset({"pattern"}),
    ),
    "choice": (ChoiceMatch, frozenset({"name", "target", "letters"}), frozenset()),
    "json_valid": (JsonValid, frozenset({"name", "target", "strip_fences"}), frozenset()),
    "perplexity": (Perplexity, frozenset({"name"}), frozenset()),
    "reference_perplexity": (
        ReferencePerplexity,
        frozenset(
            {"name", "metric", "reference", "context", "provider", "rolling"}
            | {"context_size", "stride"}
        ),
        frozenset(),
    ),
    "llm_judge": (
        _judge,
        frozenset({"name", "provider", "rubric", "template", "scale", "params"}),
        frozenset({"provider", "rubric"}),
    ),
    "recall_at_k": (RecallAtK, frozenset({"name", "k", "gold_field"}), frozenset()),
    "mrr": (MeanReciprocalRank, frozenset({"name", "gold_field"}), frozenset()),
}

# Spellings people reach for; they map to the canonical type names above.
_ALIASES = {
    "normalised": "normalized",
    "judge": "llm_judge",
    "json": "json_valid",
    "recall": "recall_at_k",
    "recall@k": "recall_at_k",
    "reciprocal_rank": "mrr",
}


def scorer_from_spec(spec: str | Mapping[str, Any] | Scorer) -> Scorer:
    """Build a scorer from a type name or a mapping with ``type`` and its fields.

    A ready scorer object is returned unchanged.

    Args:
        spec: ``"numeric"``, ``{"type": "regex", "pattern": "^\\\\d+$"}``,
            ``{"type": "llm_judge", "provider": "local", "rubric": "..."}``, ...

    Returns:
        The scorer.

    Raises:
        ConfigurationError: Unknown type, unknown or missing field, or a bad value; the
            message lists what is allowed.
    """
    if isinstance(spec, Scorer) and not isinstance(spec, (str, Mapping)):
        return spec
    if isinstance(spec, str):
        kind, fields = spec, {}
    elif isinstance(spec, Mapping):
        if "type" not in spec:
            raise ConfigurationError(
                f"Scorer spec {dict(spec)!r} has no 'type' field. Write e.g. "
                f"{{type: numeric, tolerance: 0.01}}; known types: {_known()}."
            )
        kind = spec["type"]
        fields = {k: v for k, v in spec.items() if k != "type"}
    else:
        raise ConfigurationError(
            f"Scorer spec {spec!r} ({type(spec).__name__}) is not allowed: use a type name "
            f"such as 'numeric' or a mapping with 'type' and its fields. Known types: {_known()}."
        )
    if not isinstance(kind, str):
        raise ConfigurationError(f"Scorer type={kind!r} must be a string; known types: {_known()}.")
    canonical = _ALIASES.get(kind.strip().lower(), kind.strip().lower())
    if canonical not in SCORER_TYPES:
        raise ConfigurationError(
            f"Unknown scorer type {kind!r}. Known types: {_known()}. For your own scoring "
            f"function use CallableScorer from Python."
        )
    factory, allowed, required = SCORER_TYPES[canonical]
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise ConfigurationError(
            f"Scorer type {canonical!r} does not take the field(s) {unknown}; allowed fields: "
            f"{sorted(allowed)}."
        )
    missing = sorted(required - set(fields))
    if missing:
        raise ConfigurationError(
            f"Scorer type {canonical!r} needs the field(s) {missing}; allowed fields: "
            f"{sorted(allowed)}."
        )
    try:
        return factory(**fields)
    except ConfigurationError:
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(
            f"Scorer type {canonical!r} could not be built from {fields!r}: {exc}."
        ) from exc


def _known() -> str:
    return ", ".join(SCORER_TYPES)
