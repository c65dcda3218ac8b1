"""A tiny run of bench/deeplake.py, so it keeps working. No timing is asserted."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("deeplake")  # the "deeplake" extra, installed by `make test`

from bench import deeplake as bench


def test_each_backend_builds_and_serves_and_recall_is_counted(tmp_path: Path, capsys) -> None:
    medians = {}
    # Two of the three backends (each child imports promptlab and deeplake afresh); the
    # plain "deeplake" one runs the same code as "deeplake+index" without the index.
    for backend in ("in-memory", "deeplake+index"):
        built = bench.child(backend, "build", 300, tmp_path / backend)
        served = bench.child(backend, "serve", 300, tmp_path / backend)
        assert built["peak_mb"] > 0 and len(served["tops"]) == bench.QUERIES
        medians[(backend, 300)] = {
            "build_s": built["seconds"],
            "build_mb": built["peak_mb"],
            "open_s": served["open_seconds"],
            "query_s": served["query_seconds"],
            "serve_mb": served["peak_mb"],
            "tops": [served["tops"]],
        }
    medians[("deeplake", 300)] = medians[("in-memory", 300)]
    exact = medians[("in-memory", 300)]["tops"]
    assert 0.0 < bench.recall(medians[("deeplake+index", 300)]["tops"], exact) <= 1.0
    bench.print_table(100.0, medians, [300], rounds=1)
    assert "deeplake+index" in capsys.readouterr().out


def test_recall_counts_shared_ids() -> None:
    assert bench.recall([[["a", "b"], ["c", "d"]]], [[["a", "x"], ["d", "c"]]]) == 0.75
