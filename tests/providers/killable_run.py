"""A 12-cell experiment on a fake that can kill its own process (for the cache-write tests).

Imported by the tests and run in a subprocess, so the fake has the same fingerprint in
both (same class and reply function) and the cache serves one to the other.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

from promptlab.completion import Completion, CompletionRequest
from promptlab.experiments.experiment import Experiment
from promptlab.providers.cache import ResponseCache
from promptlab.strategies import ZeroShot
from promptlab.testing import FakeProvider

CELLS = 12
#: Responses per cache transaction in these runs; the timer never fires (an hour).
FLUSH_SIZE = 4


def reply(request: CompletionRequest) -> str:
    """``What is N + 1?`` -> ``Answer: N+1``."""
    question = request.messages[-1].content
    number = int(question.split("What is ")[1].split(" +")[0])
    return f"Answer: {number + 1}"


class KillableFake(FakeProvider):
    """Sends itself SIGKILL (no atexit, no close) on its ``kill_at``-th request."""

    def __init__(self, kill_at: int = 0) -> None:
        super().__init__(reply)
        self.kill_at = kill_at

    async def _generate(self, request: CompletionRequest) -> Completion:
        if self.calls + 1 == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return await super()._generate(request)


def run(run_dir: Path, cache_path: Path, kill_at: int = 0) -> dict[str, Any]:
    """Run (or resume) the experiment in ``run_dir``; what the fake was asked, and answers."""
    fake = KillableFake(kill_at)
    experiment = Experiment(
        arms={"zero_shot": ZeroShot(extractor="numeric")},
        providers={"fake": fake},
        tasks=[
            {"id": str(i), "question": f"What is {i} + 1?", "answer": i + 1} for i in range(CELLS)
        ],
        scorers=["numeric"],
        concurrency=1,
    )
    cache = ResponseCache(cache_path, flush_interval=3600, flush_size=FLUSH_SIZE)
    try:
        result = experiment.run(run_dir, cache=cache, progress=False)
    finally:
        cache.close()
    return {
        "calls": fake.calls,
        "answers": {str(r.task_id): r.answer for r in result.records},
        "cached": sum(r.cached for r in result.records),
    }


if __name__ == "__main__":  # pragma: no cover - the tests import ``run`` instead
    run(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))
