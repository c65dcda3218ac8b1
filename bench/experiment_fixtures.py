"""The synthetic experiment the cache and memory benchmarks run: many cells on a fake model.

Tasks are generated arithmetic questions; the fake provider answers every prompt with a
short chain of thought ending in ``Answer: <n>``, so scoring does real work. Two arms
(zero-shot and chain of thought) on one provider, so ``n_cells`` cells need
``n_cells / 2`` tasks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from promptlab.completion import CompletionRequest

ARMS = ("zero_shot", "chain_of_thought")


def fake_reply(request: CompletionRequest) -> str:
    """A deterministic reply a few sentences long, echoing the question's numbers."""
    question = request.messages[-1].content.split("\n", 1)[0]
    words = [w.strip("?.") for w in question.split()]
    numbers = [int(w) for w in words if w.isdigit()]
    total = sum(numbers)
    steps = " + ".join(str(n) for n in numbers)
    return (
        f"We add the numbers in the question: {steps} = {total}. Checking again, the sum "
        f"of {steps} is {total}, so that is the result.\nAnswer: {total}"
    )


def tasks(n_tasks: int) -> list[dict[str, Any]]:
    """``n_tasks`` distinct addition questions with their answers."""
    return [
        {"id": f"t{i}", "question": f"What is {i} plus {i % 97 + 3}?", "answer": i + i % 97 + 3}
        for i in range(n_tasks)
    ]


def experiment(n_cells: int, *, concurrency: int = 8) -> tuple[Any, Any]:
    """The experiment with ``n_cells`` cells, and its FakeProvider (to count calls)."""
    from promptlab import ChainOfThought, ZeroShot
    from promptlab.experiments.experiment import Experiment
    from promptlab.testing import FakeProvider

    fake = FakeProvider(fake_reply)
    definition = Experiment(
        arms={
            ARMS[0]: ZeroShot(extractor="numeric"),
            ARMS[1]: ChainOfThought(extractor="numeric"),
        },
        providers={"fake": fake},
        tasks=tasks(n_cells // len(ARMS)),
        scorers=["numeric"],
        concurrency=concurrency,
        name="bench",
    )
    return definition, fake


def run(definition: Any, out: Path, cache: Path) -> Any:
    """Run ``definition`` into ``out`` with the cache file ``cache`` (progress bar on)."""
    return definition.run(out=out, cache=cache, progress=True)
