"""1,000 calls at concurrency 50, and 5,000 at 200, against a loopback server (200 ms).

Clients, all in this process against one server process (`bench.loopback_server`):

Every client sends the same user message: the prompt promptlab's ``ZeroShot`` renders
for the question (pre-rendered, untimed, for the others; promptlab renders it itself).
DSPy, which builds its own prompt from a signature, is the exception.

* bare aiohttp with a semaphore (the floor);
* raw ``openai.AsyncOpenAI`` with a semaphore;
* promptlab: an ``Experiment`` of 1,000 cells (one arm, ``ZeroShot``, numeric scoring)
  through ``OpenAIProvider`` at ``concurrency=50``, with its response cache (a fresh one
  per round, so every call misses and is written), its ``cells.jsonl`` results file and
  its progress bar (drawn only on a terminal), ending with the ``Run`` loaded from disk;
* promptlab without the runner: ``ZeroShot.arun`` through ``OpenAIProvider`` with a
  semaphore (informational: it separates the runner's bookkeeping from the rest);
* LangChain ``prompt | ChatOpenAI | StrOutputParser`` ``.abatch(max_concurrency=50)``;
* DSPy ``Evaluate(num_threads=50)`` of ``Predict`` on ``dspy.LM`` (no cache).

Each client makes a few untimed warm-up calls first (imports, connection pools). The ideal
wall time is ceil(1000 / 50) x 0.2 s = 4 s; the table shows measured / ideal, median over
interleaved rounds. The gap above 1.0 is the client's own CPU cost per request; the table also
shows that cost directly (this process's CPU time per call, all threads).

The second table does the same with 5,000 calls at concurrency 200 (ideal 5 s): four times
the requests per second, where a client's per-call CPU decides its wall time.

Targets (issues 5 and 13), in each table: promptlab's ratio <= 1.05 x the raw SDK's, and below
LangChain's and DSPy's.

Run: ``.venv/bin/python -m bench.concurrency`` from the repository root
(``--concurrency 50`` for the first table only).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.loopback_server import running_server

#: Concurrency -> calls: the tables this script prints by default.
SETTINGS = {50: 1000, 200: 5000}
CALLS = SETTINGS[50]
CONCURRENCY = 50
LATENCY_S = 0.2
MODEL = "stub-model"
API_KEY = "sk-bench"
WARMUP_CALLS = 20
RAW_SDK_MARGIN = 1.05


def questions(n: int) -> list[str]:
    """Distinct questions, so no layer can serve one call from another's result."""
    return [f"What is {i} + {42 - i}?" for i in range(n)]


@dataclass
class Row:
    """One client's wall times over rounds, or why it could not run."""

    name: str
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    unavailable: str | None = None
    note: str = ""

    def ratio(self, ideal: float) -> float:
        """Median wall time over the ideal."""
        return statistics.median(self.seconds) / ideal


Client = Callable[[list[str]], Awaitable[int]]  # runs the questions, returns successes
Close = Callable[[], Awaitable[None]]
PromptOf = Callable[[str], str]  # question -> the user message promptlab's ZeroShot sends
Build = Callable[[str, PromptOf, int], Awaitable[tuple[Client, Close]]]  # url, prompts, limit


async def _nothing() -> None:
    return None


def succeeded(outcomes: Sequence[bool | BaseException]) -> int:
    """Calls that returned a parsed reply. A failed call (e.g. a connection the server
    closed while the client sat idle between rounds; the raw clients do not retry) counts
    as not succeeded, so the row's note says so, instead of ending the whole run."""
    return sum(outcome is True for outcome in outcomes)


async def aiohttp_client(
    base_url: str, prompt_of: PromptOf, concurrency: int = CONCURRENCY
) -> tuple[Client, Close]:
    """Bare aiohttp: POST the JSON, read the reply."""
    import aiohttp

    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency))
    url = f"{base_url}/chat/completions"
    headers = {"Authorization": f"Bearer {API_KEY}"}

    async def run(batch: list[str]) -> int:
        gate = asyncio.Semaphore(concurrency)

        async def one(question: str) -> bool:
            async with gate:
                message = {"role": "user", "content": prompt_of(question)}
                body = {"model": MODEL, "messages": [message]}
                async with session.post(url, json=body, headers=headers) as response:
                    data = await response.json()
                    return bool(data["choices"][0]["message"]["content"])

        return succeeded(await asyncio.gather(*(one(q) for q in batch), return_exceptions=True))

    return run, session.close


async def openai_client(
    base_url: str, prompt_of: PromptOf, concurrency: int = CONCURRENCY
) -> tuple[Client, Close]:
    """Raw AsyncOpenAI with a semaphore."""
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=base_url, api_key=API_KEY, max_retries=0)

    async def run(batch: list[str]) -> int:
        gate = asyncio.Semaphore(concurrency)

        async def one(question: str) -> bool:
            async with gate:
                reply = await client.chat.completions.create(
                    model=MODEL, messages=[{"role": "user", "content": prompt_of(question)}]
                )
                return bool(reply.choices[0].message.content)

        return succeeded(await asyncio.gather(*(one(q) for q in batch), return_exceptions=True))

    return run, client.close


