"""``Run.plot``: a run's figures, drawn from its own tables (pandas' ``df.plot`` for a run).

Each method gathers the table it needs through the run's public methods and hands it to one
function of :mod:`promptlab.experiments.plots`; the reports call these same methods.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from promptlab.errors import ConfigurationError
from promptlab.experiments.stats import pareto_front

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from promptlab.experiments.analysis._comparisons import By
    from promptlab.experiments.analysis._run import Run

__all__ = ["RunPlots"]


class RunPlots:
    """The plots of one run: ``run.plot.accuracy()``, ``run.plot.comparisons()``, ...

    Every method returns a matplotlib :class:`~matplotlib.figure.Figure` (it shows inline
    as a notebook cell's value, and saves with ``figure.savefig("name.png")``) and takes
    ``ax=`` to draw on axes of your own, e.g. one panel of a grid.

    Example:
        >>> run = Run.load("runs/demo")                                  # doctest: +SKIP
        >>> run.plot.accuracy()                                          # doctest: +SKIP
        >>> run.plot.comparisons().savefig("differences.png")            # doctest: +SKIP
    """

    def __init__(self, run: Run) -> None:
        self._run = run

    def __repr__(self) -> str:
        return (
            "run.plot: accuracy(), comparisons(), cost(), vote_shares(), majority_at_k(), "
            "latency(); each returns a matplotlib Figure and takes ax="
        )

    def accuracy(self, scorer: str | None = None, *, ax: Axes | None = None) -> Figure:
        """Accuracy per arm x provider with its 95% interval (:meth:`Run.summary`)."""
        from promptlab.experiments.plots import accuracy_figure

        name = self._run.scorer_name(scorer)
        return accuracy_figure(self._run.summary(name), name, ax=ax)

    def comparisons(
        self,
        *,
        by: By = "arm",
        baseline: str | None = None,
        scorer: str | None = None,
        alpha: float = 0.05,
        ax: Axes | None = None,
    ) -> Figure:
        """A forest plot of :meth:`Run.compare_all`: each paired difference with its interval.

        Comparisons whose Holm-adjusted p-value is at most ``alpha`` are marked.

        Raises:
            ConfigurationError: The run has fewer than two arms (or providers, with
                ``by="provider"``) to compare.
        """
        from promptlab.experiments.plots import forest_figure

        name = self._run.scorer_name(scorer)
        known = self._run.arms if by == "arm" else self._run.providers
        if by in ("arm", "provider") and len(known) < 2:
            raise ConfigurationError(f"comparisons by={by!r} need two {by}s; this run has {known}.")
        table = self._run.compare_all(by=by, baseline=baseline, scorer=name, alpha=alpha)
        return forest_figure(table, name, alpha=alpha, ax=ax)

    def cost(self, scorer: str | None = None, *, x: str = "auto", ax: Axes | None = None) -> Figure:
        """Cost (or tokens) per task against accuracy, with the Pareto front marked.

        Args:
            scorer: Which score; default: the first scorer.
            x: ``"cost"`` (dollars per task), ``"tokens"`` (mean tokens per cell), or
                ``"auto"``: tokens when every known cost is $0 (local models), else cost.
            ax: Draw on these axes instead of a new figure.

        Raises:
            ConfigurationError: ``x`` is not one of the three.
        """
        from promptlab.experiments.plots import cost_figure

        if x not in ("auto", "cost", "tokens"):
            raise ConfigurationError(f"x={x!r} is not allowed: use 'auto', 'cost' or 'tokens'.")
        name = self._run.scorer_name(scorer)
        table = self._run.pareto(name)
        costs = table["cost_per_task_usd"].dropna()
        free = len(costs) > 0 and bool((costs == 0).all())
        if x == "tokens" or (x == "auto" and free):
            table["tokens_per_task"] = self._run.summary(name)["mean_tokens"].to_numpy()
            table["on_pareto_front"] = pareto_front(table, "accuracy", "tokens_per_task")
            label = "tokens per task" + (" (every arm is free)" if free else "")
            return cost_figure(table, "tokens_per_task", label, ax=ax)
        return cost_figure(table, ax=ax)

    def vote_shares(self, *, ax: Axes | None = None) -> Figure:
        """Histogram of the winning answer's vote share per self-consistency arm.

        Raises:
            ConfigurationError: No arm of the run votes over several samples.
        """
        from promptlab.experiments.plots import vote_share_figure

        return vote_share_figure(
            {label: cells["confidence"].tolist() for label, cells in self._voting_cells()},
            ax=ax,
        )

    def majority_at_k(self, *, ax: Axes | None = None) -> Figure:
        """Expected accuracy of a majority vote over k samples, k = 1..n, per voting arm.

        Raises:
            ConfigurationError: No arm votes over several samples, or none of their tasks
                has an expected answer.
        """
        from promptlab.experiments.plots import majority_at_k_figure

        return majority_at_k_figure(self.majority_at_k_curves(), ax=ax)

    def majority_at_k_curves(self) -> dict[str, pd.DataFrame]:
        """Label -> :meth:`Run.majority_at_k` of every voting arm x provider with a curve.

        Raises:
            ConfigurationError: As :meth:`majority_at_k`.
        """
        curves = {}
        for label, cells in self._voting_cells():
            if cells["expected"].isna().all():
                continue  # maj@k needs expected answers
            arm, provider = cells["arm"].iloc[0], cells["provider"].iloc[0]
            curve = self._run.majority_at_k(arm, provider)
            if not curve.empty:
                curves[label] = curve
        if not curves:
            raise ConfigurationError(
                "no maj@k curve: the self-consistency arms' tasks have no expected answers."
            )
        return curves

    def latency(self, *, ax: Axes | None = None) -> Figure:
        """Each arm x provider's latency per cell, cache hits and errored cells left out."""
        from promptlab.experiments.plots import latency_figure, pair_label

        frame = self._run.cells
        measured = frame["ok"] & ~frame["cached"]
        latencies = {}
        for arm in self._run.arms:
            for provider in self._run.providers:
                here = (frame["arm"] == arm) & (frame["provider"] == provider)
                if here.any():
                    label = pair_label(arm, provider, len(self._run.providers))
                    latencies[label] = frame.loc[here & measured, "latency_s"].tolist()
        return latency_figure(latencies, left_out=int((~measured).sum()), ax=ax)

    def _voting_cells(self) -> list[tuple[str, pd.DataFrame]]:
        """``(label, successful cells)`` of every self-consistency arm x provider."""
        from promptlab.experiments.plots import pair_label

        arms = self._run.self_consistency_arms()
        if not arms:
            raise ConfigurationError(
                "no arm of this run votes over several samples (self-consistency); "
                f"its arms are {self._run.arms}."
            )
        frame = self._run.cells
        frame = frame[frame["ok"]]
        found = []
        for arm in arms:
            for provider in self._run.providers:
                cells = frame[(frame["arm"] == arm) & (frame["provider"] == provider)]
                if not cells.empty:
                    found.append((pair_label(arm, provider, len(self._run.providers)), cells))
        return found
