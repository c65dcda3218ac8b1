"""Run: loading cells.jsonl, summary, paired comparisons, Holm, power, Pareto, views, maj@k.

Expected numbers are worked out by hand in tests/experiments/run_fixtures.py.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import pandas as pd
import pytest

from promptlab.errors import ConfigurationError, DataError
from promptlab.experiments.analysis import Run
from promptlab.experiments.store import CellRecord, DamagedCellsWarning
from tests.experiments.run_fixtures import (
    MALICIOUS,
    cell,
    main_experiment,
    main_records,
    sc_records,
    write_run,
)

# Wilson 95% intervals from the closed form (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n).
WILSON_3_OF_10 = (0.1077913, 0.6032219)
WILSON_7_OF_10 = (0.3967781, 0.8922087)


@pytest.fixture
def run(tmp_path: Path) -> Run:
    return Run.load(write_run(tmp_path / "run", main_records(), main_experiment()))


def row(table, **where):  # type: ignore[no-untyped-def]
    mask = True
    for column, value in where.items():
        mask = mask & (table[column] == value)
    selected = table[mask]
    assert len(selected) == 1, selected
    return selected.iloc[0]


def test_cells_table_has_one_row_per_cell_and_score_columns(run: Run) -> None:
    cells = run.cells
    # 10 tasks x 2 arms x 2 providers + the errored t11; t09/cot appears once (retried).
    assert len(cells) == 41
    assert "score_numeric" in cells.columns
    assert {"input_tokens", "cost_usd", "latency_s", "error_type", "cached"} <= set(cells.columns)
    assert run.arms == ["plain", "cot"]
    assert run.providers == ["local", "api"]
    assert run.seed == 7


def test_last_record_per_cell_wins(run: Run) -> None:
    retried = row(run.cells, task_id="t09", arm="cot", provider="local")
    assert bool(retried["ok"]) is True
    assert retried["score_numeric"] == 0.0


def test_summary_numbers(run: Run) -> None:
    summary = run.summary()
    plain = row(summary, arm="plain", provider="local")
    assert plain["accuracy"] == pytest.approx(0.3)
    assert (plain["ci_low"], plain["ci_high"]) == pytest.approx(WILSON_3_OF_10, abs=1e-6)
    assert plain["ci_method"] == "wilson"
    # The errored t11 is an error, not a wrong answer: n stays 10, accuracy stays 0.3.
    assert plain["n"] == 10
    assert plain["errors"] == 1
    assert plain["cells"] == 11
    assert plain["mean_tokens"] == 15.0
    assert plain["total_tokens"] == 150
    assert plain["cost_usd"] == 0.0
    assert plain["latency_p50_s"] == pytest.approx(5.5)
    assert plain["latency_p95_s"] == pytest.approx(9.55)
    assert plain["calls"] == 11
    cot = row(summary, arm="cot", provider="local")
    assert cot["accuracy"] == pytest.approx(0.7)
    assert (cot["ci_low"], cot["ci_high"]) == pytest.approx(WILSON_7_OF_10, abs=1e-6)
    assert cot["errors"] == 0
    assert cot["cache_hits"] == 1
    # The cache hit (t01, 1 s) is left out of latency: the median of 2..10 s is 6.
    assert cot["latency_p50_s"] == pytest.approx(6.0)


def test_unknown_cost_propagates_never_zero(run: Run) -> None:
    summary = run.summary()
    assert row(summary, arm="plain", provider="api")["cost_usd"] == pytest.approx(0.01)
    assert row(summary, arm="plain", provider="api")["cost_per_task_usd"] == pytest.approx(0.001)
    assert math.isnan(row(summary, arm="cot", provider="api")["cost_usd"])


def test_compare_matches_hand_computed_mcnemar(run: Run) -> None:
    table = run.compare("cot", "plain", provider="local")
    assert len(table) == 1
    result = table.iloc[0]
    assert result["test"] == "mcnemar_exact"
    assert (result["a_only_correct"], result["b_only_correct"]) == (5, 1)
    assert result["p_value"] == pytest.approx(14 / 64)
    assert result["diff"] == pytest.approx(0.4)
    assert result["n_pairs"] == 10
    assert result["ci_low"] < 0.4 < result["ci_high"]
    # Same seed, same table.
    assert run.compare("cot", "plain", provider="local").equals(table)


def test_compare_every_provider_and_by_provider(run: Run) -> None:
    table = run.compare("plain", "cot")
    assert list(table["provider"]) == ["local", "api"]
    api = row(table, provider="api")
    assert (api["a_only_correct"], api["b_only_correct"]) == (0, 3)
    assert api["p_value"] == pytest.approx(0.25)  # 2 * (1/2)**3
    models = run.compare("local", "api", by="provider", arm="cot")
    assert models.iloc[0]["provider_a"] == "local"
    assert models.iloc[0]["diff"] == pytest.approx(0.7 - 0.8)


def test_compare_unknown_arm_names_the_known_arms(run: Run) -> None:
    with pytest.raises(ConfigurationError, match=r"arm 'cott' is not in this run.*'plain', 'cot'"):
        run.compare("cott", "plain")
    with pytest.raises(ConfigurationError, match="provider='gpt' is not in this run"):
        run.compare("cot", "plain", provider="gpt")
    with pytest.raises(ConfigurationError, match="scorer='exact' is not in this run"):
        run.compare("cot", "plain", scorer="exact")


def test_compare_all_holm_over_the_whole_table(run: Run) -> None:
    table = run.compare_all()
    assert list(table["provider"]) == ["local", "api"]
    raw = sorted(table["p_value"])  # 0.21875 and 0.25
    expected = {raw[0]: min(1.0, 2 * raw[0]), raw[1]: max(min(1.0, 2 * raw[0]), raw[1])}
    for _, result in table.iterrows():
        assert result["p_adjusted"] == pytest.approx(expected[result["p_value"]])
    assert not table["significant"].any()


@pytest.mark.parametrize("by", ["arm", "provider"])
def test_compare_and_compare_all_give_the_same_rows(run: Run, by: str) -> None:
    """One comparison, one row: both tables come from the same row builder."""
    every = run.compare_all(by=by)  # type: ignore[arg-type]
    a, b = every.iloc[0][f"{by}_a"], every.iloc[0][f"{by}_b"]
    one = run.compare(a, b, by=by)  # type: ignore[arg-type]
    assert len(one) == len(every) == 2  # two providers (by arm) or two arms (by provider)
    assert list(every.columns) == [
        *one.columns[: list(one.columns).index("p_value") + 1],
        "p_adjusted",
        "significant",
        *one.columns[list(one.columns).index("p_value") + 1 :],
    ]
    shared = every[list(one.columns)].astype(object).reset_index(drop=True)
    assert shared.equals(one.astype(object).reset_index(drop=True))


def test_compare_all_with_no_pairs_has_the_same_columns(tmp_path: Path) -> None:
    run = Run.load(write_run(tmp_path / "r", [cell("t01", "a", "local", True)]))
    assert run.compare_all().empty
    assert "p_adjusted" in run.compare_all().columns
    assert list(run.compare_all().columns) == list(
        run.compare_all(by="provider")
        .rename(columns={"provider_a": "arm_a", "provider_b": "arm_b", "arm": "provider"})
        .columns
    )


def test_repeats_are_averaged_and_compared_with_wilcoxon(tmp_path: Path) -> None:
    records = []
    for i, task in enumerate(["t01", "t02", "t03", "t04", "t05", "t06"]):
        for repeat in (0, 1):
            records.append(cell(task, "a", "local", True, repeat=repeat))
            records.append(cell(task, "b", "local", repeat == 0 or i == 0, repeat=repeat))
    run = Run.load(write_run(tmp_path / "r", records))
    assert row(run.summary(), arm="b")["accuracy"] == pytest.approx((1 + 5 * 0.5) / 6)
    assert row(run.summary(), arm="b")["ci_method"] == "t"
    result = run.compare("a", "b").iloc[0]
    assert result["test"] == "wilcoxon_signed_rank"
    assert result["n_pairs"] == 6


def test_truncated_last_line_is_skipped(tmp_path: Path) -> None:
    path = write_run(tmp_path / "r", main_records(), main_experiment())
    with (path / "cells.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"task_id": "t12", "arm": "plain", "provi')
    with pytest.warns(DamagedCellsWarning, match="line 43"):
        run = Run.load(path)
    assert len(run.cells) == 41


def test_partial_record_glued_to_a_full_one_is_recovered(tmp_path: Path) -> None:
    path = tmp_path / "r"
    path.mkdir()
    good = cell("t01", "plain", "local", True).to_json()
    (path / "cells.jsonl").write_text('{"task_id": "t0' + good + "\n", encoding="utf-8")
    with pytest.warns(DamagedCellsWarning, match="1 damaged line"):
        run = Run.load(path)
    assert list(run.cells["task_id"]) == ["t01"]


def test_damaged_lines_anywhere_are_skipped_with_one_warning_naming_them(tmp_path: Path) -> None:
    path = write_run(tmp_path / "r", main_records()[:3])
    text = (path / "cells.jsonl").read_text(encoding="utf-8").splitlines()
    damaged = f'{text[0]}\nnot json\n{text[1]}\n{{"task_id": 3}}\n{text[2]}\n'
    (path / "cells.jsonl").write_text(damaged, encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = Run.load(path)
    notes = [w for w in caught if issubclass(w.category, DamagedCellsWarning)]
    assert len(notes) == 1, "damage is reported once, not once per line"
    assert "cells.jsonl" in str(notes[0].message) and "line 2, 4" in str(notes[0].message)
    assert len(run.records) == 3


def test_missing_run_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a run directory"):
        Run.load(tmp_path / "nowhere")


def test_tasks_needed_uses_observed_accuracy_and_discordance(run: Run) -> None:
    from promptlab.experiments.stats import tasks_needed

    # Observed: p_cot = 0.7, p_plain = 0.3, discordance (5 + 1) / 10 = 0.6.
    assert run.tasks_needed("cot", "plain") == tasks_needed(0.7, 0.3, discordance=0.6)
    smaller = run.tasks_needed("cot", "plain", difference=0.1)
    assert smaller == tasks_needed(0.4, 0.3, discordance=0.6)
    assert smaller > run.tasks_needed("cot", "plain")
    assert run.tasks_needed("cot", "plain", discordance=0.4) == tasks_needed(
        0.7, 0.3, discordance=0.4
    )


def test_pareto_front_and_unknown_cost(run: Run) -> None:
    table = run.pareto()
    front = {(r.arm, r.provider) for r in table.itertuples() if r.on_pareto_front}
    # cot on the free local model beats plain/local and plain/api; cot/api's cost is unknown.
    assert front == {("cot", "local")}
    assert not row(table, arm="cot", provider="api")["on_pareto_front"]


def test_model_choice_view(run: Run) -> None:
    choice = run.model_choice()
    assert list(choice.columns[:3]) == ["arm", "provider", "model"]
    assert row(choice, arm="cot", provider="local")["setup"] == "local, no key"
    assert row(choice, arm="cot", provider="api")["setup"] == "API key needed"
    assert row(choice, arm="plain", provider="api")["cost_per_1k_tasks_usd"] == pytest.approx(1.0)
    assert choice.iloc[0]["accuracy"] == pytest.approx(0.8)  # best first


def test_disagreements_lists_tasks_where_answers_differ(run: Run) -> None:
    table = run.disagreements(provider="local")
    assert list(table["task_id"]) == ["t03", "t04", "t05", "t06", "t07", "t08", "t10"]
    t03 = row(table, task_id="t03")
    assert (t03["answer_plain"], t03["answer_cot"]) == ("3", "0")
    assert MALICIOUS in t03["output_plain"]


def test_majority_at_k_exact_curve(tmp_path: Path) -> None:
    run = Run.load(write_run(tmp_path / "r", sc_records()))
    assert run.self_consistency_arms() == ["sc"]
    curve = run.majority_at_k("sc")
    assert list(curve["k"]) == [1, 2, 3]
    # Mean of [2/3, 2/3, 1] (t01) and [1/3, 1/2, 1/2] (t02).
    assert list(curve["accuracy"]) == pytest.approx([0.5, 7 / 12, 0.75])
    assert set(curve["cells"]) == {2}
    with pytest.raises(ConfigurationError, match="known arms"):
        run.majority_at_k("nope")


def test_majority_at_k_explicit_normalizer(tmp_path: Path) -> None:
    records = [
        CellRecord(
            task_id="t1",
            arm="sc",
            provider="p",
            model="m",
            repeat=0,
            expected="Yes",
            answers=["yes", "no", "yes"],
            outputs=["a", "b", "c"],
            answer="yes",
            scores={"yes_no": 1.0},
        )
    ]
    run = Run.load(write_run(tmp_path / "r", records))
    assert list(run.majority_at_k("sc", normalize="yes_no")["accuracy"]) == pytest.approx(
        [2 / 3, 2 / 3, 1.0]
    )


def test_majority_at_k_uses_the_expected_answer_each_cell_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A custom extractor's canonical form comes from the record, never from a class name."""
    from promptlab.answers import RegexAnswer
    from promptlab.experiments.experiment import Experiment
    from promptlab.strategies import SelfConsistency, ZeroShot
    from promptlab.testing import FakeProvider

    monkeypatch.setenv("PROMPTLAB_CACHE_DIR", str(tmp_path / "cache"))
    extractor = RegexAnswer(r"Answer: (\w+)", normalize=str.upper)
    experiment = Experiment(
        providers={"fake": FakeProvider(["Answer: paris", "Answer: rome", "Answer: paris"])},
        arms={"sc": SelfConsistency(ZeroShot(extractor=extractor), n=3)},
        tasks=[{"id": "t1", "question": "Capital of France?", "answer": "Paris"}],
        scorers=["exact"],
    )
    run = experiment.run(tmp_path / "run", cache=False, progress=False)
    assert run.records[0].expected_answer == "PARIS"
    assert run.cells["expected_answer"].tolist() == ["PARIS"]
    # k=1: 2 of 3 samples; k=2: 1 of 3 pairs agree on PARIS, 2 tie (half credit); k=3: PARIS.
    assert list(run.majority_at_k("sc")["accuracy"]) == pytest.approx([2 / 3, 2 / 3, 1.0])