async def promptlab_client(
    base_url: str, prompt_of: PromptOf, concurrency: int = CONCURRENCY
) -> tuple[Client, Close]:
    """An Experiment run: cache, results file, progress bar and Run loading included."""
    from promptlab import OpenAIProvider, ZeroShot
    from promptlab.experiments.experiment import Experiment

    provider = OpenAIProvider(MODEL, base_url=base_url, api_key=API_KEY)
    workdir = Path(tempfile.mkdtemp(prefix="promptlab-bench-"))
    rounds = iter(range(1_000_000))

    async def run(batch: list[str]) -> int:
        tasks = [{"id": str(i), "question": q, "answer": 42} for i, q in enumerate(batch)]
        experiment = Experiment(
            arms={"zero_shot": ZeroShot(extractor="numeric")},
            providers={"stub": provider},
            tasks=tasks,
            scorers=["numeric"],
            concurrency=concurrency,
            name="concurrency-bench",
        )
        n = next(rounds)
        # A fresh run directory and cache each round: every cell is called and written.
        result = await experiment.arun(
            out=workdir / f"run{n}", cache=workdir / f"cache{n}.sqlite", progress=True
        )
        return sum(1 for record in result.records if record.error is None)

    async def close() -> None:
        await provider.aclose()
        shutil.rmtree(workdir, ignore_errors=True)

    return run, close


async def promptlab_strategy_client(
    base_url: str, prompt_of: PromptOf, concurrency: int = CONCURRENCY
) -> tuple[Client, Close]:
    """ZeroShot.arun through OpenAIProvider with a semaphore: promptlab without the runner."""
    from promptlab import OpenAIProvider, ZeroShot

    provider = OpenAIProvider(MODEL, base_url=base_url, api_key=API_KEY)
    strategy = ZeroShot(extractor="numeric")

    async def run(batch: list[str]) -> int:
        gate = asyncio.Semaphore(concurrency)

        async def one(question: str) -> bool:
            async with gate:
                result = await strategy.arun({"question": question}, provider)
                return result.answer == "42"

        return succeeded(await asyncio.gather(*(one(q) for q in batch), return_exceptions=True))

    return run, provider.aclose


async def langchain_client(
    base_url: str, prompt_of: PromptOf, concurrency: int = CONCURRENCY
) -> tuple[Client, Close]:
    """LangChain's abatch with max_concurrency."""
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(model=MODEL, base_url=base_url, api_key=API_KEY, max_retries=0)  # type: ignore[arg-type]
    chain = ChatPromptTemplate.from_messages([("user", "{prompt}")]) | llm | StrOutputParser()

    async def run(batch: list[str]) -> int:
        replies = await chain.abatch(
            [{"prompt": prompt_of(q)} for q in batch], config={"max_concurrency": concurrency}
        )
        return sum(1 for r in replies if r)

    return run, _nothing


async def dspy_client(
    base_url: str, prompt_of: PromptOf, concurrency: int = CONCURRENCY
) -> tuple[Client, Close]:
    """DSPy's Evaluate with num_threads (it runs the program in a thread pool)."""
    import dspy

    lm = dspy.LM(f"openai/{MODEL}", api_base=base_url, api_key=API_KEY, cache=False, num_retries=0)
    program = dspy.Predict("question -> answer")

    def metric(example: object, prediction: object, trace: object = None) -> bool:
        return str(getattr(prediction, "answer", "")).strip() == "42"

    def evaluate(batch: list[str]) -> int:
        devset = [dspy.Example(question=q, answer="42").with_inputs("question") for q in batch]
        evaluator = dspy.Evaluate(
            devset=devset,
            metric=metric,
            num_threads=concurrency,
            display_progress=False,
            provide_traceback=False,
        )
        with dspy.context(lm=lm):
            outcome = evaluator(program)
        score = getattr(outcome, "score", outcome)
        return round(float(score) / 100 * len(batch))  # type: ignore[arg-type]

    async def run(batch: list[str]) -> int:
        # Evaluate is synchronous; run it off the loop like a script would run it.
        return await asyncio.to_thread(evaluate, batch)

    return run, _nothing


CLIENTS: dict[str, Build] = {
    "bare aiohttp + semaphore (floor)": aiohttp_client,
    "raw AsyncOpenAI + semaphore": openai_client,
    "promptlab Experiment (OpenAIProvider)": promptlab_client,
    "promptlab ZeroShot.arun + semaphore (no runner)": promptlab_strategy_client,
    "LangChain abatch": langchain_client,
    "DSPy Evaluate": dspy_client,
}


