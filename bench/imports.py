"""Import time in a fresh process: promptlab next to jinja2, openai, LangChain and DSPy.

Each row runs in a new interpreter, in interleaved rounds, and times only its import
statement (interpreter start-up is left out, it is the same for all). Bytecode caching is
on, as in an installed package, and every row runs once untimed first to write its
``.pyc`` files and warm the file cache. The median over rounds is printed.

``import promptlab`` defers everything to first use; the second promptlab row also
touches ``promptlab.ZeroShot``, which loads pydantic, Jinja and asyncio. The last column
lists the heavy libraries an import pulled in.

Target (issue 5): ``import promptlab`` <= 100 ms.

Run: ``.venv/bin/python -m bench.imports`` from the repository root.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 100.0
HEAVY = ("pydantic", "jinja2", "numpy", "pandas", "scipy", "matplotlib", "openai", "httpx")

STATEMENTS = {
    "import promptlab": "import promptlab",
    "import promptlab; promptlab.ZeroShot": "import promptlab; promptlab.ZeroShot",
    "import jinja2": "import jinja2",
    "import openai": "import openai",
    "from langchain_core.prompts import ChatPromptTemplate": (
        "from langchain_core.prompts import ChatPromptTemplate"
    ),
    "import dspy": "import dspy",
}

_CHILD = """
import json, sys, time
start = time.perf_counter()
try:
    exec({statement!r})
except Exception as exc:
    print(json.dumps({{"error": f"{{type(exc).__name__}}: {{exc}}"}}))
    raise SystemExit(0)
elapsed = time.perf_counter() - start
print(json.dumps({{"seconds": elapsed, "heavy": [m for m in {heavy!r} if m in sys.modules]}}))
"""


@dataclass
class Row:
    """One import statement's timings over rounds, or why it could not run."""

    statement: str
    seconds: list[float] = field(default_factory=list)
    heavy: list[str] = field(default_factory=list)
    unavailable: str | None = None

    @property
    def median_ms(self) -> float:
        """Median import time in milliseconds."""
        return statistics.median(self.seconds) * 1e3


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # use .pyc files, as an installed package does
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def time_import(statement: str) -> dict[str, object]:
    """Run ``statement`` in a fresh interpreter; its import time or the error."""
    code = _CHILD.format(statement=statement, heavy=HEAVY)
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_child_env(),
        timeout=120,
        check=False,
    )
    if done.returncode != 0 or not done.stdout.strip():
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1]}
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure(rounds: int = 7, statements: Sequence[str] | None = None) -> list[Row]:
    """Time every statement in fresh processes, interleaved, ``rounds`` times each."""
    rows = [Row(s) for s in (statements or list(STATEMENTS))]
    for row in rows:  # untimed warm-up: writes .pyc files, warms the file cache
        outcome = time_import(STATEMENTS.get(row.statement, row.statement))
        if "error" in outcome:
            row.unavailable = str(outcome["error"])[:120]
    for _ in range(rounds):
        for row in rows:
            if row.unavailable:
                continue
            outcome = time_import(STATEMENTS.get(row.statement, row.statement))
            if "error" in outcome:
                row.unavailable = str(outcome["error"])[:120]
                continue
            row.seconds.append(float(outcome["seconds"]))  # type: ignore[arg-type]
            row.heavy = list(outcome["heavy"])  # type: ignore[call-overload]
    return rows


def print_table(rows: Sequence[Row], rounds: int) -> bool:
    """Print the table; return True when the target passes."""
    from rich.console import Console
    from rich.table import Table

    from bench.timing import verdict

    table = Table(
        title=f"Import time in a fresh process (median of {rounds} interleaved rounds, ms)",
        caption="Target: import promptlab <= 100 ms. 'heavy' = libraries the import loaded.",
    )
    for header in ("Import", "ms", "× import jinja2", "heavy", "Target", "Result"):
        table.add_column(header, justify="right" if header in ("ms", "× import jinja2") else "left")
    jinja = next((r for r in rows if r.statement == "import jinja2" and r.seconds), None)
    passed = True
    for row in rows:
        if row.unavailable or not row.seconds:
            table.add_row(row.statement, f"unavailable: {row.unavailable}", "", "", "", "")
            if row.statement == "import promptlab":
                passed = False
            continue
        ratio = f"{row.median_ms / jinja.median_ms:.2f}" if jinja else ""
        target, result = "", ""
        if row.statement == "import promptlab":
            ok = row.median_ms <= TARGET_MS
            passed = ok
            target, result = f"<= {TARGET_MS:g} ms", verdict(ok)
        table.add_row(
            row.statement, f"{row.median_ms:.1f}", ratio, ", ".join(row.heavy), target, result
        )
    Console(width=150).print(table)
    return passed


def main(argv: Sequence[str] | None = None) -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    print_table(measure(args.rounds), args.rounds)


if __name__ == "__main__":
    main()
