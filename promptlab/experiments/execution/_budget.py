"""A spending limit on a run: stop scheduling cells before the projected spend passes it.

Before a cell starts, its largest possible cost is projected by a dry run of that cell
(see :mod:`~promptlab.experiments.execution._estimate`: its calls, its prompt tokens, the
output bound from ``max_tokens``, at batch prices for batch-mode providers). The cell
starts only if what was already spent (the cost recorded in the run directory's cells,
cache hits excluded), plus what running cells may still cost, plus this projection stays
within the budget. Otherwise no new cell starts, running cells finish, and the reason is
written to ``stop.json`` in the run directory and printed; run again with a higher
budget to go on (finished cells are kept).

A budget needs every cost to be knowable: a provider without a price, or an arm without
``max_tokens`` on a provider with no default, is a
:class:`~promptlab.errors.ConfigurationError` unless ``allow_unknown_cost=True`` (then
those cells count as free towards the budget).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from promptlab.errors import ConfigurationError
from promptlab.experiments.execution._cell import Cell, iter_cells
from promptlab.experiments.execution._estimate import (
    DryRunProvider,
    EstimateRow,
    cost_range,
    dry_run_cell,
    token_counter,
)
from promptlab.experiments.store import CellRecord

if TYPE_CHECKING:
    from promptlab.experiments.experiment import Experiment


class Budget:
    """The spending limit of one run.

    Args:
        experiment: The experiment being run.
        max_cost_usd: The limit, in dollars, for the whole run directory.
        spent_usd: Already spent on the directory's recorded cells.
        batched: Providers priced at batch prices.
        allow_unknown_cost: Count cells of unknown cost as free instead of refusing.
    """

    def __init__(
        self,
        experiment: Experiment,
        max_cost_usd: float,
        spent_usd: float,
        batched: set[str],
        *,
        allow_unknown_cost: bool = False,
    ) -> None:
        if not isinstance(max_cost_usd, (int, float)) or not max_cost_usd >= 0:
            raise ConfigurationError(
                f"max_cost_usd={max_cost_usd!r} is not allowed: use dollars >= 0."
            )
        self.experiment = experiment
        self.limit = float(max_cost_usd)
        self.spent = spent_usd
        self.reserved = 0.0
        self.batched = batched
        self.allow_unknown = allow_unknown_cost
        self.stopped = False
        self.next_cost: float | None = None
        self._counters = {name: token_counter(p)[0] for name, p in experiment.providers.items()}

    async def check_known(self) -> None:
        """Refuse a budget over costs that cannot be known (unless allowed).

        Raises:
            ConfigurationError: Names each arm x provider whose cost is unknown and why.
        """
        if self.allow_unknown:
            return
        problems = []
        for name in self.experiment.providers:
            seen: set[str] = set()
            for cell in iter_cells(self.experiment, name, set()):
                if cell.arm_name in seen:
                    continue
                seen.add(cell.arm_name)
                low, high = await self._project(cell)
                if low is None:
                    problems.append(f"{cell.arm_name} on {name}: the provider has no price")
                elif high is None:
                    problems.append(
                        f"{cell.arm_name} on {name}: no max_tokens, so the output is unbounded"
                    )
                if len(seen) == len(self.experiment.arms):
                    break
        if problems:
            raise ConfigurationError(
                "max_cost_usd needs every cost to be knowable, but "
                + "; ".join(problems)
                + ". Register a price (register_price, or price= on the provider), set "
                "max_tokens in the arm's params, or pass allow_unknown_cost=True "
                "(--allow-unknown-cost) to count those cells as free."
            )

    async def reserve(self, cell: Cell) -> float | None:
        """The cell's projected cost, reserved; None when it would pass the budget."""
        if self.stopped:
            return None
        _, high = await self._project(cell)
        cost = high or 0.0
        if self.spent + self.reserved + cost > self.limit:
            self.stopped = True
            self.next_cost = cost
            return None
        self.reserved += cost
        return cost

    def settle(self, reserved: float, record: CellRecord) -> None:
        """A cell finished: release its reservation and count what it really cost."""
        self.reserved -= reserved
        if not record.cached and record.cost_usd is not None:
            self.spent += record.cost_usd

    async def _project(self, cell: Cell) -> tuple[float | None, float | None]:
        dry = DryRunProvider(cell.provider, self._counters[cell.provider_name])
        await dry_run_cell(cell, self.experiment, dry)
        row = EstimateRow(cell.arm_name, cell.provider_name, cells=1)
        row.calls, row.samples, row.input_tokens = dry.calls, dry.samples, dry.input_tokens
        row.max_output_tokens = dry.max_output_tokens
        return cost_range(cell.provider, row, batch=cell.provider_name in self.batched)

    def stop_reason(self, done: int, total: int) -> dict[str, object]:
        """What ``stop.json`` records when the budget stopped the run."""
        return {
            "reason": "budget",
            "max_cost_usd": self.limit,
            "spent_usd": round(self.spent, 6),
            "next_cell_usd_at_most": self.next_cost,
            "cells_done": done,
            "cells_total": total,
            "message": (
                f"Stopped before passing the budget of ${self.limit:.4f}: ${self.spent:.4f} "
                f"spent, the next cell could cost up to ${self.next_cost or 0:.4f}. "
                f"{done} of {total} cells are done; run again with a higher max_cost_usd "
                "(--max-cost) to go on."
            ),
        }
