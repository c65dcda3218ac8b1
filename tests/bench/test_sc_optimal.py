"""The simulation's references: the mix-optimal policy and the forecasts' calibration table."""

from __future__ import annotations

import math

from bench.sc_simulation import CHANGE_BINS, MixOptimal, forecast_calibration


def test_the_mix_optimal_policy_trades_samples_for_changes_by_its_penalty() -> None:
    strict = MixOptimal(penalty=1e9, n_train=400, seed=1)
    assert strict.decide(["A"] * 9).stop  # 9-0 with 7 left cannot be overtaken
    assert not strict.decide(["A"] * 3).stop  # a change is never worth a sample
    free = MixOptimal(penalty=0.0, n_train=400, seed=1)
    assert free.decide(["A"]).stop  # changes cost nothing: stop at once
    assert free.decide(["A"]).reason == "optimal: (1,) with 15 left"


def test_calibration_rows_count_every_state_once() -> None:
    rows = forecast_calibration(n_tasks=20, seeds=(0,))
    assert len(rows) == len(CHANGE_BINS) - 1
    for name in ("final_vote", "lead_holds"):
        assert sum(row[name][0] for row in rows) == 20 * 15  # one state per sample, 1..15
        for count, predicted, observed in (row[name] for row in rows):
            assert count == 0 or (0 <= observed <= 1 and not math.isnan(predicted))
