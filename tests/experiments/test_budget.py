"""The dry run (``Experiment.estimate``, ``--dry-run``) and run budgets (``max_cost_usd``)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from promptlab.errors import ConfigurationError
from promptlab.experiments.arm import ArmSpec
from promptlab.experiments.experiment import Experiment
from promptlab.experiments.store import read_stop
from promptlab.providers.base import Provider
from promptlab.providers.openai import OpenAIProvider
from promptlab.strategies import SelfConsistency, ZeroShot
from promptlab.strategies.stopping import BetaStop
from promptlab.testing import FakeProvider


def tasks(n: int) -> list[dict[str, Any]]:
    return [{"id": f"t{i}", "question": f"What is {i} + 1?", "expected": "42"} for i in range(n)]


def experiment(prov: Provider | str, arms: dict[str, Any], n_tasks: int = 4) -> Experiment:
    return Experiment(arms=arms, providers={"p": prov}, tasks=tasks(n_tasks), scorers=["exact"])


def openai_official() -> OpenAIProvider:
    # The official API's prices, but nothing may be sent: a dry run must not call it.
    return OpenAIProvider(
        "gpt-4o-mini", api_key="sk-not-used", base_url="https://api.openai.com/v1"
    )


def test_the_dry_run_counts_calls_tokens_and_the_output_bound_without_calling() -> None:
    fake = FakeProvider(script=["Answer: 42"], cycle=True)
    arms = {
        "zs": ArmSpec(ZeroShot(), {"max_tokens": 10}),
        "sc": ArmSpec(SelfConsistency(ZeroShot(), n=3, temperature=0.7), {"max_tokens": 10}),
    }
    estimate = experiment(fake, arms).estimate()
    rows = {row.arm: row for row in estimate.rows}
    assert fake.requests == []  # nothing was sent
    assert (rows["zs"].cells, rows["zs"].calls) == (4, 4)
    assert (rows["sc"].calls, rows["sc"].samples) == (4, 12)  # the fake has native n
    assert rows["zs"].max_output_tokens == 40 and rows["sc"].max_output_tokens == 120
    prompts = [
        f'What is {i} + 1?\n\nEnd your reply with a line of the form "Answer: <your answer>".'
        for i in range(4)
    ]
    assert rows["zs"].tokenizer.startswith("estimate: 1 token per 4 characters")
    assert rows["zs"].input_tokens == sum(math.ceil((len(p) + len("user")) / 4) for p in prompts)
    assert "No provider was called" in str(estimate)


def test_an_adaptive_arm_is_counted_at_its_largest_n() -> None:
    arm = SelfConsistency(ZeroShot(), n=8, stopping=BetaStop(), batch_size=2, temperature=0.7)
    estimate = experiment(FakeProvider(script=["Answer: 1"], cycle=True), {"a": arm}, 2).estimate()
    row = estimate.rows[0]
    assert (row.calls, row.samples) == (8, 16)  # 8 samples per cell: the rule never stops


def test_costs_at_direct_and_batch_prices_from_the_pricing_table() -> None:
    arms = {"zs": ArmSpec(ZeroShot(), {"max_tokens": 100})}
    estimate = experiment(openai_official(), arms).estimate()
    row = estimate.rows[0]
    low, high = row.direct_usd
    assert low == pytest.approx(row.input_tokens * 0.15 / 1e6)
    assert high == pytest.approx((row.input_tokens * 0.15 + 400 * 0.60) / 1e6)
    assert row.batch_usd[0] == pytest.approx(low / 2)
    assert row.batch_usd[1] == pytest.approx(high / 2)
    assert estimate.total("batch") == row.batch_usd


def test_without_max_tokens_the_output_and_the_high_cost_are_unbounded() -> None:
    estimate = experiment(openai_official(), {"zs": ZeroShot()}).estimate()
    row = estimate.rows[0]
    assert row.max_output_tokens is None and row.direct_usd[1] is None
    assert row.direct_usd[0] is not None
    assert "unbounded" in str(estimate)


def test_an_unknown_price_is_an_unknown_cost() -> None:
    fake = FakeProvider(script=["x"], cycle=True, cost_per_call=None)
    row = experiment(fake, {"zs": ZeroShot()}).estimate().rows[0]
    assert row.direct_usd == (None, None)


@pytest.mark.local_model
def test_a_llama_cpp_model_counts_with_its_own_tokenizer(local_provider: Any) -> None:
    arms = {"zs": ArmSpec(ZeroShot(), {"max_tokens": 8})}
    row = experiment(local_provider, arms, n_tasks=2).estimate().rows[0]
    assert row.tokenizer.startswith("llama.cpp")
    assert row.direct_usd == (0.0, 0.0)
    assert 20 < row.input_tokens < 200  # two short prompts with the chat template's tokens


def run_with_budget(out: Path, max_cost: float, **options: Any) -> Any:
    fake = options.pop("provider", None) or FakeProvider(
        script=["Answer: 42"], cycle=True, cost_per_call=0.01
    )
    exp = experiment(fake, {"zs": ArmSpec(ZeroShot(), {"max_tokens": 10})}, n_tasks=10)
    return exp.run(out, cache=False, progress=False, max_cost_usd=max_cost, **options)


def test_a_budget_stops_scheduling_before_it_is_passed_and_a_higher_one_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = run_with_budget(tmp_path, 0.035)
    assert len(first.cells) == 3  # a fourth cent would pass 3.5 cents
    reason = read_stop(tmp_path)
    assert reason is not None and reason["reason"] == "budget"
    assert reason["spent_usd"] == pytest.approx(0.03) and reason["cells_done"] == 3
    assert "Stopped before passing the budget of $0.0350" in capsys.readouterr().err
    second = run_with_budget(tmp_path, 0.2)
    assert len(second.cells) == 10 and second.cells["ok"].all()
    assert read_stop(tmp_path) is None


def test_a_budget_over_an_unknown_price_is_refused_unless_allowed(tmp_path: Path) -> None:
    unpriced = FakeProvider(script=["Answer: 42"], cycle=True, cost_per_call=None)
    with pytest.raises(ConfigurationError, match="zs on p: the provider has no price"):
        run_with_budget(tmp_path, 1.0, provider=unpriced)
    run = run_with_budget(tmp_path, 1.0, provider=unpriced, allow_unknown_cost=True)
    assert len(run.cells) == 10


def test_a_budget_over_an_unbounded_output_is_refused(tmp_path: Path) -> None:
    exp = experiment(openai_official(), {"zs": ZeroShot()})
    with pytest.raises(ConfigurationError, match="no max_tokens, so the output is unbounded"):
        exp.run(tmp_path, cache=False, progress=False, max_cost_usd=1.0)


def test_cli_dry_run_and_max_cost(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from promptlab.cli import app

    rows = [{"id": f"t{i}", "question": f"q{i}", "answer": "42"} for i in range(5)]
    (tmp_path / "tasks.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "e.yaml").write_text(
        "tasks: tasks.jsonl\nscorers: [exact]\n"
        "arms: {zs: {strategy: zero_shot, params: {max_tokens: 5}}}\n"
        "providers: {p: {provider: 'fake:Answer: 42', options: {cost_per_call: 0.01}}}\n"
    )
    cli = CliRunner()
    out = tmp_path / "run"
    dry = cli.invoke(app, ["run", str(tmp_path / "e.yaml"), "-o", str(out), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "No provider was called" in dry.output and "0.0500-0.0500" in dry.output
    assert not out.exists()
    budget = cli.invoke(
        app, ["run", str(tmp_path / "e.yaml"), "-o", str(out), "--max-cost", "0.02",
              "--no-cache", "--no-progress"],
    )  # fmt: skip
    assert budget.exit_code == 0, budget.output
    assert "Stopped before passing the budget" in budget.output
    assert json.loads((out / "stop.json").read_text())["cells_done"] == 2
