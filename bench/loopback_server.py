"""The benchmarks' OpenAI-compatible server: promptlab's stub, with a reply every client parses.

Runs in its own process (so serving does not take CPU from the clients being measured),
binds 127.0.0.1, prints its root URL on the first line of stdout and stops by itself
after ``--max-lifetime`` seconds, or when its parent closes its stdin.

DSPy's chat adapter expects its ``[[ ## field ## ]]`` markers and would otherwise retry
with another adapter (a second request), so prompts from DSPy get a reply in that format;
every other prompt gets ``"... Answer: 42"``.

Run: ``.venv/bin/python -m bench.loopback_server --latency 0.2``.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def reply(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    """The stub's answer to every request (see the module docstring)."""
    if any("[[ ## " in str(m.get("content", "")) for m in messages):
        return "[[ ## answer ## ]]\n42\n\n[[ ## completed ## ]]"
    return "The sum is 42.\nAnswer: 42"


async def _serve(latency: float, max_lifetime: float) -> None:
    from promptlab.testing.stub_server import StubServer

    server = StubServer(reply=reply, latency=latency, max_lifetime=max_lifetime)
    await server.start()
    print(server.root_url, flush=True)
    loop = asyncio.get_running_loop()
    # The parent closing our stdin (or exiting) ends the server early.
    stdin_closed = loop.run_in_executor(None, sys.stdin.read)
    closed = asyncio.ensure_future(server.wait_closed())
    await asyncio.wait({stdin_closed, closed}, return_when=asyncio.FIRST_COMPLETED)
    await server.aclose()


@contextmanager
def running_server(latency: float = 0.2, max_lifetime: float = 900.0) -> Iterator[str]:
    """Start the server in a subprocess; yield its OpenAI base URL (``.../v1``)."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.loopback_server",
            "--latency",
            str(latency),
            "--max-lifetime",
            str(max_lifetime),
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the loopback server did not start (printed {url!r})")
        yield f"{url}/v1"
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.terminate()
            process.wait(timeout=10)


def main(argv: Sequence[str] | None = None) -> None:
    """Serve until the lifetime ends or stdin closes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--max-lifetime", type=float, default=900.0)
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.latency, args.max_lifetime))


if __name__ == "__main__":
    main()
