"""Import time in a fresh process: promptlab next to jinja2, openai, LangChain and DSPy.

Each row runs in a new interpreter, in interleaved rounds, and times only its import
statement (interpreter start-up is left out, it is the same for all). Bytecode caching is
on, as in an installed package, and every row runs once untimed first to write its
``.pyc`` files and warm the file cache. The median over rounds is printed.

``import promptlab`` defers everything to first use; the second promptlab row also
touches ``promptlab.ZeroShot``, what a user needs before anything else (it loads Jinja and
asyncio). Two more promptlab rows, without targets, show what a first ``render`` and a first
``run`` on the fake provider add (reading and compiling the template). The "heavy" column
lists the libraries an import pulled in.

Targets:

- issue 5: ``import promptlab`` <= 100 ms;
- issue 13: ``import promptlab; promptlab.ZeroShot`` <= 1.2 x ``import jinja2; import
  pydantic`` (both libraries imported in one fresh process, so what they share is counted
  once), as the median over rounds of the per-round ratio.

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
ZERO_SHOT_TARGET = 1.2  # x the jinja2 + pydantic row
HEAVY = (
    "pydantic",
    "jinja2",
    "asyncio",
    "numpy",
    "pandas",
    "scipy",
    "matplotlib",
    "openai",
    "anthropic",
    "langchain_core",
    "httpx",
)
ZERO_SHOT = "import promptlab; promptlab.ZeroShot"
LIBRARIES = "import jinja2; import pydantic"
_QUESTION = "{'question': 'What is 2 + 2?'}"

STATEMENTS = {
    "import promptlab": "import promptlab",
    ZERO_SHOT: ZERO_SHOT,
    "... + ZeroShot().render(...)": (f"import promptlab; promptlab.ZeroShot().render({_QUESTION})"),
    "... + ZeroShot().run(..., FakeProvider)": (
        "import promptlab; from promptlab.testing import FakeProvider; "
        f"promptlab.ZeroShot().run({_QUESTION}, FakeProvider(['Answer: 4']))"
    ),
    "import jinja2": "import jinja2",
    "import pydantic": "import pydantic",
    LIBRARIES: LIBRARIES,
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

    def ratio_to(self, base: Row) -> float:
        """Median over rounds of this row's time / ``base``'s time in the same round."""
        pairs = zip(self.seconds, base.seconds, strict=False)
        return statistics.median(mine / theirs for mine, theirs in pairs)


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
    """Print the table; return True when both targets pass."""
    from rich.console import Console
    from rich.table import Table

    from bench.timing import verdict

    table = Table(
        title=f"Import time in a fresh process (median of {rounds} interleaved rounds, ms)",
        caption=(
            f"Targets: import promptlab <= {TARGET_MS:g} ms; {ZERO_SHOT} <= "
            f"{ZERO_SHOT_TARGET:g} x '{LIBRARIES}' (median of per-round ratios). "
            "'heavy' = libraries the import loaded."
        ),
    )
    ratio_headers = ("ms", "× import jinja2", "× jinja2 + pydantic")
    for header in ("Import", *ratio_headers, "heavy", "Target", "Result"):
        table.add_column(
            header,
            justify="right" if header in ratio_headers else "left",
            no_wrap=header in ("Import", "Target"),
        )
    measured = {r.statement: r for r in rows if r.seconds and not r.unavailable}
    jinja, libraries = measured.get("import jinja2"), measured.get(LIBRARIES)
    passed = "import promptlab" in measured and ZERO_SHOT in measured and libraries is not None
    for row in rows:
        if row.statement not in measured:
            table.add_row(row.statement, f"unavailable: {row.unavailable}", "", "", "", "", "")
            continue
        to_jinja = f"{row.ratio_to(jinja):.2f}" if jinja else ""
        to_libraries = f"{row.ratio_to(libraries):.2f}" if libraries else ""
        target, result = "", ""
        if row.statement == "import promptlab":
            ok = row.median_ms <= TARGET_MS
            passed = passed and ok
            target, result = f"<= {TARGET_MS:g} ms", verdict(ok)
        elif row.statement == ZERO_SHOT and libraries:
            ok = row.ratio_to(libraries) <= ZERO_SHOT_TARGET
            passed = passed and ok
            target, result = f"<= {ZERO_SHOT_TARGET:g}× jinja2 + pydantic", verdict(ok)
        table.add_row(
            row.statement,
            f"{row.median_ms:.1f}",
            to_jinja,
            to_libraries,
            ", ".join(row.heavy),
            target,
            result,
        )
    Console(width=170).print(table)
    return passed


def main(argv: Sequence[str] | None = None) -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    print_table(measure(args.rounds), args.rounds)


if __name__ == "__main__":
    main()