def test_majority_at_k_reads_records_without_the_expected_answer(tmp_path: Path) -> None:
    """Older records: the arm's built-in extractor named in experiment.json, else plain text."""
    pool = ["1000", "1000", "7"]
    record = CellRecord("t1", "sc", "local", "m", 0, expected="1,000.0", answers=pool)
    record.outputs = [f"Answer: {a}" for a in pool]
    assert "expected_answer" in record.to_json()  # new records carry it...
    line = json.loads(record.to_json())
    del line["expected_answer"]  # ...older ones do not
    directory = tmp_path / "r"
    directory.mkdir()
    (directory / "cells.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")
    assert list(Run.load(directory).majority_at_k("sc")["accuracy"]) == [0.0, 0.0, 0.0]

    arms = {"sc": {"strategy": {"type": "SelfConsistency", "extractor": "NumericAnswer"}}}
    (directory / "experiment.json").write_text(json.dumps({"arms": arms}), encoding="utf-8")
    numeric = Run.load(directory).majority_at_k("sc")
    assert list(numeric["accuracy"]) == pytest.approx([2 / 3, 2 / 3, 1.0])


@pytest.mark.parametrize(
    ("kind", "setup"),
    [
        ("local", "local, no key"),
        ("ollama", "local server, no key"),
        ("llama-server", "local server, no key"),
        ("openai", "API key needed"),
        ("anthropic", "API key needed"),
        ("openai-compatible", "compatible server (key only if hosted)"),
        ("fake", "test double, no key"),
    ],
)
def test_provider_setup_labels(kind: str, setup: str) -> None:
    from promptlab.experiments.analysis import provider_setup

    assert provider_setup(kind) == setup