async def measure_async(
    base_url: str, rounds: int, calls: int, concurrency: int = CONCURRENCY
) -> list[Row]:
    """Build every client, warm it up, then time ``calls`` calls per round, interleaved.

    Every other round runs the clients in reverse order, so that none always follows the
    same neighbour (whose connections, garbage and cache files it would inherit).
    """
    from promptlab import ZeroShot

    # Every client sends the message promptlab's ZeroShot sends for the question (rendered
    # here, untimed, for the others), so the server does the same work for each. DSPy
    # builds its own prompt around the question.
    template = ZeroShot()
    prompts = {
        q: template.render({"question": q})[-1].content for q in questions(max(calls, WARMUP_CALLS))
    }
    rows: dict[str, Row] = {}
    clients: dict[str, Client] = {}
    closers: list[Close] = []
    for name, build in CLIENTS.items():
        row = rows[name] = Row(name)
        try:
            client, close = await build(base_url, prompts.__getitem__, concurrency)
            closers.append(close)
            ok = await client(questions(WARMUP_CALLS))
            if ok != WARMUP_CALLS:
                row.note = f"warm-up: {ok}/{WARMUP_CALLS} replies parsed"
            clients[name] = client
        except Exception as exc:  # not installed, or an API change: report, don't fake
            row.unavailable = f"{type(exc).__name__}: {exc}".splitlines()[0][:120]
    batch = questions(calls)
    for number in range(rounds):
        order = list(clients.items())
        for name, client in order if number % 2 == 0 else reversed(order):
            start, cpu_start = time.perf_counter(), time.process_time()
            try:
                ok = await client(batch)
            except Exception as exc:  # e.g. DSPy stopping after too many errors
                rows[name].note = f"a round failed: {type(exc).__name__}: {exc}"[:120]
                continue
            rows[name].seconds.append(time.perf_counter() - start)
            rows[name].cpu_seconds.append(time.process_time() - cpu_start)
            if ok != calls:
                rows[name].note = f"{ok}/{calls} calls succeeded"
    for close in closers:
        await close()
    return list(rows.values())


def measure(
    rounds: int = 3, calls: int = CALLS, latency: float = LATENCY_S, concurrency: int = CONCURRENCY
) -> list[Row]:
    """Start the server, measure every client, stop the server."""
    # A loaded machine can take longer than the server's default 15-minute lifetime.
    with running_server(latency=latency, max_lifetime=3600.0) as base_url:
        return asyncio.run(measure_async(base_url, rounds, calls, concurrency))


def print_table(
    rows: Sequence[Row], rounds: int, calls: int, latency: float, concurrency: int = CONCURRENCY
) -> bool:
    """Print the table with ratios and PASS/MISS; True when every target passes."""
    from rich.console import Console
    from rich.table import Table

    from bench.timing import verdict

    ideal = math.ceil(calls / concurrency) * latency
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    table = Table(
        title=f"{calls} calls at concurrency {concurrency}, loopback server with "
        f"{latency * 1000:.0f} ms latency (median of {rounds} interleaved rounds; "
        f"load average {load})",
        caption=f"ideal wall time = ceil({calls}/{concurrency}) x {latency} s = {ideal:.1f} s. "
        "Targets: promptlab ratio <= 1.05x raw SDK's, and below LangChain's and DSPy's. "
        f"Progress bar {'drawn' if sys.stderr.isatty() else 'not drawn (no terminal)'}.",
    )
    for header in ("Client", "wall s", "÷ ideal", "CPU ms/call", "Target", "Result", "Note"):
        table.add_column(
            header, justify="left" if header in ("Client", "Target", "Note") else "right"
        )
    by_name = {row.name: row for row in rows if row.seconds}
    raw = by_name.get("raw AsyncOpenAI + semaphore")
    mine = by_name.get("promptlab Experiment (OpenAIProvider)")
    passed = mine is not None
    for row in rows:
        if not row.seconds:
            table.add_row(row.name, f"unavailable: {row.unavailable}", "", "", "", "", "")
            continue
        ratio = row.ratio(ideal)
        cpu_ms = statistics.median(row.cpu_seconds) / calls * 1e3
        target, result = "", ""
        if row is mine and raw is not None:
            ok = ratio <= RAW_SDK_MARGIN * raw.ratio(ideal)
            target, result = f"<= {RAW_SDK_MARGIN * raw.ratio(ideal):.3f} (1.05x raw)", verdict(ok)
            passed = passed and ok
        elif mine is not None and row.name in ("LangChain abatch", "DSPy Evaluate"):
            ok = mine.ratio(ideal) < ratio
            target, result = "promptlab below", verdict(ok)
            passed = passed and ok
        table.add_row(
            row.name,
            f"{statistics.median(row.seconds):.2f}",
            f"{ratio:.3f}",
            f"{cpu_ms:.2f}",
            target,
            result,
            row.note,
        )
    Console(width=170).print(table)
    return passed


def main(argv: Sequence[str] | None = None) -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        default=list(SETTINGS),
        help="one table per value (default: %(default)s)",
    )
    parser.add_argument(
        "--calls", type=int, default=None, help=f"calls per round (default: {SETTINGS})"
    )
    parser.add_argument("--latency", type=float, default=LATENCY_S)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    for concurrency in args.concurrency:
        calls = args.calls or SETTINGS.get(concurrency, 20 * concurrency)
        rows = measure(args.rounds, calls, args.latency, concurrency)
        print_table(rows, args.rounds, calls, args.latency, concurrency)


if __name__ == "__main__":
    main()
