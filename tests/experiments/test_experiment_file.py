"""Experiment files: the schema builds the right experiment; every error names file and key."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from promptlab.errors import ConfigurationError, DataError
from promptlab.experiments.config import scorer_from_spec
from promptlab.experiments.experiment import Experiment
from promptlab.providers import registry
from promptlab.strategies import ChainOfThought, FewShot, SelfConsistency, ZeroShot
from promptlab.testing import FakeProvider

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

TASKS = [{"id": f"t{i}", "question": f"What is {i} + 1?", "answer": i + 1} for i in range(3)]

VALID = """\
name: demo
tasks: tasks.jsonl
providers:
  fake: "fake:Answer: 2"
scorers: [numeric]
repeats: 2
seed: 5
concurrency: 3
arms:
  zero_shot: {strategy: zero_shot, extractor: numeric, params: {temperature: 0, max_tokens: 64}}
  cot: {strategy: chain_of_thought, extractor: numeric, params: {max_tokens: 160}}
  sc_cot:
    strategy: self_consistency
    n: 5
    temperature: 0.9
    base: {strategy: chain_of_thought, extractor: numeric}
    params: {max_tokens: 160}
  few_cot:
    strategy: chain_of_thought
    base: {strategy: few_shot, examples: shots.jsonl, k: 1, extractor: numeric}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "tasks.jsonl").write_text("".join(json.dumps(t) + "\n" for t in TASKS))
    shot = {"question": "1 + 1?", "rationale": "One plus one is two.", "answer": 2}
    (tmp_path / "shots.jsonl").write_text(json.dumps(shot) + "\n")
    return tmp_path


