"""The report's explorer in headless Chromium: how fast a 10,000-cell run opens and scrolls.

Writes the reports of a 1,000-cell and a 10,000-cell run (``large_run`` of
``tests/browser/scenes.py``: generated tasks x 2 arms, each reply 400 words, about 2 kB,
and a rendered prompt per cell), then opens each in headless Chromium (Debian's
``chromium``, driven by Playwright) in interleaved rounds and reports medians:

* open: from navigation to the explorer's first rows on screen (``DOMContentLoaded``
  plus parsing the data and drawing; what a person waits for);
* scroll: one scroll step of the explorer's table to its next screenful, from the scroll
  to the rows drawn and laid out, less the same two animation frames without a scroll,
  averaged over 40 steps.

Targets (issue 12), printed PASS or MISS: a 10,000-cell run opens in <= 3 s, and a
scroll step takes <= 50 ms (smooth: rows are drawn on demand, so it should not grow with
the run's size; the ratio 10,000 / 1,000 is printed too).

Run: ``.venv/bin/python -m bench.report_explorer [--rounds 5]`` from the repository root.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

OPEN_TARGET_S = 3.0
SCROLL_TARGET_MS = 50.0

# Each step scrolls a screenful and waits two animation frames (the explorer draws rows in
# the first); the same wait with no scroll is the baseline, taken away so that what is
# left is the explorer's own work (headless frames on a busy machine are slow by themselves).
_SCROLL = """
async () => {
  const grid = document.getElementById("explorer-grid");
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  async function steps(scroll) {
    let total = 0;
    for (let step = 1; step <= 40; step++) {
      const start = performance.now();
      if (scroll) grid.scrollTop = step * grid.clientHeight;
      await frame();
      await frame();
      grid.querySelector(".grid-body .grid-row:last-child").getBoundingClientRect();
      total += performance.now() - start;
    }
    return total / 40;
  }
  const idle = await steps(false);
  return (await steps(true)) - idle;
}
"""


def write_report(folder: Path, tasks: int) -> Path:
    """A run of ``tasks`` tasks x 2 arms written to ``folder`` and its report."""
    from tests.browser.scenes import large_run

    return large_run(folder, tasks, reply_words=400).report(folder / "report.html")


def open_seconds(browser: Any, report: Path) -> tuple[float, float]:
    """(seconds to the first rows on screen, mean milliseconds per scroll step)."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    start = time.perf_counter()
    page.goto(report.as_uri())
    page.wait_for_selector(".grid-body .grid-row")
    seconds = time.perf_counter() - start
    scroll_ms = float(page.evaluate(_SCROLL))
    page.close()
    return seconds, scroll_ms


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import chromium_path

    folder = Path(tempfile.mkdtemp(prefix="promptlab-bench-explorer-"))
    try:
        sizes = {1_000: 500, 10_000: 5_000}  # cells -> tasks (2 arms)
        reports = {
            cells: write_report(folder / str(cells), tasks) for cells, tasks in sizes.items()
        }
        opened: dict[int, list[float]] = {cells: [] for cells in sizes}
        scrolled: dict[int, list[float]] = {cells: [] for cells in sizes}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True)
            open_seconds(browser, reports[1_000])  # warm-up
            for _ in range(args.rounds):
                for cells, report in reports.items():
                    seconds, scroll_ms = open_seconds(browser, report)
                    opened[cells].append(seconds)
                    scrolled[cells].append(scroll_ms)
            browser.close()
        print(f"Report explorer in headless Chromium, medians of {args.rounds} interleaved rounds")
        print(f"{'cells':>8} {'file MB':>8} {'open s':>8} {'scroll ms/step':>15}")
        medians = {}
        for cells, report in reports.items():
            medians[cells] = (statistics.median(opened[cells]), statistics.median(scrolled[cells]))
            size = report.stat().st_size / 1e6
            print(f"{cells:>8} {size:>8.1f} {medians[cells][0]:>8.2f} {medians[cells][1]:>15.1f}")
        big_open, big_scroll = medians[10_000]
        ratio = big_scroll / medians[1_000][1]
        print(f"scroll step 10,000 / 1,000 cells: {ratio:.2f}x")
        verdict = "PASS" if big_open <= OPEN_TARGET_S else "MISS"
        print(f"{verdict}: 10,000 cells open in {big_open:.2f} s (target <= {OPEN_TARGET_S} s)")
        verdict = "PASS" if big_scroll <= SCROLL_TARGET_MS else "MISS"
        print(
            f"{verdict}: a scroll step takes {big_scroll:.1f} ms (target <= {SCROLL_TARGET_MS} ms)"
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
