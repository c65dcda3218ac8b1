"""bench/large_runs.py: its verdicts, on made-up rows (no timing is asserted)."""

from __future__ import annotations

import pytest

from bench import large_runs

RUNS = {
    "small": {"peak_mb": 200.0, "seconds": 10.0, "calls": 10_000},
    "first": {
        "peak_mb": 350.0,
        "seconds": 100.0,
        "calls": 100_000,
        "analysis_s": 8.0,
        "analysis_peak_mb": 380.0,
    },
    "cached": {"peak_mb": 300.0, "seconds": 12.0, "calls": 0},
    "resume": {"peak_mb": 300.0, "seconds": 2.0, "calls": 0},
}
BATCHES = {
    20_000: {"peak_mb": 300.0, "analysis_peak_mb": 310.0, "seconds": 60.0, "batches": 1,
             "max_requests": 20_000, "max_bytes": 6e6},
    100_000: {"peak_mb": 320.0, "analysis_peak_mb": 400.0, "seconds": 300.0, "batches": 5,
              "max_requests": 20_000, "max_bytes": 6e6},
}  # fmt: skip


def test_every_target_met_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert large_runs.report(RUNS, BATCHES, 100_000, 10_000) is True
    out = capsys.readouterr().out
    assert out.count("PASS") == 8 and "MISS" not in out  # 5 run rows, 3 batch rows


@pytest.mark.parametrize(
    ("row", "field", "value"),
    [
        ("first", "peak_mb", 401.0),  # over 400 MB
        ("first", "analysis_peak_mb", 401.0),  # the cells table pushes it over 400 MB
        ("first", "seconds", 111.0),  # 1.11 ms per cell against 1.00
        ("cached", "calls", 1),
        ("cached", "seconds", 15.5),
        ("resume", "seconds", 3.1),
    ],
)
def test_each_missed_target_is_a_miss(
    row: str, field: str, value: float, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = {name: dict(values) for name, values in RUNS.items()}
    runs[row][field] = value
    assert large_runs.report(runs, {}, 100_000, 10_000) is False
    assert capsys.readouterr().out.count("MISS") == 1


@pytest.mark.parametrize(
    ("field", "shown"),
    [
        ("peak_mb", "MISS  batch peak RSS, the run: 451 MB"),  # over 1.5 x 300 MB
        ("analysis_peak_mb", "MISS  batch peak RSS, then its cells table: 466 MB"),  # 1.5 x 310
    ],
)
def test_growing_batch_memory_is_a_miss(
    field: str, shown: str, capsys: pytest.CaptureFixture[str]
) -> None:
    batches = {n: dict(row) for n, row in BATCHES.items()}
    batches[100_000][field] = 451.0 if field == "peak_mb" else 466.0
    assert large_runs.report({}, batches, 100_000, 10_000) is False
    out = capsys.readouterr().out
    assert shown in out and out.count("MISS") == 1
