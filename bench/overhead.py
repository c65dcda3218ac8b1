"""Per-call overhead on a zero-latency fake model: promptlab vs the floor, LangChain and DSPy.

Rows (all measured in this process, interleaved, median over rounds):

* the floor: a precompiled ``jinja2.Environment().from_string(...)`` render of the same
  zero-shot prompt plus a plain function call standing in for the model;
* the floor with Jinja's per-render globals copy removed (what promptlab's environment
  does; informational, the targets use the standard floor);
* promptlab ``ZeroShot`` and ``ChainOfThought`` ``.run`` on ``FakeProvider``, including
  numeric answer extraction, and ``SelfConsistency(ChainOfThought, n=5)`` per sample;
  ``.run`` answers without an event loop there, through the fake's synchronous call
  (``Provider._generate_sync``), as it does for any backend whose work is synchronous;
* ``ZeroShot.run`` on the same fake with its synchronous call hidden, i.e. through the
  event-loop bridge ``run_sync``, the route of every remote API (informational, no target);
* LangChain ``ChatPromptTemplate(jinja2) | FakeListChatModel | StrOutputParser``
  ``.invoke``;
* DSPy ``Predict`` and ``ChainOfThought`` on ``DummyLM``.

Targets (issue 5): promptlab <= 2.5x the floor, i.e. >= 10x faster than DSPy and >= 30x
faster than LangChain per call.

Run: ``.venv/bin/python -m bench.overhead`` from the repository root.
"""

from __future__ import annotations

import argparse
import logging
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench.timing import interleaved_medians, verdict

QUESTION = "What is 2 + 2?"
REPLY = "2 + 2 = 4.\nAnswer: 4"
# The zero-shot prompt as promptlab's built-in template renders it, as one plain template.
FLOOR_SOURCE = '{{ question }}\n\nEnd your reply with a line of the form "Answer: <your answer>".'
FLOOR_MAX = 2.5
DSPY_MIN_SPEEDUP = 10.0
LANGCHAIN_MIN_SPEEDUP = 30.0
SC_N = 5
#: Informational row: ZeroShot through the event-loop bridge (a provider without a sync call).
ASYNC_ONLY_ROW = "ZeroShot, async-only provider (run_sync)"


@dataclass
class Row:
    """One setup's measured cost (``seconds`` per call) or why it could not run."""

    name: str
    seconds: float | None = None
    unavailable: str | None = None
    per: int = 1  # calls are divided by this (self-consistency: per sample)


def fake_model(prompt: str) -> str:
    """The floor's stand-in for a model: a plain function returning the reply."""
    return REPLY


def floor_setups() -> dict[str, Callable[[], object]]:
    """The floor and the floor without Jinja's globals copy."""
    import jinja2

    template = jinja2.Environment().from_string(FLOOR_SOURCE)
    flat = jinja2.Environment().from_string(FLOOR_SOURCE)
    flat.globals = dict(flat.globals)  # what promptlab's PromptEnvironment does

    return {
        "floor": lambda: fake_model(template.render(question=QUESTION)),
        "floor, flat globals": lambda: fake_model(flat.render(question=QUESTION)),
    }


def promptlab_setups() -> tuple[dict[str, Callable[[], object]], Callable[[], None]]:
    """promptlab's rows, and a callback that clears the fake's request log between batches."""
    from promptlab import ChainOfThought, SelfConsistency, ZeroShot
    from promptlab.completion import Completion, CompletionRequest
    from promptlab.testing import FakeProvider

    class AsyncOnlyFake(FakeProvider):
        """The fake with only its async call, like a remote API: ``.run`` uses run_sync."""

        async def _generate(self, request: CompletionRequest) -> Completion:
            return await super()._generate(request)

    fake = FakeProvider([REPLY], cycle=True)
    async_only = AsyncOnlyFake([REPLY], cycle=True)
    zero_shot = ZeroShot(extractor="numeric")
    cot = ChainOfThought(extractor="numeric")
    sc = SelfConsistency(ChainOfThought(extractor="numeric"), n=SC_N)
    inputs = {"question": QUESTION}
    for strategy, provider in ((zero_shot, fake), (cot, fake), (sc, fake), (zero_shot, async_only)):
        if strategy.run(inputs, provider).answer != "4":
            raise RuntimeError(f"{strategy!r} did not extract the answer 4")

    def clear() -> None:
        fake.requests.clear()
        async_only.requests.clear()

    return {
        "promptlab ZeroShot": lambda: zero_shot.run(inputs, fake),
        "promptlab ChainOfThought": lambda: cot.run(inputs, fake),
        f"promptlab SelfConsistency(CoT, n={SC_N}), per sample": lambda: sc.run(inputs, fake),
        ASYNC_ONLY_ROW: lambda: zero_shot.run(inputs, async_only),
    }, clear


def langchain_setup() -> Callable[[], object]:
    """The LangChain chain's ``invoke``."""
    from langchain_core.language_models.fake_chat_models import FakeListChatModel
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate

    prompt = ChatPromptTemplate.from_messages([("user", FLOOR_SOURCE)], template_format="jinja2")
    chain = prompt | FakeListChatModel(responses=[REPLY]) | StrOutputParser()
    if chain.invoke({"question": QUESTION}) != REPLY:
        raise RuntimeError("the LangChain chain did not return the fake reply")
    return lambda: chain.invoke({"question": QUESTION})


