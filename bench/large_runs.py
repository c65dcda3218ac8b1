"""Large runs: 100,000 cells on a FakeProvider, and 100,000 batch requests on the stub server.

Each row runs in a fresh process (so its peak RSS is its own), in this order:

* a 10,000-cell and a 100,000-cell first run (`bench.experiment_fixtures`: generated
  questions x 2 arms on a ``FakeProvider``, numeric scoring, a fresh response cache): peak
  RSS and seconds per cell; ``--rounds`` (3) rounds of the two, alternating, each in a
  new directory: seconds are the medians, peak RSS the highest round's. After the timed
  run each row also builds the returned ``Run``'s cells table and summary
  (``analysis_s``, not in the run's seconds), and the peak RSS after that is held to the
  same target. The fake's own log of every
  request it received is replaced by a counter: it is the test double's memory, not the
  runner's;
* a re-run of the 100,000 cells into a new run directory, every request a cache hit:
  provider calls and seconds;
* a resume of the finished 100,000-cell run directory (nothing to do): seconds;
* batch mode: 20,000 and then 100,000 requests (one ``ZeroShot`` arm on
  ``OpenAIProvider``, ``batch=True``) against the stub server running in its own process:
  peak RSS at the end of the run (as for the first runs, then again after the returned
  ``Run``'s cells table), seconds, the largest request file against OpenAI's limits.

Targets (issue 11), each printed PASS or MISS:

* 100,000 cells: peak RSS <= 400 MB, and seconds per cell no worse than at 10,000 (within
  10 %, the spread of repeated runs on a shared machine);
* cached re-run: 0 provider calls in <= 15 s; resume: <= 3 s;
* batch mode: every request file within 50,000 requests and 200 MB, and peak RSS at
  100,000 requests within 1.5 x that at 20,000 (memory stays flat as results stream in).

Run: ``.venv/bin/python -m bench.large_runs`` from the repository root
(``--cells 2000 --batch-requests 2000`` for a quick look).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RSS_TARGET_MB = 400.0
OVERHEAD_SLACK = 1.10
RERUN_TARGET_S = 15.0
RESUME_TARGET_S = 3.0
BATCH_GROWTH = 1.5

_CHILD = """
import json, resource, sys, time
from pathlib import Path
from bench.experiment_fixtures import experiment

mode, cells, workdir = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
definition, fake = experiment(cells)


class CountOnly(list):
    # The fake keeps every request it gets (a test double's log, not the runner's memory):
    # count them instead, so that peak RSS is the runner's.
    n = 0

    def append(self, item):
        self.n += 1

    def __len__(self):
        return self.n


fake.requests = CountOnly()
out = workdir / ("rerun" if mode == "cached" else "run")
start = time.perf_counter()
result = definition.run(out=out, cache=workdir / "responses.sqlite", progress=False)
seconds = time.perf_counter() - start
run_peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
# Then what a user does next, outside the timed run: the cells table and the summary of
# the Run returned (their own seconds and peak RSS).
start = time.perf_counter()
assert len(result.cells) == cells, len(result.cells)
assert int(result.summary()["n"].sum()) == cells
analysis = time.perf_counter() - start
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"peak_mb": run_peak_kb / 1024, "seconds": seconds, "calls": fake.calls,
                  "analysis_s": analysis, "analysis_peak_mb": peak_kb / 1024}))
"""

_BATCH_CHILD = """
import json, resource, sys, time
from pathlib import Path
from promptlab.experiments.execution import BatchOptions
from promptlab.experiments.experiment import Experiment
from promptlab.experiments.store import BatchLog
from promptlab.providers.openai import OpenAIProvider
from promptlab.strategies import ZeroShot

requests, workdir, url = int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
tasks = [{"id": f"t{i}", "question": f"What is {i} plus 3?", "answer": i + 3}
         for i in range(requests)]
definition = Experiment(
    arms={"zs": ZeroShot(extractor="numeric")},
    providers={"p": OpenAIProvider("gpt-4o-mini", base_url=url)},
    tasks=tasks, scorers=["numeric"], name="bench-batch",
)
out = workdir / f"batch-{requests}"
start = time.perf_counter()
result = definition.run(out=out, cache=False, progress=False, batch=True,
                        batch_options=BatchOptions(poll_interval=0.2, flush_after=0.5))
seconds = time.perf_counter() - start
run_peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
# Then, outside the run, its cells table (as for the first runs above).
cells = result.cells
assert len(cells) == requests and cells["ok"].all()
log = BatchLog(out)
files = [(sum(1 for _ in log.custom_ids(b)), log.requests_path(b).stat().st_size)
         for b in log.records]
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"peak_mb": run_peak_kb / 1024, "analysis_peak_mb": peak_kb / 1024,
                  "seconds": seconds,
                  "batches": len(files), "max_requests": max(f[0] for f in files),
                  "max_bytes": max(f[1] for f in files)}))
"""


def _child(code: str, *args: str) -> dict[str, float]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _shown(name: str, row: dict[str, float]) -> dict[str, float]:
    print(f"  measured {name}: {json.dumps(row)}", flush=True)
    return row


def measure_runs(
    cells: int, small: int, workdir: Path, rounds: int = 3
) -> dict[str, dict[str, float]]:
    """The first runs at ``small`` and ``cells`` cells, alternating for ``rounds`` rounds,
    then the cached re-run and resume of the first large run's directory."""
    firsts: dict[str, list[dict[str, float]]] = {"small": [], "first": []}
    for round_ in range(rounds):
        for name, size in (("small", small), ("first", cells)):
            out = workdir / f"{name}-{round_}"
            out.mkdir()
            row = _child(_CHILD, "first", str(size), str(out))
            firsts[name].append(_shown(f"{name} (round {round_ + 1})", row))
            if round_:  # only the first large run's directory is re-run and resumed
                shutil.rmtree(out, ignore_errors=True)
    rows = {name: _merged(measured) for name, measured in firsts.items()}
    big_dir = workdir / "first-0"
    rows["cached"] = _shown("cached", _child(_CHILD, "cached", str(cells), str(big_dir)))
    rows["resume"] = _shown("resume", _child(_CHILD, "resume", str(cells), str(big_dir)))
    return rows


