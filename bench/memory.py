"""Peak memory (RSS) of an experiment run, each measured in a fresh process.

The experiment is `bench.experiment_fixtures` (generated questions x 2 arms on a
``FakeProvider``, numeric scoring, a fresh response cache, progress bar on). Rows:

* the baseline: the same process importing promptlab and defining the experiment, but
  not running it;
* a 2,500-cell and a 10,000-cell run, each ending, like ``Experiment.run``, with the
  ``Run`` loaded from the run directory.

Peak RSS is ``getrusage(RUSAGE_SELF).ru_maxrss`` at the end of the child process: the
most memory it ever held. The growth per 1,000 cells between the two runs shows whether
results stream to disk (flat) or pile up in memory. Each row is the median over repeats.

Target (issue 5): peak RSS of a 10,000-cell run <= 300 MB.

Run: ``.venv/bin/python -m bench.memory`` from the repository root.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MB = 300.0
SIZES = (0, 2_500, 10_000)

_CHILD = """
import json, resource, shutil, tempfile, time
from pathlib import Path
from bench.experiment_fixtures import experiment, run

cells = {cells}
workdir = Path(tempfile.mkdtemp(prefix="promptlab-bench-memory-"))
definition, fake = experiment(cells or 2)
start = time.perf_counter()
if cells:
    result = run(definition, workdir / "run", workdir / "responses.sqlite")
    assert len(result.records) == cells and fake.calls == cells
seconds = time.perf_counter() - start
shutil.rmtree(workdir, ignore_errors=True)
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"peak_mb": peak_kb / 1024, "seconds": seconds}}))
"""


def peak_rss_mb(cells: int) -> tuple[float, float]:
    """Peak RSS in MB of a fresh process running ``cells`` cells (0: define only), and s."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", _CHILD.format(cells=cells)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the {cells}-cell child failed: {done.stderr.strip()[-400:]}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return float(data["peak_mb"]), float(data["seconds"])


def measure(repeats: int = 3, sizes: Sequence[int] = SIZES) -> dict[int, tuple[float, float]]:
    """Median peak MB and run seconds per size, sizes interleaved over repeats."""
    peaks: dict[int, list[float]] = {size: [] for size in sizes}
    seconds: dict[int, list[float]] = {size: [] for size in sizes}
    for _ in range(repeats):
        for size in sizes:
            peak, elapsed = peak_rss_mb(size)
            peaks[size].append(peak)
            seconds[size].append(elapsed)
    return {
        size: (statistics.median(peaks[size]), statistics.median(seconds[size])) for size in sizes
    }


def print_table(results: dict[int, tuple[float, float]], repeats: int) -> bool:
    """Print the table; True when the 10,000-cell run meets the target."""
    from rich.console import Console
    from rich.table import Table

    from bench.timing import verdict

    table = Table(
        title=f"Peak RSS of an experiment run, fresh process each (median of {repeats})",
        caption="Target: peak RSS of a 10,000-cell run <= 300 MB.",
    )
    for header in ("Run", "peak RSS MB", "over baseline MB", "run s", "Target", "Result"):
        table.add_column(header, justify="left" if header in ("Run", "Target") else "right")
    baseline = results.get(0, (0.0, 0.0))[0]
    passed = True
    for size, (peak, seconds) in sorted(results.items()):
        name = "baseline: import + define, no run" if size == 0 else f"{size:,}-cell run"
        target, result = "", ""
        if size == 10_000:
            ok = peak <= TARGET_MB
            passed = ok
            target, result = f"<= {TARGET_MB:g} MB", verdict(ok)
        table.add_row(
            name,
            f"{peak:.1f}",
            "" if size == 0 else f"{peak - baseline:.1f}",
            "" if size == 0 else f"{seconds:.1f}",
            target,
            result,
        )
    sizes = sorted(s for s in results if s)
    if len(sizes) >= 2:
        (small, big) = sizes[0], sizes[-1]
        slope = (results[big][0] - results[small][0]) / ((big - small) / 1000)
        table.add_row(
            f"growth per 1,000 cells ({small:,} -> {big:,})", f"{slope:.2f}", "", "", "", ""
        )
    Console(width=150).print(table)
    return passed


def main(argv: Sequence[str] | None = None) -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    print_table(measure(args.repeats), args.repeats)


if __name__ == "__main__":
    main()
