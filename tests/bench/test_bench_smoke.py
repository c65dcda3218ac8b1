"""Tiny runs of the benchmark scripts, so they keep working. No timing is asserted."""

from __future__ import annotations

import asyncio

import pytest

from bench import (
    cache,
    concurrency,
    imports,
    memory,
    overhead,
    run_all,
    self_consistency,
    sync_bridge,
)
from bench.loopback_server import running_server


def test_overhead_measures_every_setup(capsys):
    rows = overhead.measure(rounds=1, target_s=0.001)
    measured = {row.name for row in rows if row.seconds is not None}
    expected = {"floor", "promptlab ZeroShot", "promptlab ChainOfThought", overhead.ASYNC_ONLY_ROW}
    assert expected <= measured
    overhead.print_table(rows, rounds=1)
    assert "promptlab ZeroShot" in capsys.readouterr().out


def overhead_rows(promptlab_us: float) -> list[overhead.Row]:
    """Floor at 10 µs per call, promptlab at ``promptlab_us``, no DSPy/LangChain rows."""
    return [
        overhead.Row("floor", seconds=10e-6),
        overhead.Row("promptlab ZeroShot", seconds=promptlab_us * 1e-6),
        overhead.Row("promptlab ChainOfThought", seconds=promptlab_us * 1e-6),
    ]


def test_overhead_verdict_passes_within_the_floor_target_and_misses_beyond(capsys):
    # FLOOR_MAX = 2.5: 20 µs against a 10 µs floor passes, 30 µs misses.
    assert overhead.print_table(overhead_rows(20.0), rounds=1) is True
    passed = capsys.readouterr().out
    assert "PASS" in passed and "MISS" not in passed
    assert overhead.print_table(overhead_rows(30.0), rounds=1) is False
    missed = capsys.readouterr().out
    assert "MISS" in missed and "PASS" not in missed


def test_sync_bridge_times_this_tree_against_a_revision(capsys):
    sync_bridge.main(["--baseline", "HEAD", "--rounds", "1", "--batch-seconds", "0.001"])
    out = capsys.readouterr().out
    assert "ZeroShot.run" in out and "SelfConsistency(CoT, n=5).run" in out


def test_import_timing_times_the_statement_in_a_fresh_process():
    slow = imports.time_import("import time; time.sleep(0.05)")
    assert 0.05 <= slow["seconds"] < 10  # the statement's own time, sleep included
    assert imports.time_import("import json")["heavy"] == []
    assert "numpy" in imports.time_import("import numpy")["heavy"]
    assert "ModuleNotFoundError" in imports.time_import("import no_such_module_here")["error"]


def test_bare_import_promptlab_loads_no_heavy_library():
    assert imports.time_import("import promptlab")["heavy"] == []


def test_simulation_rows_compare_every_rule_with_fixed_n():
    rows = self_consistency.simulation_rows(n_tasks=60, n_boot=50)
    assert rows[0]["rule"] == "fixed n=16" and rows[0]["mean_samples"] == 16
    assert all(1 <= row["mean_samples"] <= 16 for row in rows)
    unbeatable = [row for row in rows if row["rule"].startswith("unbeatable")]
    assert unbeatable and all(row["acc_diff_pts"] == 0 for row in unbeatable)


def test_local_rows_replay_rules_on_given_pools_and_add_maj_at_k():
    pools = [["5"] * 16, ["3", "5", None, "5"] * 4, ["1", "2", "3", "4"] * 4]
    rows = self_consistency.local_rows(pools, ["5", "5", "9"], n_boot=20)
    fixed = rows[0]
    assert fixed["accuracy"] == pytest.approx(2 / 3)
    majk = {row["k"]: row["majk"] for row in rows if "majk" in row}
    assert majk[16] == pytest.approx(2 / 3) and set(majk) == {1, 4, 8, 16}
    beta = next(r for r in rows if r["rule"] == "beta>=0.95" and r["batch_size"] == 1)
    assert beta["mean_samples"] < 16  # the unanimous pool stops early