def write(folder: Path, text: str, name: str = "exp.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_valid_file_builds_the_experiment(folder: Path) -> None:
    experiment = Experiment.from_yaml(write(folder, VALID))
    assert experiment.name == "demo"
    assert (experiment.repeats, experiment.seed, experiment.concurrency) == (2, 5, 3)
    assert list(experiment.arms) == ["zero_shot", "cot", "sc_cot", "few_cot"]
    assert [t.id for t in experiment.tasks] == ["t0", "t1", "t2"]
    assert [s.name for s in experiment.scorers] == ["numeric"]
    assert isinstance(experiment.providers["fake"], FakeProvider)

    zero_shot = experiment.arms["zero_shot"]
    assert isinstance(zero_shot.strategy, ZeroShot)
    assert zero_shot.params.set_fields() == {"temperature": 0, "max_tokens": 64}
    sc = experiment.arms["sc_cot"].strategy
    assert isinstance(sc, SelfConsistency) and sc.n == 5
    assert sc.params.temperature == 0.9 and isinstance(sc.base, ChainOfThought)
    few = experiment.arms["few_cot"].strategy
    assert isinstance(few, ChainOfThought) and isinstance(few.base, FewShot)
    assert few.template.name == "chain_of_thought_few_shot" and few.base.k == 1
    assert few.extract("so Answer: 12") == "12"  # the extractor came from the base


def test_the_default_name_is_the_file_name(folder: Path) -> None:
    path = write(folder, VALID.replace("name: demo\n", ""), name="my_exp.yaml")
    assert Experiment.from_yaml(path).name == "my_exp"


def test_templates_inline_by_file_and_from_a_folder(folder: Path) -> None:
    (folder / "prompts").mkdir()
    (folder / "prompts" / "terse.jinja").write_text("{% user %}Q: {{ question }}{% enduser %}")
    (folder / "own.jinja").write_text("{% user %}Please: {{ question }}{% enduser %}")
    path = write(
        folder,
        """\
        tasks: tasks.jsonl
        providers: {fake: fake}
        scorers: [exact]
        templates: [prompts]
        arms:
          named: {strategy: zero_shot, template: terse}
          file: {strategy: zero_shot, template: own.jinja}
          inline: {strategy: zero_shot, template: "{% user %}>> {{ question }}{% enduser %}"}
        """,
    )
    arms = Experiment.from_yaml(path).arms
    question = {"question": "hi"}
    assert arms["named"].strategy.render(question)[0].content == "Q: hi"
    assert arms["file"].strategy.render(question)[0].content == "Please: hi"
    assert arms["inline"].strategy.render(question)[0].content == ">> hi"


def test_tasks_with_options_and_a_limit(folder: Path) -> None:
    text = VALID.replace("tasks: tasks.jsonl", "tasks: {path: tasks.jsonl, limit: 2}")
    assert [t.id for t in Experiment.from_yaml(write(folder, text)).tasks] == ["t0", "t1"]
    (folder / "tasks.jsonl").write_text(
        "".join(json.dumps({"q": t["question"], "gold": t["answer"]}) + "\n" for t in TASKS)
    )
    text = VALID.replace(
        "tasks: tasks.jsonl",
        "tasks: {path: tasks.jsonl, expected_field: gold, input_fields: [q], limit: 9}",
    )
    tasks = Experiment.from_yaml(write(folder, text)).tasks
    assert len(tasks) == 3 and tasks[0].inputs == {"q": "What is 0 + 1?"} and tasks[2].expected == 3
    bad = VALID.replace("tasks: tasks.jsonl", "tasks: {path: tasks.jsonl, limit: 0}")
    assert "tasks.limit: expected an integer >= 1" in error_for(folder, bad)


def test_providers_with_options_and_limits(folder: Path) -> None:
    text = VALID.replace(
        'fake: "fake:Answer: 2"',
        'fake: {provider: "fake:Answer: 2", concurrency: 2, options: {model: tiny}}',
    )
    experiment = Experiment.from_yaml(write(folder, text))
    assert experiment.providers["fake"].model == "tiny"
    assert experiment.provider_limit("fake") == 2


def test_a_file_runs_end_to_end(folder: Path, tmp_path: Path) -> None:
    experiment = Experiment.from_yaml(write(folder, VALID))
    run = experiment.run(tmp_path / "run", cache=tmp_path / "cache", progress=False)
    assert len(run.records) == 3 * 4 * 2
    assert set(run.summary()["arm"]) == {"zero_shot", "cot", "sc_cot", "few_cot"}


def test_the_demo_file_resumes_with_no_call_and_rescores_on_a_scorer_change(
    tmp_path: Path,
) -> None:
    """examples/arithmetic.yaml (make demo), on a fake instead of the local model."""
    demo = Path(__file__).resolve().parents[2] / "examples" / "arithmetic.yaml"

    def load(provider: FakeProvider) -> Experiment:
        experiment = Experiment.from_yaml(demo)
        experiment.providers = {"local": provider}
        experiment.tasks = experiment.tasks[:3]
        return experiment

    first = FakeProvider(["Step by step. Answer: 5"], cycle=True)
    run = load(first).run(tmp_path / "demo", cache=False, progress=False)
    assert len(run.records) == 9 and first.calls == 9  # native n: one call per cell
    # A fresh load of the same file has the same fingerprint: everything is resumed.
    again = FakeProvider(["Step by step. Answer: 5"], cycle=True)
    assert len(load(again).run(tmp_path / "demo", cache=False, progress=False).records) == 9
    assert again.calls == 0
    # Only the scorer changed: rescored from the stored outputs, still no call.
    loose = load(again)
    loose.scorers = [scorer_from_spec({"type": "numeric", "tolerance": 1})]
    rescored = loose.run(tmp_path / "demo", cache=False, progress=False)
    assert again.calls == 0 and len(rescored.records) == 9


def error_for(folder: Path, text: str) -> str:
    path = write(folder, text)
    with pytest.raises(ConfigurationError) as info:
        Experiment.from_yaml(path)
    message = str(info.value)
    assert str(path) in message, message
    return message


@pytest.mark.parametrize(
    ("change", "key_path", "expected"),
    [
        # unknown keys
        (("scorers: [numeric]", "scorers: [numeric]\nrepeat: 2"), "repeat", "allowed keys"),
        (("n: 5", "n: 5\n    voting: majority"), "arms.sc_cot.voting", "allowed keys"),
        (("k: 1,", "k: 1, n: 3,"), "arms.few_cot.base.n", "strategy few_shot"),
        # wrong types
        (("repeats: 2", "repeats: two"), "repeats", "integer"),
        (("n: 5", "n: five"), "arms.sc_cot.n", "integer"),
        (("temperature: 0.9", "temperature: hot"), "arms.sc_cot.temperature", "number"),
        (('providers:\n  fake: "fake:Answer: 2"', "providers: [fake]"), "providers", "mapping"),
        # unknown strategy
        (("strategy: zero_shot", "strategy: tree_of_thought"), "arms.zero_shot.strategy", "one of"),
        # missing required keys
        (("tasks: tasks.jsonl\n", ""), "tasks", "missing required key"),
        (("examples: shots.jsonl, ", ""), "arms.few_cot.base.examples", "missing required key"),
        (
            ("    base: {strategy: chain_of_thought, extractor: numeric}\n", ""),
            "arms.sc_cot.base",
            "missing required key",
        ),
        # bad generation parameters: the ParameterError text, at the parameter's key
        (
            ("temperature: 0, max", "temperature: -1, max"),
            "arms.zero_shot.params.temperature",
            "temperature must be >= 0",
        ),
        (("max_tokens: 160}}", "max_tokens: 0}}"), "arms.cot.params.max_tokens", ">= 1"),
        (
            ("max_tokens: 160}}", "max_token: 160}}"),
            "arms.cot.params.max_token",
            "unknown generation parameter",
        ),
        # other building blocks
        (("scorers: [numeric]", "scorers: [numeric, bleu]"), "scorers[1]", "Unknown scorer"),
        (('fake: "fake:Answer: 2"', "fake: nowhere"), "providers.fake", "Unknown provider"),
        (("tasks: tasks.jsonl", "tasks: missing.jsonl"), "tasks", "no task file"),
        (
            (
                "extractor: numeric, params: {temperature: 0",
                "extractor: roman, params: {temperature: 0",
            ),
            "arms.zero_shot.extractor",
            "unknown extractor",
        ),
        (("k: 1,", "k: 0,"), "arms.few_cot.base.k", ">= 1"),
    ],
)
def test_errors_name_the_file_the_key_path_and_what_was_expected(
    folder: Path, change: tuple[str, str], key_path: str, expected: str
) -> None:
    old, new = change
    assert old in VALID
    message = error_for(folder, VALID.replace(old, new, 1))
    assert f": {key_path}:" in message, message
    assert expected in message, message


def test_errors_give_the_line_of_the_key(folder: Path) -> None:
    message = error_for(folder, VALID.replace("max_tokens: 160}}", "max_tokens: -5}}", 1))
    line = VALID.splitlines().index(
        "  cot: {strategy: chain_of_thought, extractor: numeric, params: {max_tokens: 160}}"
    )
    assert f"line {line + 1}:" in message


def test_bad_yaml_syntax_names_the_line(folder: Path) -> None:
    message = error_for(folder, "name: x\narms:\n  a: {strategy: zero_shot\n  b: 1\n")
    assert "not valid YAML" in message and "line 4" in message


def test_a_file_that_is_not_a_mapping(folder: Path) -> None:
    assert "expected a mapping" in error_for(folder, "- just\n- a list\n")


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no such experiment file"):
        Experiment.from_yaml(tmp_path / "nope.yaml")


def test_a_malformed_task_file_is_a_data_error_with_line_and_field(folder: Path) -> None:
    (folder / "tasks.jsonl").write_text('{"question": "a", "answer": 1}\n{"question": "b"}\n')
    with pytest.raises(DataError) as info:
        Experiment.from_yaml(write(folder, VALID))
    assert info.value.line == 2 and info.value.field == "answer"
    assert "tasks.jsonl" in str(info.value)


@pytest.fixture
def local_is_fake(monkeypatch: pytest.MonkeyPatch) -> None:
    """Build 'local' providers as fakes, so the example files load without the model."""

    def fake_local(rest: str, **kwargs: Any) -> FakeProvider:
        return FakeProvider(["Answer: 1"], cycle=True, model="SmolLM2-135M-Instruct")

    monkeypatch.setitem(registry.SCHEMES, "local", fake_local)


@pytest.mark.parametrize("name", ["arithmetic", "multiple_choice", "yes_no"])
def test_the_example_files_load(name: str, local_is_fake: None) -> None:
    experiment = Experiment.from_yaml(EXAMPLES / f"{name}.yaml")
    assert experiment.name == name
    assert len(experiment.arms) >= 2 and len(experiment.tasks) >= 30
    assert experiment.provider_limit("local") == 1


def test_the_demo_compares_zero_shot_cot_and_self_consistency(local_is_fake: None) -> None:
    arms = Experiment.from_yaml(EXAMPLES / "arithmetic.yaml").arms
    kinds = {name: type(arm.strategy) for name, arm in arms.items()}
    assert sorted(kinds.values(), key=lambda k: k.__name__) == [
        ChainOfThought,
        SelfConsistency,
        ZeroShot,
    ]
    sc = next(arm.strategy for arm in arms.values() if isinstance(arm.strategy, SelfConsistency))
    assert sc.n == 5 and isinstance(sc.base, ChainOfThought)
    assert all(
        s.name == "numeric" for s in Experiment.from_yaml(EXAMPLES / "arithmetic.yaml").scorers
    )


def test_the_stopping_rules_by_name() -> None:
    from promptlab.experiments.config import build_strategy
    from promptlab.strategies.stopping import BetaStop, DirichletStop

    def rule(stopping: Any) -> Any:
        spec = {"strategy": "self_consistency", "base": {"strategy": "zero_shot"},
                "stopping": stopping}  # fmt: skip
        strategy = build_strategy(spec, ("arms", 0), Path("."), None)
        assert isinstance(strategy, SelfConsistency)
        return strategy.stopping

    assert type(rule("beta")) is BetaStop
    dirichlet = rule({"rule": "dirichlet", "threshold": 0.9, "unseen_bin": True})
    assert type(dirichlet) is DirichletStop
    assert (dirichlet.threshold, dirichlet.unseen_bin) == (0.9, True)


def test_budget_aware_stopping_rules_and_their_combination_by_name() -> None:
    from promptlab.experiments.config import build_strategy
    from promptlab.strategies.stopping import AnyStop, BetaStop, PredictiveStop, UnbeatableStop

    def rule(stopping: Any) -> Any:
        spec = {"strategy": "self_consistency", "base": {"strategy": "zero_shot"},
                "stopping": stopping}  # fmt: skip
        strategy = build_strategy(spec, ("arms", 0), Path("."), None)
        assert isinstance(strategy, SelfConsistency)
        return strategy.stopping

    assert type(rule("unbeatable")) is UnbeatableStop
    assert rule({"rule": "predictive", "threshold": 0.95}).threshold == 0.95
    both = rule({"rule": "any", "rules": ["unbeatable", {"rule": "beta", "threshold": 0.9}]})
    assert isinstance(both, AnyStop)
    assert [type(r) for r in both.rules] == [UnbeatableStop, BetaStop]
    assert isinstance(rule({"rule": "any", "rules": ["predictive"]}).rules[0], PredictiveStop)
    with pytest.raises(ConfigurationError, match=r"arms\[0\].*stopping.*rules.*1"):
        rule({"rule": "any", "rules": ["beta", "nonsense"]})
    with pytest.raises(ConfigurationError, match="non-empty list"):
        rule({"rule": "any", "rules": []})