def _merged(rounds: list[dict[str, float]]) -> dict[str, float]:
    """Rounds of one row as one: the median of each time, the highest of each peak RSS."""
    return {
        key: (max if key.endswith("_mb") else statistics.median)(r[key] for r in rounds)
        for key in rounds[0]
    }


def measure_batches(sizes: Sequence[int], workdir: Path) -> dict[int, dict[str, float]]:
    """Batch-mode runs of each size against a stub server in its own process."""
    server = subprocess.Popen(
        [sys.executable, "-m", "promptlab.testing.stub_server", "--max-lifetime", "3600"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip() + "/v1"
        return {
            n: _shown(f"batch {n}", _child(_BATCH_CHILD, str(n), str(workdir), url)) for n in sizes
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(
    runs: dict[str, dict[str, float]],
    batches: dict[int, dict[str, float]],
    cells: int,
    small: int,
) -> bool:
    """Print PASS or MISS per target; True when every target passes."""
    checks = (_run_checks(runs, cells, small) if runs else []) + _batch_checks(batches)
    for text, ok in checks:
        print(f"{verdict(ok)}  {text}")
    return all(ok for _, ok in checks)


def _run_checks(
    runs: dict[str, dict[str, float]], cells: int, small: int
) -> list[tuple[str, bool]]:
    per_small = runs["small"]["seconds"] / small
    per_big = runs["first"]["seconds"] / cells
    print(
        f"  first runs: {small:,} cells {runs['small']['seconds']:.1f} s "
        f"({runs['small']['peak_mb']:.0f} MB); {cells:,} cells {runs['first']['seconds']:.1f} s"
    )
    return [
        (
            f"{cells:,}-cell first run: peak RSS {runs['first']['peak_mb']:.0f} MB "
            f"(target <= {RSS_TARGET_MB:.0f} MB)",
            runs["first"]["peak_mb"] <= RSS_TARGET_MB,
        ),
        (
            f"... then its cells table and summary ({runs['first']['analysis_s']:.1f} s): "
            f"peak RSS {runs['first']['analysis_peak_mb']:.0f} MB "
            f"(target <= {RSS_TARGET_MB:.0f} MB)",
            runs["first"]["analysis_peak_mb"] <= RSS_TARGET_MB,
        ),
        (
            f"seconds per cell: {per_big * 1e3:.3f} ms at {cells:,} vs {per_small * 1e3:.3f} ms "
            f"at {small:,} (ratio {per_big / per_small:.2f}, target <= {OVERHEAD_SLACK:.2f})",
            per_big <= per_small * OVERHEAD_SLACK,
        ),
        (
            f"cached re-run: {runs['cached']['calls']:.0f} provider calls in "
            f"{runs['cached']['seconds']:.1f} s (target 0 calls, <= {RERUN_TARGET_S:.0f} s)",
            runs["cached"]["calls"] == 0 and runs["cached"]["seconds"] <= RERUN_TARGET_S,
        ),
        (
            f"resume with nothing to do: {runs['resume']['seconds']:.2f} s "
            f"(target <= {RESUME_TARGET_S:.0f} s)",
            runs["resume"]["seconds"] <= RESUME_TARGET_S,
        ),
    ]


def _batch_checks(batches: dict[int, dict[str, float]]) -> list[tuple[str, bool]]:
    checks = []
    if batches:
        sizes = sorted(batches)
        low, high = batches[sizes[0]], batches[sizes[-1]]
        within = all(
            b["max_requests"] <= 50_000 and b["max_bytes"] <= 200_000_000 for b in batches.values()
        )
        for n in sizes:
            b = batches[n]
            print(
                f"  batch mode, {n:,} requests: {b['seconds']:.1f} s, peak RSS "
                f"{b['peak_mb']:.0f} MB, {b['batches']:.0f} batch(es), largest file "
                f"{b['max_requests']:,.0f} requests / {b['max_bytes'] / 1e6:.1f} MB"
            )
        checks.append(
            ("batch request files within 50,000 requests and 200 MB", within),
        )
        for key, what in (("peak_mb", "the run"), ("analysis_peak_mb", "then its cells table")):
            checks.append(
                (
                    f"batch peak RSS, {what}: {high[key]:.0f} MB at {sizes[-1]:,} vs "
                    f"{low[key]:.0f} MB at {sizes[0]:,} (target <= {BATCH_GROWTH} x)",
                    high[key] <= low[key] * BATCH_GROWTH,
                )
            )
    return checks


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating rounds of the two first runs"
    )
    parser.add_argument("--batch-requests", type=int, default=100_000)
    parser.add_argument("--batch-small", type=int, default=20_000)
    parser.add_argument(
        "--part", choices=("all", "runs", "batch"), default="all", help="which rows to measure"
    )
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="promptlab-bench-large-"))
    try:
        runs = (
            {}
            if args.part == "batch"
            else measure_runs(args.cells, args.small, workdir, args.rounds)
        )
        batches = (
            {}
            if args.part == "runs"
            else measure_batches([args.batch_small, args.batch_requests], workdir)
        )
        report(runs, batches, args.cells, args.small)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
