"""Views on a run beyond the summary: Pareto front, model choice, disagreements, maj@k.

Each function takes a :class:`~promptlab.experiments.run.Run` and returns a DataFrame;
``Run`` exposes them as methods (``run.pareto()``, ``run.model_choice()``, ...).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd

from promptlab.answers import (
    AnswerExtractor,
    AutoAnswer,
    ChoiceAnswer,
    NumericAnswer,
    TextAnswer,
    YesNoAnswer,
    as_extractor,
)
from promptlab.errors import ConfigurationError
from promptlab.experiments.pareto import pareto_front
from promptlab.majority_accuracy import mean_majority_at_k_curve

if TYPE_CHECKING:
    from promptlab.experiments.run import Run

__all__ = [
    "disagreements_view",
    "majority_at_k_view",
    "model_choice_view",
    "pareto_view",
    "provider_setup",
]

# Setup per provider kind, keyed by the ``Provider.name`` that promptlab's providers give
# themselves (see ``providers/registry.py``); any other kind needs an API key.
_SETUP = {
    "local": "local, no key",
    "ollama": "local server, no key",
    "vllm": "local server, no key",
    "llama-server": "local server, no key",
    "fake": "test double, no key",
    "openai-compatible": "compatible server (key only if hosted)",
    "anthropic-compatible": "compatible server (key only if hosted)",
}


def provider_setup(kind: str) -> str:
    """How much setup a provider kind needs: ``"local, no key"``, ``"API key needed"``, ...

    Args:
        kind: The provider's kind, e.g. ``"local"``, ``"openai"`` (``Provider.name``).
    """
    return _SETUP.get(kind.lower(), "API key needed")


def pareto_view(run: Run, scorer: str | None = None) -> pd.DataFrame:
    """Accuracy vs cost per task for every arm x provider, with ``on_pareto_front``.

    A row with unknown cost is never on the front. Local models cost 0, so the best
    local arm is on the front unless a free arm beats it.
    """
    table = run.summary(scorer)[
        ["arm", "provider", "model", "accuracy", "ci_low", "ci_high", "cost_per_task_usd"]
    ].copy()
    table["on_pareto_front"] = pareto_front(table, "accuracy", "cost_per_task_usd")
    return table


def model_choice_view(run: Run, scorer: str | None = None) -> pd.DataFrame:
    """Choose a model by quality, cost and ease of use: one row per arm x provider.

    Columns: accuracy and its CI, ``cost_per_1k_tasks_usd`` (NaN when unknown),
    latency p50/p95 in seconds, ``setup`` (``"local, no key"``, ``"API key needed"``...)
    and ``on_pareto_front``; best accuracy first.
    """
    summary = run.summary(scorer)
    providers = run.experiment.get("providers") or {}
    table = summary[["arm", "provider", "model", "accuracy", "ci_low", "ci_high", "n"]].copy()
    table["cost_per_1k_tasks_usd"] = summary["cost_per_task_usd"] * 1000
    table["latency_p50_s"] = summary["latency_p50_s"]
    table["latency_p95_s"] = summary["latency_p95_s"]
    table["mean_tokens"] = summary["mean_tokens"]
    table["setup"] = [
        provider_setup(_provider_kind(providers.get(p), p)) for p in table["provider"]
    ]
    table["on_pareto_front"] = pareto_front(table, "accuracy", "cost_per_1k_tasks_usd")
    return table.sort_values("accuracy", ascending=False, kind="stable").reset_index(drop=True)


def _provider_kind(described: Any, name: str) -> str:
    if isinstance(described, dict):
        return str(described.get("provider") or name)
    if isinstance(described, str):
        return described.partition(":")[0]
    return name


def disagreements_view(
    run: Run, scorer: str | None = None, provider: str | None = None
) -> pd.DataFrame:
    """Tasks where the arms' answers or scores differ, one row per task x provider.

    Columns: ``provider, task_id, expected``, then per arm ``answer_<arm>``,
    ``score_<arm>`` and ``output_<arm>`` (the first reply). With repeats an arm's answer
    is its most common one and its score the mean. Errored cells are left out. Rows are
    in provider order, then task id order (``t2`` before ``t10``).
    """
    name = run.scorer_name(scorer)
    frame = run.cells
    frame = frame[frame["ok"]]
    providers = [provider] if provider is not None else run.providers
    arms = run.arms
    columns = ["provider", "task_id", "expected"]
    for arm in arms:
        columns += [f"answer_{arm}", f"score_{arm}", f"output_{arm}"]
    rows = []
    for prov in providers:
        subset = frame[frame["provider"] == prov]
        for task_id, task_rows in subset.groupby("task_id", sort=False):
            row: dict[str, Any] = {
                "provider": prov,
                "task_id": task_id,
                "expected": task_rows["expected"].iloc[0],
            }
            answers, scores = set(), set()
            for arm in arms:
                arm_rows = task_rows[task_rows["arm"] == arm]
                if arm_rows.empty:
                    continue
                answer = Counter(arm_rows["answer"]).most_common(1)[0][0]
                score = float(arm_rows[f"score_{name}"].mean())
                row.update(
                    {
                        f"answer_{arm}": answer,
                        f"score_{arm}": score,
                        f"output_{arm}": arm_rows["output"].iloc[0],
                    }
                )
                answers.add(answer)
                if not math.isnan(score):
                    scores.add(round(score, 9))
            if len(answers) > 1 or len(scores) > 1:
                rows.append(row)
    rows.sort(key=lambda r: (providers.index(r["provider"]), natural_key(str(r["task_id"]))))
    return pd.DataFrame(rows, columns=columns)


_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders ``"t2"`` before ``"t10"`` (digit runs compare as numbers)."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in _DIGITS.split(text))


_KINDS: dict[str, Callable[[], AnswerExtractor]] = {
    "NumericAnswer": NumericAnswer,
    "ChoiceAnswer": ChoiceAnswer,
    "YesNoAnswer": YesNoAnswer,
    "TextAnswer": TextAnswer,
    "AutoAnswer": AutoAnswer,
}


def majority_at_k_view(
    run: Run, arm: str, provider: str | None = None, *, normalize: Any = None
) -> pd.DataFrame:
    """Expected accuracy of a majority vote over k of each cell's samples, k = 1..N.

    Uses the exact estimator of :mod:`promptlab.majority_accuracy` over every k-subset of
    each cell's sample answers (no re-sampling), averaged over cells; N is the smallest
    pool, so with adaptive stopping (pools of different sizes) the curve stops there.

    Args:
        run: The run.
        arm: A self-consistency arm (its cells hold several samples).
        provider: One provider; default: every provider with samples for this arm.
        normalize: How to put the expected answer in the answers' canonical form: an
            extractor, a kind (``"numeric"``...), or ``fn(value) -> str``. Default: the
            arm's extractor from ``experiment.json``, else the first kind under which the
            sampled answers are already canonical.

    Returns:
        Columns ``provider, k, accuracy, cells``.
    """
    if arm not in run.arms:
        raise ConfigurationError(f"arm {arm!r} is not in this run; known arms: {run.arms}.")
    frame = run.cells
    frame = frame[frame["ok"] & (frame["arm"] == arm) & frame["expected"].notna()]
    frame = frame[frame["answers"].map(len) > 0]
    providers = [provider] if provider is not None else run.providers
    normalizer = _normalizer(run, arm, normalize, frame)
    rows = []
    for prov in providers:
        subset = frame[frame["provider"] == prov]
        pools = [
            (list(answers), normalizer(expected))
            for answers, expected in zip(subset["answers"], subset["expected"], strict=True)
        ]
        if not pools:
            continue
        curve = mean_majority_at_k_curve(pools)
        rows += [
            {"provider": prov, "k": k, "accuracy": value, "cells": len(pools)}
            for k, value in enumerate(curve, start=1)
        ]
    if not rows and provider is not None:
        raise ConfigurationError(
            f"arm {arm!r} has no successful cells with sampled answers on provider {provider!r}."
        )
    return pd.DataFrame(rows, columns=["provider", "k", "accuracy", "cells"])


def _normalizer(run: Run, arm: str, normalize: Any, frame: pd.DataFrame) -> Callable[[Any], str]:
    extractor: AnswerExtractor | None = None
    if isinstance(normalize, (str, AnswerExtractor)):
        extractor = as_extractor(normalize)
    elif callable(normalize):
        return lambda value: str(normalize(value))
    else:
        described = ((run.experiment.get("arms") or {}).get(arm) or {}).get("strategy") or {}
        kind = described.get("extractor") if isinstance(described, dict) else None
        extractor = _KINDS[kind]() if kind in _KINDS else _guess_extractor(frame)
    if extractor is None:
        return lambda value: str(value).strip()
    chosen = extractor
    return lambda value: chosen.normalize(value) or str(value).strip()


def _guess_extractor(frame: pd.DataFrame) -> AnswerExtractor | None:
    answers = {a for pool in frame["answers"] for a in pool if a is not None}
    expected = list(frame["expected"])
    for make in _KINDS.values():
        extractor = make()
        if all(extractor.normalize(a) == a for a in answers) and all(
            extractor.normalize(e) is not None for e in expected
        ):
            return extractor
    return None