def test_answers_are_encoded_with_the_correct_one_as_zero():
    encoded = self_consistency.encode([["7", "3", None, "7"] + [None] * 12], ["3"])
    assert encoded[0, :4].tolist() == [1, 0, -1, 1]


def test_cache_rerun_makes_no_provider_calls():
    rows, (key_s, get_s), floors = cache.measure(cells=40, repeats=1)
    first, rerun, resume = rows
    assert first.calls == 40 and rerun.calls == 0 and resume.calls == 0
    assert rerun.cached_cells == 40 and key_s > 0 and get_s > 0
    assert len(floors) == 2 and all(0 < floor < 0.1 for floor in floors)


def test_cache_overhead_rows_hold_the_runner_to_one_bare_call():
    def row(name: str, seconds: float) -> cache.Row:
        return cache.Row(name, [seconds], 0, 1000, 1000)

    fast = [row("first", 0.15), row("rerun", 0.25), row("resume", 0.01)]
    (first, rerun) = cache.runner_overhead(fast, 1e-4)
    assert first[1] == pytest.approx(5e-5) and first[2] == pytest.approx(0.5) and first[3] is True
    assert rerun[1] == pytest.approx(1.5e-4) and rerun[3] is False  # 1.5 bare calls: MISS
    assert cache.print_table(fast, (1e-5, 1e-5), 1, [1e-4]) is False


def test_memory_child_reports_a_peak():
    peak_mb, _ = memory.peak_rss_mb(0)
    assert peak_mb > 10


def test_concurrency_clients_run_against_the_loopback_server(monkeypatch):
    keep = ("bare aiohttp + semaphore (floor)", "promptlab Experiment (OpenAIProvider)")
    monkeypatch.setattr(
        concurrency, "CLIENTS", {k: v for k, v in concurrency.CLIENTS.items() if k in keep}
    )
    with running_server(latency=0.01, max_lifetime=120) as base_url:
        rows = asyncio.run(concurrency.measure_async(base_url, rounds=1, calls=10))
    assert [row.name for row in rows] == list(keep)
    assert all(len(row.seconds) == 1 and not row.note for row in rows), rows


def test_run_all_names_the_machine():
    assert "CPUs" in run_all.machine()


def test_the_loss_target_is_a_non_inferiority_verdict():
    def row(saved, diff, low):
        return {"saved_pct": saved, "acc_diff_pts": diff, "ci_low_pts": low}

    assert "PASS" in self_consistency.verdict_for(row(50.0, -0.6, -0.95))[0]
    # The point estimate meets "<= 1 point lost" but the CI does not rule out more.
    assert "point only" in self_consistency.verdict_for(row(50.0, -0.6, -1.25))[0]
    assert "MISS" in self_consistency.verdict_for(row(49.9, -0.1, -0.3))[0]
    assert "MISS" in self_consistency.verdict_for(row(60.0, -1.05, -1.6))[0]


def test_pooled_seeds_narrow_the_interval_by_root_n():
    rows = [
        {"saved_pct": s, "acc_diff_pts": -0.5, "ci_low_pts": -1.5, "ci_high_pts": 0.5}
        for s in (40.0, 50.0, 60.0, 50.0)
    ]
    saved, diff, low, high = self_consistency.pooled(rows)
    assert (saved, diff) == (50.0, -0.5)
    assert (high - low) == pytest.approx(2.0 / 2)  # four seeds: half the width of one


def test_the_mix_oracle_stops_where_its_fitted_loss_allows():
    from bench.sc_simulation import MixOracle

    oracle = MixOracle(cost=0.0, n_train=400, seed=1)
    assert oracle.decide(["A"] * 9).stop  # 9-0 with 7 left cannot be overtaken
    assert not oracle.decide(["A", "B"]).stop  # a 1-1 split is expected to lose at cost 0
    generous = MixOracle(cost=1.0, n_train=400, seed=1)
    assert generous.decide(["A", "A"]).stop
