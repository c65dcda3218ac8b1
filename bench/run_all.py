"""Run every benchmark in turn, each in its own process, and print their tables.

This is what ``make bench`` runs. Each script prints one table with its ratios and
PASS/MISS per target; this runner first prints the date and the machine, so the output
can be pasted as it is. A script that fails is reported and the others still run.

Run: ``.venv/bin/python bench/run_all.py [--only overhead imports ...] [--quick]``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (module, extra arguments for --quick): the quick settings only check that a script runs.
BENCHMARKS: dict[str, list[str]] = {
    "overhead": ["--rounds", "3", "--batch-seconds", "0.01"],
    "imports": ["--rounds", "2"],
    "concurrency": ["--rounds", "1", "--calls", "200"],
    "cache": ["--cells", "2000", "--repeats", "1"],
    "memory": ["--repeats", "1"],
    "local": ["--rounds", "1", "--max-tokens", "16"],
    "self_consistency": ["--tasks", "300", "--local-tasks", "2", "--max-tokens", "32"],
    "sync_bridge": ["--rounds", "3", "--batch-seconds", "0.01"],
    "deeplake": ["--sizes", "1000", "--rounds", "1"],
    "report_explorer": ["--rounds", "1"],
}


def machine() -> str:
    """Date, CPU model, core count and Python version, on one line."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (
        f"{now} | {model} | {os.cpu_count()} CPUs | load average {load} | "
        f"Python {platform.python_version()} | {platform.system()} {platform.release()}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selected benchmarks; the exit code is the number that failed to run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), default=list(BENCHMARKS))
    parser.add_argument("--quick", action="store_true", help="tiny settings, to check they run")
    args = parser.parse_args(argv)
    print(f"promptlab benchmarks: {machine()}", flush=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    failed = []
    for name in args.only:
        command = [sys.executable, "-m", f"bench.{name}", *(BENCHMARKS[name] if args.quick else [])]
        print(f"\n$ python -m bench.{name}", flush=True)
        start = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=env, check=False)
        print(f"({name}: {time.perf_counter() - start:.0f} s)", flush=True)
        if done.returncode != 0:
            failed.append(name)
            print(f"bench.{name} failed with exit code {done.returncode}", flush=True)
    if failed:
        print(f"\nFailed to run: {', '.join(failed)}", flush=True)
    return len(failed)


if __name__ == "__main__":
    sys.exit(main())
