"""The per arm x provider summary table behind :meth:`Run.summary`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from promptlab.experiments.stats import accuracy_summary, latency_percentiles, task_clusters

__all__ = ["SUMMARY_COLUMNS", "summarize_cells"]

SUMMARY_COLUMNS = [
    "arm",
    "provider",
    "model",
    "scorer",
    "accuracy",
    "ci_low",
    "ci_high",
    "ci_method",
    "n",
    "cells",
    "errors",
    "unscored",
    "truncated",
    "mean_tokens",
    "total_tokens",
    "cost_usd",
    "cost_per_task_usd",
    "latency_p50_s",
    "latency_p95_s",
    "calls",
    "cache_hits",
]


def summarize_cells(
    frame: pd.DataFrame,
    scorer: str,
    arms: list[str],
    providers: list[str],
    *,
    clusters: Mapping[str, str] | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per arm x provider that has cells, in the given arm and provider order.

    Columns: ``accuracy`` (mean score over tasks) with ``ci_low``/``ci_high`` and
    ``ci_method`` (``"wilson"`` or ``"t"``); ``n`` tasks scored; ``cells`` in total;
    ``errors`` (errored cells, left out of the accuracy); ``unscored`` (cells the scorer
    gave NaN); ``truncated`` (samples of successful cells cut off by the token limit: they
    have no answer unless they finished a final-answer line); ``mean_tokens`` per
    successful cell and ``total_tokens`` over all cells;
    ``cost_usd`` over successful cells (NaN if any is unknown) and ``cost_per_task_usd``;
    latency percentiles over successful, non-cached cells; ``calls``; ``cache_hits``.
    With ``clusters`` (task id -> cluster) the interval is a cluster bootstrap
    (``ci_method`` ``"cluster_bootstrap"``, seeded by ``seed``).
    """
    rows = []
    column = f"score_{scorer}"
    # Only the columns a row reads: each arm x provider group (and its successful cells)
    # is a copy, and copying the replies and answer lists too would cost the table again.
    frame = frame[[*_READ, column]]
    for arm in arms:
        for provider in providers:
            group = frame[(frame["arm"] == arm) & (frame["provider"] == provider)]
            if not group.empty:
                rows.append(_summary_row(group, arm, provider, scorer, column, clusters, seed))
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


#: The columns of the cells table a summary row reads (besides the score).
_READ = [
    "arm",
    "provider",
    "model",
    "task_id",
    "ok",
    "truncated",
    "total_tokens",
    "cost_usd",
    "latency_s",
    "calls",
    "cached",
]


def _summary_row(
    group: pd.DataFrame,
    arm: str,
    provider: str,
    scorer: str,
    column: str,
    clusters: Mapping[str, str] | None,
    seed: int,
) -> dict[str, Any]:
    ok = group[group["ok"]]
    # NaN or infinite scores are unscored: left out, and counted below.
    finite = pd.Series(np.isfinite(ok[column].to_numpy(dtype=float)), index=ok.index)
    per_task = ok.loc[finite].groupby("task_id")[column].mean()
    labels = None if clusters is None else task_clusters(list(per_task.index), clusters)
    summary = accuracy_summary(per_task.to_numpy(dtype=float), clusters=labels, seed=seed)
    costs = ok["cost_usd"]
    # One unknown price makes the total unknown; a partial sum would look like a real total.
    cost = math.nan if costs.isna().any() or ok.empty else float(costs.sum())
    timed = ok.loc[~ok["cached"].astype(bool), "latency_s"]
    latency = latency_percentiles(timed.to_numpy(dtype=float))
    models = [m for m in group["model"] if m]
    return {
        "arm": arm,
        "provider": provider,
        "model": models[0] if models else "",
        "scorer": scorer,
        "accuracy": summary.mean,
        "ci_low": summary.ci_low,
        "ci_high": summary.ci_high,
        "ci_method": summary.method,
        "n": summary.n,
        "cells": len(group),
        "errors": int((~group["ok"]).sum()),
        "unscored": int((~finite).sum()),
        "truncated": int(ok["truncated"].sum()),
        "mean_tokens": float(ok["total_tokens"].mean()) if not ok.empty else math.nan,
        "total_tokens": int(group["total_tokens"].sum()),
        "cost_usd": cost,
        "cost_per_task_usd": cost / len(ok) if not ok.empty else math.nan,
        "latency_p50_s": latency["p50"],
        "latency_p95_s": latency["p95"],
        "calls": int(group["calls"].sum()),
        "cache_hits": int(group["cached"].astype(bool).sum()),
    }