def dspy_setups() -> tuple[dict[str, Callable[[], object]], Callable[[], None]]:
    """DSPy's Predict and ChainOfThought on DummyLM, and a history-clearing callback."""
    import dspy
    from dspy.utils import DummyLM

    # Keyed by the question, so DummyLM answers every call (a list would run out).
    predict_lm = DummyLM({QUESTION: {"answer": "4"}})
    cot_lm = DummyLM({QUESTION: {"reasoning": "2 + 2 = 4.", "answer": "4"}})
    predict = dspy.Predict("question -> answer")
    cot = dspy.ChainOfThought("question -> answer")

    def run_predict() -> object:
        with dspy.context(lm=predict_lm):
            return predict(question=QUESTION)

    def run_cot() -> object:
        with dspy.context(lm=cot_lm):
            return cot(question=QUESTION)

    for run in (run_predict, run_cot):
        if run().answer != "4":  # type: ignore[attr-defined]
            raise RuntimeError("DSPy did not parse the answer 4")

    def clear_history() -> None:
        predict_lm.history.clear()
        cot_lm.history.clear()

    return {"DSPy Predict + DummyLM": run_predict, "DSPy ChainOfThought + DummyLM": run_cot}, (
        clear_history
    )


def measure(rounds: int = 7, target_s: float = 0.05) -> list[Row]:
    """Measure every available setup side by side; unavailable ones say why."""
    setups: dict[str, Callable[[], object]] = dict(floor_setups())
    cleanups: list[Callable[[], None]] = []
    promptlab_rows, clear_fake = promptlab_setups()
    setups.update(promptlab_rows)
    cleanups.append(clear_fake)
    unavailable: dict[str, str] = {}
    try:
        setups["LangChain prompt | FakeListChatModel | parser"] = langchain_setup()
    except Exception as exc:  # ImportError, or an API change: report it, don't fake it
        unavailable["LangChain prompt | FakeListChatModel | parser"] = _reason(exc)
    try:
        dspy_rows, clear_history = dspy_setups()
        setups.update(dspy_rows)
        cleanups.append(clear_history)
    except Exception as exc:
        for name in ("DSPy Predict + DummyLM", "DSPy ChainOfThought + DummyLM"):
            unavailable[name] = _reason(exc)

    def between() -> None:
        for cleanup in cleanups:
            cleanup()

    medians = interleaved_medians(setups, rounds=rounds, target_s=target_s, between=between)
    rows = [
        Row(name, seconds, per=SC_N if name.startswith("promptlab SelfConsistency") else 1)
        for name, seconds in medians.items()
    ]
    rows += [Row(name, unavailable=reason) for name, reason in unavailable.items()]
    return rows


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:120]


def per_call_us(row: Row) -> float | None:
    """Microseconds per call (per sample for self-consistency)."""
    return None if row.seconds is None else row.seconds / row.per * 1e6


def print_table(rows: Sequence[Row], rounds: int) -> bool:
    """Print the one table with ratios and PASS/MISS; return True when every target passes."""
    from rich.console import Console
    from rich.table import Table

    us = {row.name: per_call_us(row) for row in rows}
    floor = us["floor"]
    zero_shot = us["promptlab ZeroShot"]
    cot = us["promptlab ChainOfThought"]
    assert floor is not None and zero_shot is not None and cot is not None  # always measured
    table = Table(
        title=f"Per-call overhead, zero-latency fake model (median of {rounds} interleaved rounds)",
        caption="floor = jinja2.Environment().from_string(prompt).render(...) + a plain "
        "function call. Targets: promptlab <= 2.5x floor; >= 10x faster than DSPy; >= 30x "
        "faster than LangChain.",
    )
    for header in ("Setup", "µs per call", "× floor", "vs promptlab", "Target", "Result"):
        table.add_column(header, justify="left" if header in ("Setup", "Target") else "right")
    all_pass = True
    for row in rows:
        value = us[row.name]
        if value is None:
            table.add_row(row.name, f"unavailable: {row.unavailable}", "", "", "", "")
            continue
        target, ok, versus = "", None, ""
        if row.name.startswith("promptlab"):
            target, ok = f"<= {FLOOR_MAX}x floor", value <= FLOOR_MAX * floor
        elif row.name.startswith("DSPy"):
            mine = cot if "ChainOfThought" in row.name else zero_shot
            versus = f"{value / mine:.1f}x slower"
            target, ok = f">= {DSPY_MIN_SPEEDUP:g}x slower", value >= DSPY_MIN_SPEEDUP * mine
        elif row.name.startswith("LangChain"):
            versus = f"{value / zero_shot:.1f}x slower"
            target = f">= {LANGCHAIN_MIN_SPEEDUP:g}x slower"
            ok = value >= LANGCHAIN_MIN_SPEEDUP * zero_shot
        all_pass = all_pass and ok is not False
        table.add_row(
            row.name,
            f"{value:.1f}",
            f"{value / floor:.2f}",
            versus,
            target,
            "" if ok is None else verdict(ok),
        )
    Console(width=150).print(table)
    return all_pass


def main(argv: Sequence[str] | None = None) -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--batch-seconds", type=float, default=0.05)
    args = parser.parse_args(argv)
    # DSPy and LangChain may warn or log on first use; the table is the output.
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    rows = measure(rounds=args.rounds, target_s=args.batch_seconds)
    print_table(rows, args.rounds)


if __name__ == "__main__":
    main()
