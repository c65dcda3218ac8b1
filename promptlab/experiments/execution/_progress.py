"""The run's progress bar: cells done of total, ETA, errors so far and cost so far.

It draws only on a terminal or in a notebook, so logs and pipes stay clean. Counters are
updated on every cell but the bar is redrawn at most a few times a second, so a run of
thousands of instant (cached) cells is not slowed down by drawing.
"""

from __future__ import annotations

import time
from typing import Any

from promptlab.experiments.store import CellRecord

_REDRAW_EVERY_S = 0.2


class RunProgress:
    """Counts finished cells and shows them with ``rich.progress``.

    Args:
        total: Cells in the experiment.
        already_done: Cells finished by earlier runs of the same directory.
        enabled: False hides the bar; True shows it when the console can show it.
        description: Label in front of the bar.
    """

    def __init__(
        self, total: int, already_done: int, *, enabled: bool = True, description: str = "cells"
    ) -> None:
        self.total = total
        self.done = already_done
        self.skipped = already_done
        self.errors = 0
        self.calls = 0
        self.cached = 0
        self.cost_usd = 0.0
        self.cost_known = True
        self._last_draw = 0.0
        self._progress: Any = None
        self._task: Any = None
        if enabled:
            self._start(description)

    def _start(self, description: str) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        console = Console(stderr=True)
        if not (console.is_terminal or console.is_jupyter):
            return
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[status]}"),
            console=console,
            refresh_per_second=5,
            transient=False,
        )
        self._progress.start()
        self._task = self._progress.add_task(
            description, total=self.total, completed=self.done, status=self.status()
        )

    def advance(self, record: CellRecord) -> None:
        """Count one finished cell."""
        self.done += 1
        self.calls += record.calls
        if record.error is not None:
            self.errors += 1
        if record.cached:
            self.cached += 1
        if record.cost_usd is not None:
            self.cost_usd += record.cost_usd
        elif record.error is None:
            self.cost_known = False  # a price is unknown: show the total as a lower bound
        now = time.monotonic()
        if self._progress is not None and now - self._last_draw >= _REDRAW_EVERY_S:
            self._last_draw = now
            self._progress.update(self._task, completed=self.done, status=self.status())

    def status(self) -> str:
        """``errors 2 · $0.0312 · cached 10``: the text after the bar."""
        cost = f"${self.cost_usd:.4f}" + ("" if self.cost_known else "+?")
        parts = [f"errors {self.errors}", cost]
        if self.cached:
            parts.append(f"cached {self.cached}")
        return " · ".join(parts)

    def stop(self) -> None:
        """Draw the final state and release the terminal."""
        if self._progress is not None:
            self._progress.update(self._task, completed=self.done, status=self.status())
            self._progress.stop()
            self._progress = None
