"""What the sync bridge costs: this tree's ``run_sync`` against the one at a git revision.

``Strategy.run`` and every other blocking method go through ``promptlab.sync.run_sync``.
This script loads ``promptlab/sync.py`` as it is at ``--baseline`` (a commit) next to the
current one and times both in the same process, interleaved (the order reversed every
other round), median of rounds (`bench.timing`):

* ``run_sync`` of a coroutine that returns at once (the bridge alone);
* ``ZeroShot.run`` and ``SelfConsistency(ChainOfThought, n=5).run`` on ``FakeProvider``,
  i.e. ``run_sync(strategy.arun(...))`` with each bridge (what a user's call costs on a
  provider without a synchronous call, such as a remote API; on ``FakeProvider`` itself
  ``ZeroShot.run`` now skips the bridge, see `bench.overhead`);
* the overhead benchmark's floor (a precompiled Jinja render plus a function call), so
  the difference can be read against the ``<= 2.5x floor`` target of `bench.overhead`.

Run: ``.venv/bin/python -m bench.sync_bridge`` from the repository root. The default
baseline, 3534ca0, is the last commit whose bridge ran a task's first step eagerly through
private asyncio internals (``loop._ready``, ``Handle._run``, ``_set_running_loop``); it
was replaced by public asyncio API because it saved only about 10-20 µs per call.
"""

from __future__ import annotations

import argparse
import subprocess
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.overhead import QUESTION, REPLY, floor_setups
from bench.timing import interleaved_medians

ROOT = Path(__file__).resolve().parent.parent
#: The last commit with the private-internals bridge.
PRIVATE_BRIDGE_REVISION = "3534ca0"


def load_sync_module(revision: str) -> types.ModuleType:
    """``promptlab/sync.py`` as it is at ``revision``, loaded as a separate module."""
    source = subprocess.run(
        ["git", "show", f"{revision}:promptlab/sync.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    module = types.ModuleType(f"sync_at_{revision}")
    exec(compile(source, f"{revision}:promptlab/sync.py", "exec"), module.__dict__)
    return module


def setups(
    baseline: Callable[[Any], Any],
) -> tuple[dict[str, Callable[[], object]], Callable[[], None]]:
    """The rows, each case once with the current bridge and once with ``baseline``, and a
    callback that clears the fake's request log between batches."""
    from promptlab import ChainOfThought, SelfConsistency, ZeroShot
    from promptlab.sync import run_sync
    from promptlab.testing import FakeProvider

    fake = FakeProvider([REPLY], cycle=True)
    zero_shot = ZeroShot(extractor="numeric")
    sc = SelfConsistency(ChainOfThought(extractor="numeric"), n=5)
    inputs = {"question": QUESTION}

    async def nothing() -> int:
        return 1

    rows: dict[str, Callable[[], object]] = {"floor": floor_setups()["floor"]}
    for label, bridge in (("current", run_sync), ("baseline", baseline)):
        rows[f"run_sync(returns at once), {label}"] = lambda b=bridge: b(nothing())
        rows[f"ZeroShot.run, {label}"] = lambda b=bridge: b(zero_shot.arun(inputs, fake))
        rows[f"SelfConsistency(CoT, n=5).run, {label}"] = lambda b=bridge: b(sc.arun(inputs, fake))
    for bridge in (run_sync, baseline):
        if bridge(zero_shot.arun(inputs, fake)).answer != "4":
            raise RuntimeError("a bridge did not return ZeroShot's answer 4")
    return rows, fake.requests.clear


def main(argv: Sequence[str] | None = None) -> None:
    """Measure and print the table."""
    from rich.console import Console
    from rich.table import Table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--baseline", default=PRIVATE_BRIDGE_REVISION, help="git revision to compare with"
    )
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--batch-seconds", type=float, default=0.05)
    args = parser.parse_args(argv)
    try:
        baseline = load_sync_module(args.baseline).run_sync
    except (OSError, subprocess.CalledProcessError) as exc:  # no git, or a shallow clone
        print(f"bench.sync_bridge: cannot load promptlab/sync.py at {args.baseline}: {exc}")
        return
    rows, clear = setups(baseline)
    medians = interleaved_medians(
        rows, rounds=args.rounds, target_s=args.batch_seconds, between=clear, alternate=True
    )
    floor = medians["floor"]
    table = Table(
        title=f"run_sync: this tree vs {args.baseline} "
        f"(median of {args.rounds} interleaved rounds)",
        caption="floor = the overhead benchmark's precompiled Jinja render + function call",
    )
    for header in ("Case", "current µs", "baseline µs", "current − baseline", "ratio", "× floor"):
        table.add_column(header, justify="left" if header == "Case" else "right")
    table.add_row("floor", f"{floor * 1e6:.1f}", "", "", "", "1.00")
    cases = [name.removesuffix(", current") for name in medians if name.endswith(", current")]
    for case in cases:
        now, then = medians[f"{case}, current"], medians[f"{case}, baseline"]
        table.add_row(
            case,
            f"{now * 1e6:.1f}",
            f"{then * 1e6:.1f}",
            f"{(now - then) * 1e6:+.1f} µs",
            f"{now / then:.2f}",
            f"{now / floor:.2f} (was {then / floor:.2f})",
        )
    Console(width=150).print(table)


if __name__ == "__main__":
    main()
