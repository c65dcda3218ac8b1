"""Side-by-side timing for the benchmark scripts: interleaved rounds, medians.

On a shared machine absolute times drift with whatever else runs, so every benchmark
measures all of its rows in one process, round-robin: each round times every row once,
and a row's result is the median over rounds. A drift then hits all rows alike and the
ratios between them hold.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Mapping


def calls_per_batch(fn: Callable[[], object], target_s: float = 0.05) -> int:
    """How many calls of ``fn`` take about ``target_s`` (at least 1); warms ``fn`` up too."""
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= target_s / 4 or calls >= 1_000_000:
            return max(1, round(calls * target_s / max(elapsed, 1e-9)))
        calls *= 4


def interleaved_medians(
    rows: Mapping[str, Callable[[], object]],
    rounds: int = 7,
    target_s: float = 0.05,
    between: Callable[[], None] | None = None,
    alternate: bool = False,
) -> dict[str, float]:
    """Median seconds per call of each row, from ``rounds`` interleaved rounds.

    Args:
        rows: Name -> a zero-argument callable making one call.
        rounds: Rounds; each times every row once (a batch of calls).
        target_s: About how long one batch of one row takes.
        between: Called after each batch, untimed (to clear a fake's request log, say).
        alternate: Time the rows in reverse order every other round, so that no row
            always runs right after the same neighbour (for A/B rows a few % apart).

    Returns:
        Name -> median seconds per call.
    """
    batch = {name: calls_per_batch(fn, target_s) for name, fn in rows.items()}
    samples: dict[str, list[float]] = {name: [] for name in rows}
    order = list(rows.items())
    for round_number in range(rounds):
        for name, fn in order[::-1] if alternate and round_number % 2 else order:
            calls = batch[name]
            gc.collect()
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            samples[name].append((time.perf_counter() - start) / calls)
            if between is not None:
                between()
    return {name: statistics.median(values) for name, values in samples.items()}


def verdict(ok: bool) -> str:
    """The PASS/MISS word printed next to a target."""
    return "[green]PASS[/green]" if ok else "[red]MISS[/red]"
