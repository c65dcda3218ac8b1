"""Pareto front of arms by quality (higher is better) and cost (lower is better).

An arm is *dominated* when another arm is at least as good on both axes and strictly
better on at least one. The front is every arm that is not dominated: the only arms worth
choosing, whatever price you put on quality.

Ties: rows with exactly the same quality and cost do not dominate each other, so all of
them are on the front (or all off it). A row with equal quality but lower cost dominates,
and so does a row with equal cost but higher quality.

Missing values: a row whose quality or cost is NaN (e.g. a local model with unknown
price) is never on the front and never dominates anything, but it keeps its place in the
output, marked False.

Example:
    >>> import pandas as pd
    >>> arms = pd.DataFrame({"accuracy": [0.8, 0.7, 0.9], "cost": [1.0, 2.0, 3.0]})
    >>> pareto_front(arms, "accuracy", "cost").tolist()
    [True, False, True]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from promptlab.experiments.stats._accuracy import StatisticsInputError

__all__ = ["pareto_front"]


def pareto_front(df: pd.DataFrame, quality_col: str, cost_col: str) -> pd.Series:
    """Mark the rows on the quality/cost Pareto front.

    Compares every pair of rows (O(n²) memory and time), which is instant for the
    hundreds of arms an experiment has.

    Args:
        df: One row per arm (or arm x provider).
        quality_col: Numeric column where higher is better, e.g. accuracy.
        cost_col: Numeric column where lower is better, e.g. dollars or seconds per task.

    Returns:
        A boolean Series named ``"on_pareto_front"`` with ``df``'s index: True for rows
        no other row dominates, False for dominated rows and rows with a NaN value.

    Raises:
        StatisticsInputError: A column is missing or not numeric.
    """
    if not isinstance(df, pd.DataFrame):
        raise StatisticsInputError(f"df must be a pandas DataFrame; got {type(df).__name__}.")
    columns = {"quality_col": quality_col, "cost_col": cost_col}
    values = {}
    for field, column in columns.items():
        if column not in df.columns:
            raise StatisticsInputError(
                f"{field}={column!r} is not a column of the table; available columns: "
                f"{list(df.columns)}."
            )
        if not (pd.api.types.is_numeric_dtype(df[column]) or df[column].isna().all()):
            raise StatisticsInputError(
                f"{field}={column!r} has dtype {df[column].dtype}, not numbers. "
                f"Convert it with pd.to_numeric() first."
            )
        values[field] = df[column].to_numpy(dtype=np.float64, na_value=np.nan)
    quality, cost = values["quality_col"], values["cost_col"]
    known = ~(np.isnan(quality) | np.isnan(cost))
    q, c = quality[known], cost[known]
    # better_or_equal[j, i]: row j is at least as good as row i on both axes.
    better_or_equal = (q[:, None] >= q[None, :]) & (c[:, None] <= c[None, :])
    strictly_better = (q[:, None] > q[None, :]) | (c[:, None] < c[None, :])
    dominated = (better_or_equal & strictly_better).any(axis=0)
    on_front = np.zeros(len(df), dtype=bool)
    on_front[np.flatnonzero(known)] = ~dominated
    return pd.Series(on_front, index=df.index, name="on_pareto_front")
