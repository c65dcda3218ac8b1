"""The runner: bounded concurrency, complete records, errors recorded and retried, seeds."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from promptlab.completion import Completion, CompletionRequest
from promptlab.errors import ConfigurationError, RateLimitError
from promptlab.experiments.analysis import Run, UnscoredWarning
from promptlab.experiments.arm import ArmSpec, derive_seed
from promptlab.experiments.execution import ExperimentRunner, RunInterrupted
from promptlab.experiments.experiment import Experiment
from promptlab.providers.base import Capabilities
from promptlab.strategies import ChainOfThought, SelfConsistency, ZeroShot
from promptlab.testing import FakeProvider
from tests.support.liveness import NewRecords


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs that use the default cache write it under tmp_path, never ~/.cache."""
    monkeypatch.setenv("PROMPTLAB_CACHE_DIR", str(tmp_path / "default-cache"))


def read_cells(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "cells.jsonl").read_text().splitlines()]


def tasks(count: int) -> list[dict[str, Any]]:
    return [{"id": f"t{i}", "question": f"What is {i} + 1?", "answer": i + 1} for i in range(count)]


class InFlight:
    """Counts requests in flight, per provider and over all of them."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0


class TrackingFake(FakeProvider):
    """A fake with latency that records the most requests it had in flight at once."""

    def __init__(self, shared: InFlight | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("script", ["Answer: 1"])
        kwargs.setdefault("cycle", True)
        super().__init__(latency=0.01, **kwargs)
        self.now = 0
        self.peak = 0
        self.shared = shared or InFlight()

    async def _generate(self, request: CompletionRequest) -> Completion:
        self.now += 1
        self.shared.now += 1
        self.peak = max(self.peak, self.now)
        self.shared.peak = max(self.shared.peak, self.shared.now)
        try:
            return await super()._generate(request)
        finally:
            self.now -= 1
            self.shared.now -= 1


def experiment(providers: dict[str, Any], n_tasks: int = 10, **kwargs: Any) -> Experiment:
    kwargs.setdefault("arms", {"zs": ZeroShot(extractor="numeric")})
    return Experiment(providers=providers, tasks=tasks(n_tasks), scorers=["numeric"], **kwargs)


def test_total_concurrency_is_bounded_and_reached(tmp_path: Path) -> None:
    fake = TrackingFake()
    experiment({"fake": fake}, n_tasks=30, concurrency=3).run(
        tmp_path / "run", cache=False, progress=False
    )
    assert fake.calls == 30
    assert fake.peak == 3


def test_concurrency_override_at_run_time(tmp_path: Path) -> None:
    fake = TrackingFake()
    experiment({"fake": fake}, n_tasks=20, concurrency=8).run(
        tmp_path / "run", cache=False, progress=False, concurrency=2
    )
    assert fake.peak == 2


def test_per_provider_limits_and_the_total_limit_hold_together(tmp_path: Path) -> None:
    shared = InFlight()
    slow, fast, third = TrackingFake(shared), TrackingFake(shared), TrackingFake(shared)
    experiment(
        {"slow": slow, "fast": fast, "third": third},
        n_tasks=30,
        concurrency=6,
        provider_concurrency={"slow": 1, "fast": 4},
    ).run(tmp_path / "run", cache=False, progress=False)
    assert slow.peak == 1
    assert fast.peak == 4
    assert third.peak <= 6
    assert shared.peak == 6


def test_provider_max_concurrency_attribute_is_the_default_limit(tmp_path: Path) -> None:
    fake = TrackingFake()
    fake.max_concurrency = 2
    experiment({"fake": fake}, n_tasks=20).run(tmp_path / "run", cache=False, progress=False)
    assert fake.peak == 2


def test_max_concurrency_is_part_of_the_provider_contract() -> None:
    """Every provider declares it (None: no limit of its own), as a class setting or per object."""

    class TwoAtOnce(FakeProvider):
        max_concurrency = 2

    assert FakeProvider.max_concurrency is None
    chosen = experiment({"plain": FakeProvider(), "two": TwoAtOnce()}, concurrency=5)
    assert (chosen.provider_limit("plain"), chosen.provider_limit("two")) == (5, 2)
    limited = experiment({"two": TwoAtOnce()}, concurrency=5, provider_concurrency={"two": 4})
    assert limited.provider_limit("two") == 4


def test_records_hold_everything_about_the_cell(tmp_path: Path) -> None:
    fake = FakeProvider(["Step one. Answer: 1"], cycle=True, cost_per_call=0.002, latency=0.02)
    run = experiment(
        {"fake": fake},
        n_tasks=2,
        arms={"cot": ArmSpec(ChainOfThought(extractor="numeric"), {"max_tokens": 50})},
        repeats=2,
    ).run(tmp_path / "run", cache=False, progress=False)
    assert isinstance(run, Run)
    cells = read_cells(tmp_path / "run")
    assert len(cells) == 4
    cell = next(c for c in cells if c["task_id"] == "t0" and c["repeat"] == 1)
    assert cell["arm"] == "cot" and cell["provider"] == "fake" and cell["model"] == "fake-model"
    assert cell["template"] == "chain_of_thought" and len(cell["template_hash"]) == 16
    assert cell["params"]["max_tokens"] == 50
    assert cell["params"]["seed"] == derive_seed(0, "t0", "cot", 1)
    assert cell["outputs"] == ["Step one. Answer: 1"]
    assert cell["answer"] == "1" and cell["expected"] == 1
    assert cell["scores"] == {"numeric": 1.0}
    assert cell["input_tokens"] > 0 and cell["output_tokens"] == 4
    assert cell["cost_usd"] == pytest.approx(0.002)
    assert cell["calls"] == 1 and 0.02 <= cell["latency_s"] < 5  # the fake waits 0.02 s
    assert cell["error"] is None and cell["promptlab_version"] and cell["timestamp"]
    definition = json.loads((tmp_path / "run" / "experiment.json").read_text())
    assert definition["arms"]["cot"]["params"] == {"max_tokens": 50}
    assert definition["providers"]["fake"]["model"] == "fake-model"
    assert definition["tasks"]["count"] == 2 and definition["cells"] == 4


def test_seeds_are_derived_per_cell_unless_the_arm_sets_one(tmp_path: Path) -> None:
    no_seed = FakeProvider(["Answer: 1"], cycle=True, capabilities=Capabilities(seed=False))
    experiment(
        {"fake": FakeProvider(["Answer: 1"], cycle=True), "plain": no_seed},
        n_tasks=2,
        arms={"derived": ZeroShot(), "fixed": ArmSpec(ZeroShot(), {"seed": 7})},
        repeats=2,
        seed=11,
    ).run(tmp_path / "run", cache=False, progress=False)
    seeds = {
        (c["provider"], c["arm"], c["task_id"], c["repeat"]): c["params"].get("seed")
        for c in read_cells(tmp_path / "run")
    }
    assert seeds[("fake", "fixed", "t0", 0)] == seeds[("fake", "fixed", "t1", 1)] == 7
    derived = {key: seed for key, seed in seeds.items() if key[:2] == ("fake", "derived")}
    assert len(set(derived.values())) == 4  # differs by task and by repeat
    assert derived[("fake", "derived", "t1", 1)] == derive_seed(11, "t1", "derived", 1)
    # A provider without seed support is never sent a derived seed (it would refuse it).
    assert seeds[("plain", "derived", "t0", 0)] is None


def flaky_provider(failures: dict[str, BaseException]) -> FakeProvider:
    """Fails the first request for each listed question, then answers."""
    pending = dict(failures)

    def reply(request: CompletionRequest) -> Any:
        question = request.messages[-1].content.splitlines()[0]
        return pending.pop(question, None) or "Answer: 1"

    return FakeProvider(reply)


def test_errored_cells_are_recorded_then_retried(tmp_path: Path) -> None:
    failures = {
        "What is 1 + 1?": RateLimitError("slow down", provider="fake", status=429),
        "What is 2 + 1?": ValueError("a bug in a plugin"),
    }
    fake = flaky_provider(failures)
    first = experiment({"fake": fake}, n_tasks=4).run(tmp_path / "run", progress=False)
    errors = {c["task_id"]: c["error"] for c in read_cells(tmp_path / "run") if c["error"]}
    assert errors["t1"]["type"] == "RateLimitError" and errors["t1"]["status"] == 429
    assert "slow down" in errors["t1"]["message"]
    assert errors["t2"] == {"type": "ValueError", "message": "a bug in a plugin", "status": None}
    assert fake.calls == 4  # the failures did not stop the run
    summary = first.summary()
    assert int(summary["errors"].iloc[0]) == 2 and int(summary["n"].iloc[0]) == 2

    second = experiment({"fake": fake}, n_tasks=4).run(tmp_path / "run", progress=False)
    assert fake.calls == 6  # only the two errored cells ran again
    cells = read_cells(tmp_path / "run")
    assert len(cells) == 6
    assert sorted(c["task_id"] for c in cells[4:]) == ["t1", "t2"]
    assert all(c["error"] is None for c in cells[4:])
    assert int(second.summary()["errors"].iloc[0]) == 0
    assert int(second.summary()["n"].iloc[0]) == 4


def test_a_failing_scorer_is_nan_with_a_note_and_other_scores_stand(tmp_path: Path) -> None:
    class Broken:
        name, binary = "broken", True

        async def score(self, task: Any, result: Any) -> Any:
            raise ZeroDivisionError("scorer bug")

    run = Experiment(
        arms={"zs": ZeroShot(extractor="numeric")},
        providers={"fake": FakeProvider(["Answer: 1"], cycle=True)},
        tasks=tasks(1),
        scorers=[Broken(), "numeric"],
    ).run(tmp_path / "run", cache=False, progress=False)
    (cell,) = read_cells(tmp_path / "run")
    assert cell["error"] is None
    assert cell["outputs"] == ["Answer: 1"]  # what was generated is kept
    assert cell["scores"] == {"broken": None, "numeric": 1.0}
    assert cell["score_notes"]["broken"] == "scorer failed: ZeroDivisionError: scorer bug"
    assert run.summary("numeric")["accuracy"].tolist() == [1.0]
    with pytest.warns(UnscoredWarning, match="1 of 1 successful cells have no 'broken' score"):
        assert run.summary("broken")["unscored"].tolist() == [1]


def test_changing_an_arm_in_an_existing_run_directory_is_refused(tmp_path: Path) -> None:
    fake = FakeProvider(["Answer: 1"], cycle=True)
    experiment({"fake": fake}).run(tmp_path / "run", cache=False, progress=False)
    changed = experiment({"fake": fake}, arms={"zs": ArmSpec(ZeroShot(), {"temperature": 1})})
    with pytest.raises(ConfigurationError, match="arm 'zs' is defined differently"):
        changed.run(tmp_path / "run", cache=False, progress=False)
    # Adding an arm is fine: only its cells run.
    calls = fake.calls
    more = experiment({"fake": fake}, arms={"zs": ZeroShot(extractor="numeric"), "new": ZeroShot()})
    more.run(tmp_path / "run", cache=False, progress=False)
    assert fake.calls - calls == 10


async def test_cancelling_keeps_finished_cells_and_a_rerun_completes(tmp_path: Path) -> None:
    slow = FakeProvider(["Answer: 1"], cycle=True, latency=0.02)
    runner = ExperimentRunner(
        experiment({"fake": slow}, n_tasks=40, concurrency=2),
        tmp_path / "run",
        cache=False,
        progress=False,
    )
    task = asyncio.ensure_future(runner.arun())
    while not (tmp_path / "run" / "cells.jsonl").exists() or len(read_cells(tmp_path / "run")) < 5:
        await asyncio.sleep(0.01)
    assert runner.cancel()
    with pytest.raises(RunInterrupted) as info:
        await task
    saved = read_cells(tmp_path / "run")
    assert 5 <= len(saved) < 40
    assert info.value.done == len(saved)
    rest = FakeProvider(["Answer: 1"], cycle=True)
    await experiment({"fake": rest}, n_tasks=40).arun(tmp_path / "run", cache=False, progress=False)
    assert rest.calls == 40 - len(saved)
    ids = [c["task_id"] for c in read_cells(tmp_path / "run")]
    assert sorted(ids) == sorted(f"t{i}" for i in range(40))


def test_self_consistency_cells_store_every_sample_and_the_vote(tmp_path: Path) -> None:
    fake = FakeProvider(["Answer: 1", "Answer: 2", "Answer: 1"], cycle=True)
    experiment(
        {"fake": fake}, n_tasks=1, arms={"sc": SelfConsistency(ZeroShot(extractor="numeric"), n=3)}
    ).run(tmp_path / "run", cache=False, progress=False)
    (cell,) = read_cells(tmp_path / "run")
    assert cell["outputs"] == ["Answer: 1", "Answer: 2", "Answer: 1"]
    assert cell["answers"] == ["1", "2", "1"]
    assert cell["votes"] == {"1": 2, "2": 1} and cell["answer"] == "1"
    assert cell["params"]["n"] == 3 and cell["params"]["temperature"] == 0.7


def test_invalid_experiments_fail_before_running(tmp_path: Path) -> None:
    fake = FakeProvider()
    with pytest.raises(ConfigurationError, match="repeats"):
        experiment({"fake": fake}, repeats=0)
    with pytest.raises(ConfigurationError, match=r"without '\|'"):
        experiment({"fake": fake}, arms={"a|b": ZeroShot()})
    with pytest.raises(ConfigurationError, match="provider_concurrency"):
        experiment({"fake": fake}, provider_concurrency={"other": 2})
    with pytest.raises(ConfigurationError, match="share the name"):
        Experiment({"a": ZeroShot()}, {"fake": fake}, tasks(1), ["numeric", "numeric"])


def assert_is_the_loaded_run(returned: Run, run_dir: Path) -> None:
    """The Run a run returns is the one its directory loads (it is not read back)."""
    loaded = Run.load(run_dir)
    assert returned._counts == loaded._counts
    assert (returned._arms, returned._providers) == (loaded._arms, loaded._providers)
    assert returned._snapshot == loaded._snapshot
    assert returned.cells.equals(loaded.cells)
    assert returned.summary().equals(loaded.summary())


def test_the_run_returned_is_the_run_its_directory_loads(tmp_path: Path) -> None:
    failures = {"What is 1 + 1?": ValueError("a bug"), "What is 3 + 1?": ValueError("again")}
    fake = flaky_provider(failures)
    arms = {"zs": ZeroShot(extractor="numeric"), "cot": ChainOfThought(extractor="numeric")}
    run_dir = tmp_path / "run"

    def run(**kwargs: Any) -> Run:
        definition = experiment({"fake": fake}, n_tasks=4, arms=arms, **kwargs)
        return definition.run(run_dir, cache=tmp_path / "cache", progress=False)

    assert_is_the_loaded_run(run(), run_dir)  # a new directory, with errored cells
    assert_is_the_loaded_run(run(), run_dir)  # the errored cells retried and superseded
    assert_is_the_loaded_run(run(), run_dir)  # nothing left to run
    assert_is_the_loaded_run(run(repeats=2), run_dir)  # earlier cells and new ones
    rescored = Experiment(
        providers={"fake": fake}, tasks=tasks(4), arms=arms, repeats=2, scorers=["exact"]
    ).run(run_dir, cache=tmp_path / "cache", progress=False)
    assert_is_the_loaded_run(rescored, run_dir)  # only the scorers changed


def test_a_worker_lets_go_of_its_finished_record_before_its_next_cell(tmp_path: Path) -> None:
    # While a worker waits for its next cell, the record it just wrote must not stay alive:
    # in batch mode a worker waits on every cell of a round, and each held record was a
    # finished cell's outputs and prompt kept until the next round's result came back.
    alive: list[list[str]] = []
    records = NewRecords()

    class Watching(FakeProvider):
        async def _generate(self, request: CompletionRequest) -> Completion:
            alive.append(records.task_ids())
            return await super()._generate(request)

    run = experiment({"fake": Watching(["Answer: 1"], cycle=True)}, n_tasks=3, concurrency=1).run(
        tmp_path / "run", cache=False, progress=False
    )
    assert len(run.cells) == 3
    # Each call sees only its own cell's record (made before the strategy runs).
    assert alive == [["t0"], ["t1"], ["t2"]]
