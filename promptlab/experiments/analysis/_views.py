"""Views on a run beyond the summary: Pareto front, model choice, disagreements, maj@k.

Each function takes the run's summary or its :class:`~promptlab.experiments.analysis.CellsTable`
(never the ``Run``) and returns a DataFrame; ``Run`` exposes them as methods
(``run.pareto()``, ``run.model_choice()``, ...).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from promptlab.answers import EXTRACTOR_KINDS, AnswerExtractor, as_extractor, expected_answer
from promptlab.errors import ConfigurationError
from promptlab.experiments.analysis._cells import CellsTable
from promptlab.experiments.stats import mean_majority_at_k_curve, pareto_front

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


def pareto_view(summary: pd.DataFrame) -> pd.DataFrame:
    """Accuracy vs cost per task for every arm x provider, with ``on_pareto_front``.

    ``summary`` is the run's summary (``Run.summary()``).

    A row with unknown cost is never on the front. Local models cost 0, so the best
    local arm is on the front unless a free arm beats it.
    """
    table = summary[
        ["arm", "provider", "model", "accuracy", "ci_low", "ci_high", "cost_per_task_usd"]
    ].copy()
    table["on_pareto_front"] = pareto_front(table, "accuracy", "cost_per_task_usd")
    return table


def model_choice_view(summary: pd.DataFrame, providers: Mapping[str, Any]) -> pd.DataFrame:
    """Choose a model by quality, cost and ease of use: one row per arm x provider.

    ``summary`` is the run's summary; ``providers`` the ``providers`` section of its
    ``experiment.json`` (provider name -> its description), which says each one's kind.

    Columns: accuracy and its CI, ``cost_per_1k_tasks_usd`` (NaN when unknown),
    latency p50/p95 in seconds, ``setup`` (``"local, no key"``, ``"API key needed"``...)
    and ``on_pareto_front``; best accuracy first.
    """
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


def disagreements_view(cells: CellsTable, scorer: str, provider: str | None = None) -> pd.DataFrame:
    """Tasks where the arms' answers or scores differ, one row per task x provider.

    Columns: ``provider, task_id, expected``, then per arm ``answer_<arm>``,
    ``score_<arm>`` and ``output_<arm>`` (the first reply). With repeats an arm's answer
    is its most common one and its score the mean. Errored cells are left out. Rows are
    in provider order, then task id order (``t2`` before ``t10``).
    """
    frame = cells.frame
    frame = frame[frame["ok"]]
    providers = [provider] if provider is not None else cells.providers
    arms = cells.arms
    columns = ["provider", "task_id", "expected"]
    for arm in arms:
        columns += [f"answer_{arm}", f"score_{arm}", f"output_{arm}"]
    # One pass over plain tuples: selecting rows per task from the frame took minutes on a
    # 10,000-cell run.
    groups: dict[tuple[Any, Any], dict[str, list[tuple[Any, float, Any, Any]]]] = {}
    picked = frame[
        ["provider", "task_id", "arm", "answer", f"score_{scorer}", "output", "expected"]
    ]
    for prov, task_id, arm, answer, score, output, expected in picked.itertuples(
        index=False, name=None
    ):
        if prov in providers:
            by_arm = groups.setdefault((prov, task_id), {})
            by_arm.setdefault(arm, []).append((answer, float(score), output, expected))
    rows = []
    for (prov, task_id), by_arm in groups.items():
        first = next(iter(by_arm.values()))[0]
        row: dict[str, Any] = {"provider": prov, "task_id": task_id, "expected": first[3]}
        answers, scores = set(), set()
        for arm in arms:
            cells_of_arm = by_arm.get(arm)
            if not cells_of_arm:
                continue
            answer = Counter(c[0] for c in cells_of_arm).most_common(1)[0][0]
            known = [c[1] for c in cells_of_arm if not math.isnan(c[1])]
            score = sum(known) / len(known) if known else math.nan
            row.update(
                {
                    f"answer_{arm}": answer,
                    f"score_{arm}": score,
                    f"output_{arm}": cells_of_arm[0][2],
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


def majority_at_k_view(
    cells: CellsTable,
    arm: str,
    provider: str | None = None,
    *,
    normalize: Any = None,
    strategy: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Expected accuracy of a majority vote over k of each cell's samples, k = 1..N.

    Uses the exact estimator of :mod:`promptlab.experiments.stats` over every k-subset of
    each cell's sample answers (no re-sampling), averaged over cells; N is the smallest
    pool, so with adaptive stopping (pools of different sizes) the curve stops there.

    Args:
        cells: The run's cells table.
        arm: A self-consistency arm (its cells hold several samples).
        provider: One provider; default: every provider with samples for this arm.
        normalize: How to put the expected answer in the answers' canonical form: an
            extractor, a kind (``"numeric"``...), or ``fn(value) -> str``. Default: the
            canonical expected answer each cell recorded with the arm's extractor.
        strategy: The arm's strategy as described in ``experiment.json``, if known.

    Returns:
        Columns ``provider, k, accuracy, cells``.
    """
    if arm not in cells.arms:
        raise ConfigurationError(f"arm {arm!r} is not in this run; known arms: {cells.arms}.")
    frame = cells.frame
    frame = frame[frame["ok"] & (frame["arm"] == arm) & frame["expected"].notna()]
    frame = frame[frame["answers"].map(len) > 0]
    providers = [provider] if provider is not None else cells.providers
    normalizer = _normalizer(strategy, normalize)
    rows = []
    for prov in providers:
        subset = frame[frame["provider"] == prov]
        pools = [
            (list(answers), normalizer(expected, stored))
            for answers, expected, stored in zip(
                subset["answers"], subset["expected"], subset["expected_answer"], strict=True
            )
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


def _normalizer(described: Mapping[str, Any] | None, normalize: Any) -> Callable[[Any, Any], str]:
    """``fn(expected, expected_answer) -> str``: the expected answer as sampled answers read."""
    if isinstance(normalize, (str, AnswerExtractor)):
        chosen = as_extractor(normalize)
        return lambda value, _stored: expected_answer(chosen, value) or ""
    if callable(normalize):
        return lambda value, _stored: str(normalize(value))
    # Records store the expected answer in the arm's canonical form (``expected_answer``).
    # Records written before that field existed fall back to the extractor that
    # experiment.json names for the arm when it is a built-in kind (the one table,
    # EXTRACTOR_KINDS; that is how such runs were read before), else to the value as text.
    kind = _legacy_kind(described)
    fallback = as_extractor(kind) if kind is not None else None

    def expected(value: Any, stored: Any) -> str:
        if isinstance(stored, str):
            return stored
        if fallback is not None:
            return expected_answer(fallback, value) or ""
        return str(value).strip()

    return expected


def _legacy_kind(described: Mapping[str, Any] | None) -> str | None:
    """The built-in kind of the extractor experiment.json names (a class name), if any."""
    name = described.get("extractor") if isinstance(described, Mapping) else None
    return next(
        (kind for kind, make in EXTRACTOR_KINDS.items() if getattr(make, "__name__", "") == name),
        None,
    )