def test_an_empty_run_reports_without_crashing(tmp_path: Path) -> None:
    path = write_run(tmp_path / "r", [], main_experiment())
    run = Run.load(path)
    assert run.cells.empty and "score_numeric" in run.cells.columns
    assert run.summary().empty
    assert run.compare_all().empty
    assert run.report(path / "report.html").exists()


def test_disagreements_are_in_natural_task_order(tmp_path: Path) -> None:
    records = []
    for task in ("t10", "t9", "t2"):
        records.append(cell(task, "a", "local", True))
        records.append(cell(task, "b", "local", False))
    run = Run.load(write_run(tmp_path / "r", records))
    assert list(run.disagreements()["task_id"]) == ["t2", "t9", "t10"]


def test_a_loaded_run_describes_its_experiment_as_the_file_was_at_load(tmp_path: Path) -> None:
    directory = write_run(tmp_path / "run", main_records(), main_experiment())
    run = Run.load(directory)
    at_load = json.loads((directory / "experiment.json").read_text(encoding="utf-8"))
    # A later run of a changed definition rewrites the file; this Run is still the old one.
    (directory / "experiment.json").write_text(json.dumps({"name": "changed"}), "utf-8")

    assert run.experiment == at_load
    assert run.summary()["arm"].tolist() == ["plain", "plain", "cot", "cot"]
    # Parsed on each use, not held: a caller's edit to one dict is not the run's.
    run.experiment["name"] = "edited"
    assert run.experiment == at_load


def test_a_run_in_memory_keeps_the_description_it_was_given() -> None:
    described = {"name": "mine", "seed": 3}
    run = Run([cell("t1", "a", "p", right=True)], described)
    assert run.experiment == described and run.seed == 3


def test_changing_the_cells_table_leaves_the_run_as_it_was(run: Run) -> None:
    assert run.run_dir is not None
    untouched = Run.load(run.run_dir)

    changed = run.cells
    changed.loc[changed.index[0], "answer"] = "changed"
    changed["score_numeric"] = 0.0
    changed.iloc[1, changed.columns.get_loc("task_id")] = "t-other"
    del changed["cost_usd"]

    pd.testing.assert_frame_equal(run.cells, untouched.cells)
    pd.testing.assert_frame_equal(run.summary(), untouched.summary())
    assert changed["answer"].iloc[0] == "changed"  # the copy took the changes


def test_an_empty_experiment_file_is_damaged_not_missing(tmp_path: Path) -> None:
    # An empty experiment.json would otherwise mean "no definition": every cell kept,
    # whatever definition wrote it.
    directory = write_run(tmp_path / "run", main_records(), main_experiment())
    (directory / "experiment.json").write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="not valid JSON"):
        Run.load(directory)
