"""A build killed with SIGKILL (no cleanup at all) resumes with every row exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("deeplake")  # the "deeplake" extra, installed by `make test`
import deeplake

from promptlab.retrieval import DeepLakeRetriever
from tests.retrieval.deeplake_support import SeededEmbedder, generated_corpus

ROOT = Path(__file__).resolve().parents[2]
CORPUS = generated_corpus(120)

# The child builds with the same embedder class (so the same fingerprint), patched to
# announce its fourth batch and then hang there until it is killed.
CHILD = """
import asyncio, sys
from pathlib import Path
from promptlab.retrieval import DeepLakeRetriever
from tests.retrieval.deeplake_support import SeededEmbedder, generated_corpus

marker, path = Path(sys.argv[1]), sys.argv[2]
healthy = SeededEmbedder._embed_batch

async def hangs_on_fourth(self, texts, *, query):
    if not query and len(self.calls) == 3:
        marker.write_text("three batches committed")
        await asyncio.sleep(600)
    return await healthy(self, texts, query=query)

SeededEmbedder._embed_batch = hangs_on_fourth
DeepLakeRetriever.from_corpus(
    generated_corpus(120), path, SeededEmbedder(), batch_size=10, progress=False, cache=False
)
"""


def test_a_killed_build_resumes_without_duplicates_or_gaps(tmp_path: Path) -> None:
    marker, path = tmp_path / "marker", tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(marker), str(path)], cwd=ROOT, env=env
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            if child.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the child build ended or stalled early (exit {child.returncode})")
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    survived = deeplake.open_read_only(str(path))
    assert len(survived) == 30  # three committed batches of ten

    embedder = SeededEmbedder()
    resumed = DeepLakeRetriever.from_corpus(
        CORPUS, path, embedder, batch_size=10, progress=False, cache=False
    )
    assert sum(embedder.calls) == 90
    assert resumed.build_report is not None and resumed.build_report.resumed_from == 30
    dataset = deeplake.open_read_only(str(path))
    assert [str(i) for i in dataset["id"][:]] == [row["id"] for row in CORPUS]
