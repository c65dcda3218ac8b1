"""Deep Lake against the in-memory EmbeddingRetriever: build time, query time, peak memory.

For 10,000 and 100,000 short generated passages (about 12 words each), each backend is
measured in fresh processes, so each peak is its own:

* **build**: read the corpus, embed every passage, write the index to disk
  (``DeepLakeRetriever.from_corpus`` into a local folder; ``EmbeddingRetriever`` with
  ``index_dir``, which saves ``vectors.npy`` and the chunks);
* **serve**: a new process opens the saved index (Deep Lake: the dataset alone;
  EmbeddingRetriever: the corpus and ``vectors.npy``, which it needs) and answers 20
  queries; the median seconds per query is shown (after one warm-up query).

The embedder is a cheap deterministic stand-in, the same for every backend, so the
figures measure the stores, not a model: 384 numbers (the width of bge-small or MiniLM),
the sum of a fixed random vector per word plus noise seeded by the text's CRC-32, so
texts sharing words lie close together as with a real model. The response cache is off
for both. Peak RSS is ``getrusage(RUSAGE_SELF).ru_maxrss`` of each child (the most memory
it ever held), next to a baseline child that imports promptlab and deeplake and does
nothing. The serve children also report their top-5 ids: recall@5 is the share of the
exact top-5 (the in-memory search) that each backend returned. ``deeplake`` is promptlab's
default (no vector index: exact search); ``deeplake+index`` builds Deep Lake's clustered
index (``from_corpus(..., vector_index=True)``: approximate search). Each cell is the
median over interleaved rounds.

Run: ``.venv/bin/python -m bench.deeplake [--sizes 10000 100000] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (10_000, 100_000)
BACKENDS = ("in-memory", "deeplake", "deeplake+index")
QUERIES = 20

_CHILD = """
import json, resource, statistics, sys, time, zlib
import numpy as np
import deeplake  # imported by the baseline too, so every child starts from the same place
from promptlab.retrieval import DeepLakeRetriever, Embedder, EmbeddingRetriever

backend, phase, size, folder = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
WORDS = ("tide boat quay bell rye bread oven steam train ticket whale sailor pupil "
         "teacher goal stadium lantern river granite lamp cheese cave hill mayor").split()

TABLE = {w: np.random.default_rng(i).standard_normal(384).astype(np.float32)
         for i, w in enumerate(WORDS)}

class CheapEmbedder(Embedder):
    # A fixed vector per known word, summed, plus noise seeded by the text's CRC-32: texts
    # sharing words are near each other, as with a real model.
    name = "bench:words-plus-crc32-noise-384"
    def __init__(self):
        super().__init__(batch_size=1000)
    async def _embed_batch(self, texts, *, query):
        rows = []
        for t in texts:
            words = [TABLE[w] for w in t.split() if w in TABLE]
            noise = np.random.default_rng(zlib.crc32(t.encode())).standard_normal(
                384, dtype=np.float32)
            rows.append(np.sum(words, axis=0) + 0.5 * noise if words else noise)
        return np.stack(rows)

def corpus():
    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(WORDS), size=(size, 10))
    return [{"id": f"p{i}", "text": " ".join(WORDS[j] for j in row) + f" number {i}"}
            for i, row in enumerate(picks)]

out = {}
if phase == "baseline":
    pass
elif phase == "build":
    start = time.perf_counter()
    if backend.startswith("deeplake"):
        DeepLakeRetriever.from_corpus(corpus(), folder, CheapEmbedder(), chunk_size=None,
                                      progress=False, cache=False,
                                      vector_index=backend.endswith("+index"))
    else:
        EmbeddingRetriever(corpus(), CheapEmbedder(), chunk_size=None, index_dir=folder,
                           cache=False).build()
    out["seconds"] = time.perf_counter() - start
