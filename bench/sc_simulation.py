"""Simulate adaptive self-consistency: how many samples do stopping rules save, at what cost?

Each simulated task has a known answer distribution: the correct answer's share is uniform
on [0.3, 0.9] and the rest is split unevenly (a flat Dirichlet) over 3-5 wrong answers, with
an optional share of unextractable answers (None). For every task one sequence of
``max_n`` samples is drawn with a seeded numpy generator, and every rule sees that same
sequence (common random numbers), so rule-vs-fixed accuracy differences are paired per task.

How many samples a rule draws on a task comes from the library's own sampling loop
(`sample_until_stop`, the loop `SelfConsistency` runs), fed that task's sequence. The
final answer is the majority of the samples drawn, ties broken by first-seen order, Nones
never winning.

Run standalone from the repo root: ``.venv/bin/python -m bench.sc_simulation [--tasks 2000]``
(or with ``PYTHONPATH=.``; promptlab must be importable).
The project target: >= 50% fewer samples than fixed n=16 at <= 1 point accuracy loss.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
from collections import Counter
from collections.abc import Hashable, Iterator, Sequence
from typing import Any

import numpy as np

from promptlab.strategies.stopping import (
    BetaStop,
    DirichletStop,
    FixedN,
    StopDecision,
    StoppingRule,
    WindowStop,
    final_vote_probability,
    lead_holds_probability,
    sample_until_stop,
)
from promptlab.voting import MajorityVote

NONE_ID = -1  # answer id for "no extractable answer"; 0 is the correct answer


def make_tasks(
    n_tasks: int,
    max_n: int,
    rng: np.random.Generator,
    none_rate: float = 0.0,
    correct_share: tuple[float, float] = (0.3, 0.9),
) -> np.ndarray:
    """Draw ``max_n`` answer ids per task: 0 = correct, 1..5 = wrong, ``NONE_ID`` = None."""
    n_cols = 6  # correct + at most 5 wrong answers
    probs = np.zeros((n_tasks, n_cols))
    probs[:, 0] = rng.uniform(*correct_share, n_tasks)
    n_wrong = rng.integers(3, 6, n_tasks)
    for t in range(n_tasks):
        probs[t, 1 : 1 + n_wrong[t]] = (1 - probs[t, 0]) * rng.dirichlet(np.ones(n_wrong[t]))
    probs *= 1 - none_rate
    cumulative = np.cumsum(probs, axis=1)
    u = rng.uniform(size=(n_tasks, max_n))
    # Inverse-CDF sampling per row; u beyond the last cumulative share falls into None.
    ids = (u[:, :, None] >= cumulative[:, None, :]).sum(axis=2)
    return np.where(ids >= n_cols, NONE_ID, ids)


def correct_by_prefix(samples: np.ndarray) -> np.ndarray:
    """``out[t, L]`` is True when the majority of the first L samples of task t is correct."""
    n_tasks, max_n = samples.shape
    n_ids = int(samples.max()) + 1
    onehot = samples[:, :, None] == np.arange(n_ids)[None, None, :]
    counts = np.concatenate(
        [np.zeros((n_tasks, 1, n_ids), dtype=int), np.cumsum(onehot, axis=1)], axis=1
    )
    first_seen = np.where(onehot.any(axis=1), onehot.argmax(axis=1), max_n)
    # Larger count wins; among equal counts the earlier first sighting wins.
    key = counts * (max_n + 1) - first_seen[:, None, :]
    winner = key.argmax(axis=2)
    return (winner == 0) & (counts[:, :, 0] > 0)


def samples_used(rule: StoppingRule, samples: np.ndarray, batch_size: int) -> np.ndarray:
    """Samples drawn per task by the library's own loop, `sample_until_stop`.

    Each task's row is the stream the loop draws from (``NONE_ID`` read as None), so the
    count is exactly what ``SelfConsistency(stopping=rule, batch_size=...)`` would draw.
    """
    rows = [[None if a == NONE_ID else int(a) for a in row] for row in samples]
    max_n = samples.shape[1]

    async def run_all() -> list[int]:
        used = []
        for votes in rows:
            stream = iter(votes)

            async def draw(k: int, stream: Iterator[int | None] = stream) -> list[int | None]:
                return [next(stream) for _ in range(k)]

            drawn, _ = await sample_until_stop(draw, rule, max_n, batch_size)
            used.append(len(drawn))
        return used

    return np.array(asyncio.run(run_all()), dtype=int)


def _count_keys(row: Sequence[int]) -> list[tuple[int, ...]]:
    """The answers' counts, largest first, after each prefix of one task's samples."""
    counts: dict[int, int] = {}
    keys = []
    for answer in row:
        if answer != NONE_ID:
            counts[answer] = counts.get(answer, 0) + 1
        keys.append(tuple(sorted(counts.values(), reverse=True)))
    return keys


class MixOracle:
    """Not a usable rule: a stopping table fitted to the simulation's own answer mix.

    It estimates, from ``n_train`` tasks drawn from the very mix it is tested on (another
    seed), the expected accuracy change E[correct with ``max_n`` - correct now | counts]
    for every pattern of counts (largest first), and stops when that expected loss is at
    most ``cost`` per sample left (or the leader can no longer be overtaken). No library
    rule can know the mix; this is what learning a stopping table from earlier tasks (an
    empirical-Bayes rule) could at best approach. It is a reference, not a bound: it looks
    one decision ahead and its rarer patterns are estimated from few tasks. Run by the
    library's loop.
    """

    def __init__(
        self, cost: float, max_n: int = 16, n_train: int = 50_000, seed: int = 10_000
    ) -> None:
        self.cost = cost
        self.max_n = max_n
        samples = make_tasks(n_train, max_n, np.random.default_rng(seed))
        correct = correct_by_prefix(samples)
        sums: dict[tuple[int, ...], list[float]] = {}
        for row, hits in zip(samples, correct, strict=True):
            full = float(hits[max_n])
            for n, key in enumerate(_count_keys(row), start=1):
                entry = sums.setdefault(key, [0.0, 0.0])
                entry[0] += full - float(hits[n])
                entry[1] += 1
        # Patterns seen fewer than 30 times get no estimate and never stop early.
        self.loss = {key: total / seen for key, (total, seen) in sums.items() if seen >= 30}

    def decide(self, votes: Sequence[Hashable | None]) -> StopDecision:
        """Stop when the fitted expected loss <= cost x samples left, or the lead is safe."""
        counts = tuple(sorted(Counter(v for v in votes if v is not None).values(), reverse=True))
        left = self.max_n - len(votes)
        lead, runner_up = (*counts, 0, 0)[:2]
        safe = lead - runner_up > left
        stop = safe or self.loss.get(counts, 1.0) <= self.cost * left
        return StopDecision(stop, f"oracle: {counts} with {left} left")

    def __repr__(self) -> str:
        return f"MixOracle(cost={self.cost})"


class MixOptimal:
    """Not a usable rule: the Bayes-optimal stopping policy for the simulation's own mix.

    From ``n_train`` tasks of the mix it is tested on (another seed) it estimates, for
    every pattern of counts (largest first), how often the vote there is right where the
    ``max_n`` vote is wrong or the other way round (a *change*: what the paired CI sees,
    gain or loss) and which pattern the next sample leads to. Backward induction from
    ``max_n`` then gives the policy minimising E[samples] + ``penalty`` x E[changes]:
    stop where the change rate times ``penalty`` is at most the cost of going on. No rule
    that sees only the counts does better on this mix for that trade-off (up to the
    estimates' noise): the frontier adaptive rules are measured against, where
    `MixOracle` is a one-step approximation of it. Patterns seen fewer than 30 times
    never stop (unless the lead cannot be overtaken). Run by the library's loop.
    """

    def __init__(
        self, penalty: float, max_n: int = 16, n_train: int = 100_000, seed: int = 10_001
    ) -> None:
        self.penalty = penalty
        self.max_n = max_n
        samples = make_tasks(n_train, max_n, np.random.default_rng(seed))
        correct = correct_by_prefix(samples)
        changes: Counter[tuple[int, ...]] = Counter()
        visits: Counter[tuple[int, ...]] = Counter()
        moves: dict[tuple[int, ...], Counter[tuple[int, ...]]] = {}
        for row, hits in zip(samples, correct, strict=True):
            keys = _count_keys(row)
            for n, key in enumerate(keys, start=1):
                visits[key] += 1
                changes[key] += int(hits[n] != hits[max_n])
                if n < max_n:
                    moves.setdefault(key, Counter())[keys[n]] += 1
        self.stops: set[tuple[int, ...]] = set()
        value: dict[tuple[int, ...], float] = {}
        for key in sorted(visits, key=sum, reverse=True):  # the longest patterns first
            stop_cost = penalty * changes[key] / visits[key]
            ahead = moves.get(key)
            go_on = 0.0  # at max_n nothing is left to draw
            if ahead is not None:
                expected = sum(count * value[after] for after, count in ahead.items())
                go_on = 1 + expected / sum(ahead.values())
            if stop_cost <= go_on and visits[key] >= 30:
                self.stops.add(key)
            value[key] = stop_cost if key in self.stops else go_on

    def decide(self, votes: Sequence[Hashable | None]) -> StopDecision:
        """Stop on the patterns the fitted policy stops on, or when the lead is safe."""
        counts = tuple(sorted(Counter(v for v in votes if v is not None).values(), reverse=True))
        left = self.max_n - len(votes)
        lead, runner_up = (*counts, 0, 0)[:2]
        stop = lead - runner_up > left or counts in self.stops
        return StopDecision(stop, f"optimal: {counts} with {left} left")

    def __repr__(self) -> str:
        return f"MixOptimal(penalty={self.penalty})"


def paired_bootstrap_ci(
    diff: np.ndarray, resample_idx: np.ndarray, level: float = 0.95
) -> tuple[float, float]:
    """Percentile CI of the mean of per-task differences over bootstrap resamples of tasks."""
    means = diff[resample_idx].mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def rule_label(rule: StoppingRule) -> str:
    """Short table label, e.g. ``beta>=0.95`` or ``window=4``."""
    if isinstance(rule, BetaStop):
        extras = f" min={rule.min_samples}" if rule.min_samples > 1 else ""
        return f"beta>={rule.threshold}{extras}"
    if isinstance(rule, DirichletStop):
        extras = f" min={rule.min_samples}" if rule.min_samples > 1 else ""
        return f"dirichlet>={rule.threshold}{extras}{' +unseen' if rule.unseen_bin else ''}"
    if isinstance(rule, WindowStop):
        return f"window={rule.window}"
    if isinstance(rule, FixedN):
        return "fixed"
    return repr(rule)


def default_rules() -> list[StoppingRule]:
    """The rules compared by default: Adaptive-Consistency (Beta, Dirichlet), two ESC windows."""
    return [BetaStop(0.95), DirichletStop(0.95), WindowStop(4), WindowStop(5)]


def simulate(
    n_tasks: int = 2000,
    seed: int = 0,
    max_n: int = 16,
    rules: Sequence[StoppingRule] | None = None,
    batch_sizes: Sequence[int] = (1, 4),
    none_rate: float = 0.0,
    n_boot: int = 2000,
    correct_share: tuple[float, float] = (0.3, 0.9),
) -> list[dict[str, Any]]:
    """Compare stopping rules with fixed ``max_n`` sampling on simulated tasks.

    Args:
        n_tasks: Number of simulated questions.
        seed: Seed for task distributions, samples and bootstrap; same seed, same table.
        max_n: Sample budget, also the fixed-n baseline.
        rules: Rules to compare; `default_rules` when None.
        batch_sizes: Batch sizes to evaluate each rule at.
        none_rate: Share of samples with no extractable answer.
        n_boot: Bootstrap resamples for the paired CI.
        correct_share: Range of the correct answer's share (uniform across tasks).

    Returns:
        One row per (rule, batch size) after the fixed baseline, with keys ``rule``,
        ``batch_size``, ``mean_samples``, ``accuracy``, ``acc_diff_pts`` (vs fixed, in
        accuracy points), ``ci_low_pts``, ``ci_high_pts`` (paired bootstrap 95% CI),
        ``saved_pct``, ``meets_target`` (>= 50% saved and point loss <= 1 point) and
        ``meets_target_ci`` (same, with the CI's lower end >= -1 point).
    """
    rng = np.random.default_rng(seed)
    samples = make_tasks(n_tasks, max_n, rng, none_rate, correct_share)
    correct = correct_by_prefix(samples)
    baseline = correct[:, max_n].astype(float)
    resample_idx = rng.integers(0, n_tasks, size=(n_boot, n_tasks), dtype=np.int32)

    def row(name: str, batch_size: int, used: np.ndarray) -> dict[str, Any]:
        hit = correct[np.arange(n_tasks), used].astype(float)
        diff = hit - baseline
        low, high = paired_bootstrap_ci(diff, resample_idx)
        saved = 100 * (1 - used.mean() / max_n)
        loss_ok = 100 * diff.mean() >= -1.0
        return {
            "rule": name,
            "batch_size": batch_size,
            "mean_samples": float(used.mean()),
            "accuracy": float(hit.mean()),
            "acc_diff_pts": float(100 * diff.mean()),
            "ci_low_pts": 100 * low,
            "ci_high_pts": 100 * high,
            "saved_pct": float(saved),
            "meets_target": bool(saved >= 50 and loss_ok),
            "meets_target_ci": bool(saved >= 50 and 100 * low >= -1.0),
        }

    rows = [row(f"fixed n={max_n}", max_n, np.full(n_tasks, max_n))]
    for rule in default_rules() if rules is None else rules:
        for batch_size in batch_sizes:
            rows.append(row(rule_label(rule), batch_size, samples_used(rule, samples, batch_size)))
    return rows


#: Bins of the predicted chance that the vote changes, for `forecast_calibration`.
CHANGE_BINS = (0.0, 0.005, 0.01, 0.02, 0.04, 0.06, 0.1, 0.2, 0.4, 1.0)


def forecast_calibration(
    n_tasks: int = 2000, seeds: Sequence[int] = (0, 1, 2), max_n: int = 16
) -> list[dict[str, Any]]:
    """Predicted vs observed chance that the vote now differs from the ``max_n`` vote.

    After every sample (1 .. max_n - 1) of every simulated task, two forecasts of "the
    full vote keeps the current winner" are taken: `final_vote_probability` (what
    `FinalVoteStop` uses) and `lead_holds_probability` (what `PredictiveStop` uses), and
    compared, bin by bin of the predicted change, with how often the winner really changed
    by ``max_n``. A forecast whose rows agree means what it says, so its threshold does too.
    """
    vote = MajorityVote()
    points: list[tuple[float, float, bool]] = []
    for seed in seeds:
        for row in make_tasks(n_tasks, max_n, np.random.default_rng(seed)):
            votes = [None if a == NONE_ID else int(a) for a in row]
            final = vote([None if v is None else str(v) for v in votes]).winner
            for n in range(1, max_n):
                drawn = votes[:n]
                counts = [c for _, c in Counter(v for v in drawn if v is not None).most_common()]
                if not counts:
                    continue
                lead, runner_up = (*counts, 0)[:2]
                rest, left = n - lead - runner_up, max_n - n
                now = vote([None if v is None else str(v) for v in drawn]).winner
                points.append(
                    (
                        1 - final_vote_probability(drawn, left),
                        1 - lead_holds_probability(lead, runner_up, rest, left),
                        now != final,
                    )
                )
    predicted = np.array([(a, b) for a, b, _ in points])
    changed = np.array([c for _, _, c in points], dtype=float)
    rows = []
    for low, high in itertools.pairwise(CHANGE_BINS):
        row: dict[str, Any] = {"bin": f"[{low:g}, {high:g})"}
        for name, column in (("final_vote", 0), ("lead_holds", 1)):
            inside = (predicted[:, column] >= low) & (predicted[:, column] < high)
            if high == CHANGE_BINS[-1]:
                inside |= predicted[:, column] >= high
            row[name] = (
                int(inside.sum()),
                float(predicted[inside, column].mean()) if inside.any() else float("nan"),
                float(changed[inside].mean()) if inside.any() else float("nan"),
            )
        rows.append(row)
    return rows


def print_calibration(rows: list[dict[str, Any]], title: str) -> None:
    """Print `forecast_calibration` rows: per bin, states / mean predicted / observed."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for header in ("predicted change", "final_vote_probability", "lead_holds_probability"):
        table.add_column(header, justify="right")
    for row in rows:
        cells = [
            f"{n} states: {100 * p:.2f}% vs {100 * o:.2f}%" if n else "-"
            for n, p, o in (row["final_vote"], row["lead_holds"])
        ]
        table.add_row(row["bin"], *cells)
    Console(width=110).print(table)


def sweep_rules() -> list[StoppingRule]:
    """Thresholds and windows for the sensitivity sweep printed by `main`."""
    return [BetaStop(t) for t in (0.8, 0.9, 0.95, 0.99)] + [WindowStop(w) for w in (3, 4, 5, 6)]


def print_table(rows: list[dict[str, Any]], title: str) -> None:
    """Print rows as a rich table."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for header in ("rule", "batch", "mean n", "accuracy", "Δacc pts [95% CI]", "saved", "target"):
        table.add_column(header, justify="left" if header == "rule" else "right")
    for r in rows:
        target = "yes" if r["meets_target_ci"] else "point only" if r["meets_target"] else "no"
        table.add_row(
            r["rule"],
            str(r["batch_size"]),
            f"{r['mean_samples']:.2f}",
            f"{100 * r['accuracy']:.1f}%",
            f"{r['acc_diff_pts']:+.2f} [{r['ci_low_pts']:+.2f}, {r['ci_high_pts']:+.2f}]",
            f"{r['saved_pct']:.1f}%",
            target,
        )
    Console(width=110).print(table)


def main(argv: Sequence[str] | None = None) -> None:
    """Print the default comparison and a threshold/window sweep."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-n", type=int, default=16)
    parser.add_argument("--none-rate", type=float, default=0.0)
    parser.add_argument("--share", type=float, nargs=2, default=(0.3, 0.9), metavar=("LOW", "HIGH"))
    parser.add_argument("--no-sweep", action="store_true")
    parser.add_argument(
        "--calibration",
        action="store_true",
        help="also print predicted vs observed changes of the vote (seeds 0-2)",
    )
    args = parser.parse_args(argv)
    common: dict[str, Any] = {
        "n_tasks": args.tasks,
        "seed": args.seed,
        "max_n": args.max_n,
        "none_rate": args.none_rate,
        "correct_share": tuple(args.share),
    }
    print_table(
        simulate(**common),
        f"Self-consistency stopping rules vs fixed n={args.max_n} "
        f"({args.tasks} tasks, seed {args.seed}, correct share U{tuple(args.share)}; "
        "target: >=50% saved, <=1 pt loss)",
    )
    if not args.no_sweep:
        print_table(
            simulate(**common, rules=sweep_rules(), batch_sizes=(1, 4))[1:],
            "Sweep of thresholds / windows (same tasks and samples)",
        )
    if args.calibration:
        print_calibration(
            forecast_calibration(args.tasks, (0, 1, 2), args.max_n),
            f"Does the forecast mean what it says? Predicted vs observed chance that the vote "
            f"now differs from the n={args.max_n} vote, after every sample of seeds 0-2",
        )


if __name__ == "__main__":
    main()