else:
    start = time.perf_counter()
    if backend.startswith("deeplake"):
        retriever = DeepLakeRetriever(folder, CheapEmbedder(), cache=False)
    else:
        retriever = EmbeddingRetriever(corpus(), CheapEmbedder(), chunk_size=None,
                                       index_dir=folder, cache=False)
        assert retriever.loaded_from_disk
    out["open_seconds"] = time.perf_counter() - start
    retriever.retrieve_sync("warm up", k=5)
    times, tops = [], []
    for q in range(int(sys.argv[5])):
        query = f"{WORDS[q % len(WORDS)]} {WORDS[(3 * q) % len(WORDS)]} number {q * 37}"
        start = time.perf_counter()
        found = retriever.retrieve_sync(query, k=5)
        times.append(time.perf_counter() - start)
        tops.append([d.id for d in found])
    out["query_seconds"] = statistics.median(times)
    out["tops"] = tops
out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def child(backend: str, phase: str, size: int, folder: Path) -> dict:
    """Run one measurement in a fresh process and return what it printed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, backend, phase, str(size), str(folder), str(QUERIES)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{backend} {phase} {size}: {done.stderr.strip()[-600:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(sizes: Sequence[int], rounds: int) -> tuple[float, dict]:
    """Median figures per (backend, size), backends and sizes interleaved within a round."""
    samples: dict[tuple[str, int], dict[str, list]] = {}
    baseline: list[float] = []
    for _ in range(rounds):
        baseline.append(child("in-memory", "baseline", 0, Path("unused"))["peak_mb"])
        for size in sizes:
            for backend in BACKENDS:
                folder = Path(tempfile.mkdtemp(prefix=f"promptlab-bench-{backend}-"))
                try:
                    built = child(backend, "build", size, folder / "index")
                    served = child(backend, "serve", size, folder / "index")
                finally:
                    shutil.rmtree(folder, ignore_errors=True)
                entry = samples.setdefault((backend, size), {})
                for key, value in [
                    ("build_s", built["seconds"]),
                    ("build_mb", built["peak_mb"]),
                    ("open_s", served["open_seconds"]),
                    ("query_s", served["query_seconds"]),
                    ("serve_mb", served["peak_mb"]),
                    ("tops", served["tops"]),
                ]:
                    entry.setdefault(key, []).append(value)
    medians = {
        key: {
            name: (values if name == "tops" else statistics.median(values))
            for name, values in entry.items()
        }
        for key, entry in samples.items()
    }
    return statistics.median(baseline), medians


def recall(tops: list, exact: list) -> float:
    """Share of the exact top-5 ids found in ``tops``, over every query of every round."""
    found = total = 0
    for got_round, exact_round in zip(tops, exact, strict=True):
        for got, want in zip(got_round, exact_round, strict=True):
            found += len(set(got) & set(want))
            total += len(want)
    return found / total


def print_table(baseline_mb: float, medians: dict, sizes: Sequence[int], rounds: int) -> None:
    """The table: one row per backend and size."""
    print(f"Deep Lake vs in-memory EmbeddingRetriever (median of {rounds} round(s))")
    print(f"baseline child (imports only): peak RSS {baseline_mb:.0f} MB")
    header = (
        f"{'backend':<15} {'passages':>9} {'build s':>8} {'build peak MB':>14} "
        f"{'open s':>7} {'query ms':>9} {'serve peak MB':>14} {'recall@5':>9}"
    )
    print(header)
    print("-" * len(header))
    for size in sizes:
        exact = medians[("in-memory", size)]["tops"]
        for backend in BACKENDS:
            m = medians[(backend, size)]
            print(
                f"{backend:<15} {size:>9,} {m['build_s']:>8.1f} {m['build_mb']:>14.0f} "
                f"{m['open_s']:>7.2f} {m['query_s'] * 1000:>9.1f} {m['serve_mb']:>14.0f} "
                f"{recall(m['tops'], exact):>9.3f}"
            )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    baseline_mb, medians = measure(args.sizes, args.rounds)
    print_table(baseline_mb, medians, args.sizes, args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
