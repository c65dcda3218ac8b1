"""Resume never mixes two definitions: conflicts are refused, scorer changes re-score."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from promptlab.answers import ChoiceAnswer
from promptlab.errors import ConfigurationError
from promptlab.experiments.analysis import Run
from promptlab.experiments.arm import ArmSpec
from promptlab.experiments.experiment import Experiment
from promptlab.experiments.scoring import CallableScorer, NumericMatch
from promptlab.experiments.store import CellRecord
from promptlab.strategies import ZeroShot
from promptlab.testing import FakeProvider

REPLY = ["Answer: 10.4"]


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMPTLAB_CACHE_DIR", str(tmp_path / "default-cache"))


def fake() -> FakeProvider:
    return FakeProvider(REPLY, cycle=True)


def tasks(count: int = 4, expected: float = 10) -> list[dict[str, Any]]:
    return [{"id": f"t{i}", "question": f"q{i}", "answer": expected} for i in range(count)]


def build(provider: FakeProvider, **kwargs: Any) -> Experiment:
    kwargs.setdefault("arms", {"zs": ZeroShot(extractor="numeric")})
    kwargs.setdefault("tasks", tasks())
    kwargs.setdefault("scorers", ["numeric"])
    return Experiment(providers={"fake": provider}, **kwargs)


def run(experiment: Experiment, out: Path, **kwargs: Any) -> Run:
    return experiment.run(out, cache=False, progress=False, **kwargs)


def lines(out: Path) -> list[dict[str, Any]]:
    text = (out / "cells.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


# -- a change only in scorers: rescore, no provider call ---------------------------------


def test_a_changed_scorer_tolerance_rescores_without_calling_the_provider(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    first = run(build(fake()), out)
    assert first.summary()["accuracy"].tolist() == [0.0]  # 10.4 != 10 exactly

    second_provider = fake()
    loose = build(second_provider, scorers=[NumericMatch(tolerance=0.5)])
    second = run(loose, out)
    assert second_provider.calls == 0, "a rescore never calls the experiment's providers"
    # Every cell is rescored: no accuracy averaged over old and new scores.
    assert second.summary()["accuracy"].tolist() == [1.0]
    assert all(cell["scores"]["numeric"] == 1.0 for cell in lines(out))
    assert len(lines(out)) == 4
    message = capsys.readouterr().err
    assert (
        "Rescore" in message
        and "numeric" in message
        and "no provider of the experiment is called" in message
    )


def test_a_run_stored_before_the_scorers_moved_resumes_without_a_rescore(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Fingerprints name scorer types by module path; moving the module is not a change."""
    out = tmp_path / "run"
    run(build(fake()), out)
    stored = json.loads((out / "experiment.json").read_text(encoding="utf-8"))
    text = json.dumps(stored)
    new_path = "promptlab.experiments.scoring._match.NumericMatch"
    assert new_path in text
    # As written by promptlab before the experiment layer got its rooms.
    old = text.replace(new_path, "promptlab.experiments.match_scorers.NumericMatch")
    (out / "experiment.json").write_text(old, encoding="utf-8")
    capsys.readouterr()

    provider = fake()
    resumed = run(build(provider), out)
    assert "Rescore" not in capsys.readouterr().err
    assert provider.calls == 0
    assert len(resumed.records) == 4


def test_a_run_stored_before_the_fake_provider_moved_resumes(tmp_path: Path) -> None:
    """A provider's fingerprint names its class; the fake's move is not a change."""
    out = tmp_path / "run"
    run(build(fake()), out)
    text = (out / "experiment.json").read_text(encoding="utf-8")
    new_path = "promptlab.providers.fake.FakeProvider"
    assert new_path in text
    # As written by promptlab when the fake lived in the testing layer.
    old = text.replace(new_path, "promptlab.testing.fake_provider.FakeProvider")
    (out / "experiment.json").write_text(old, encoding="utf-8")

    provider = fake()
    resumed = run(build(provider), out)
    assert provider.calls == 0
    assert len(resumed.records) == 4


def test_an_added_scorer_is_computed_and_an_unchanged_one_kept(tmp_path: Path) -> None:
    out = tmp_path / "run"
    run(build(fake()), out)
    seen: list[str] = []

    def long_reply(task: Any, result: Any) -> bool:
        seen.append(task.id)
        return len(result.text) > 5

    provider = fake()
    again = run(build(provider, scorers=["numeric", CallableScorer(long_reply)]), out)
    assert provider.calls == 0
    assert sorted(seen) == ["t0", "t1", "t2", "t3"], "only the new scorer ran"
    assert again.scorers == ["numeric", "long_reply"]
    assert again.summary("long_reply")["accuracy"].tolist() == [1.0]
    assert again.summary("numeric")["accuracy"].tolist() == [0.0]

    removed = run(build(fake(), scorers=["numeric"]), out)
    assert removed.scorers == ["numeric"]
    assert all(set(cell["scores"]) == {"numeric"} for cell in lines(out))


def test_rescore_moves_cells_of_removed_tasks_to_a_backup(tmp_path: Path) -> None:
    out = tmp_path / "run"
    run(build(fake()), out)
    # Drop two tasks and loosen the tolerance: t2/t3 cannot be rescored (inputs gone).
    run(build(fake(), tasks=tasks(2), scorers=[NumericMatch(tolerance=0.5)]), out)
    assert {cell["task_id"] for cell in lines(out)} == {"t0", "t1"}
    backups = list(out.glob("cells.jsonl.bak-*"))
    assert len(backups) == 1
    assert {json.loads(x)["task_id"] for x in backups[0].read_text().splitlines()} == {"t2", "t3"}
    # Bringing the tasks back runs them with the current scorer, never old scores.
    provider = fake()
    back = run(build(provider, scorers=[NumericMatch(tolerance=0.5)]), out)
    assert provider.calls == 2
    assert back.summary()["accuracy"].tolist() == [1.0]


# -- conflicts: refused with old and new values and how to proceed -------------------------


def test_an_edited_template_is_refused_naming_the_arm_and_the_change(tmp_path: Path) -> None:
    out = tmp_path / "run"
    run(build(fake()), out)
    edited = ZeroShot(template="{% user %}Please: {{ question }}{% enduser %}", extractor="numeric")
    provider = fake()
    with pytest.raises(ConfigurationError) as info:
        run(build(provider, arms={"zs": edited}), out)
    message = str(info.value)
    assert "arm 'zs' is defined differently" in message
    assert "template_hash" in message and "->" in message
    assert "--out" in message and "--fresh" in message
    assert provider.calls == 0


def test_changed_arm_params_extractor_settings_and_provider_are_refused(tmp_path: Path) -> None:
    out = tmp_path / "run"
    run(build(fake(), arms={"zs": ZeroShot(extractor=ChoiceAnswer("ABCD"))}), out)
    choice = ZeroShot(extractor=ChoiceAnswer("ABCD"))
    cases = {
        "params.max_tokens: (none) -> 5": build(
            fake(), arms={"zs": ArmSpec(choice, {"max_tokens": 5})}
        ),
        "extractor_settings.letters": build(
            fake(), arms={"zs": ZeroShot(extractor=ChoiceAnswer("ABCDE"))}
        ),
        'provider \'fake\' is defined differently: model: "fake-model" -> "other"': build(
            FakeProvider(REPLY, cycle=True, model="other"), arms={"zs": choice}
        ),
        "the seed is different: 0 -> 1": build(fake(), seed=1, arms={"zs": choice}),
    }
    for expected, experiment in cases.items():
        with pytest.raises(ConfigurationError) as info:
            run(experiment, out)
        assert expected in str(info.value), str(info.value)


def test_a_task_edited_under_the_same_id_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "run"
    run(build(fake()), out)
    changed = tasks()
    changed[2]["answer"] = 11
    with pytest.raises(ConfigurationError, match="task 't2' is defined differently"):
        run(build(fake(), tasks=changed), out)


def test_fresh_starts_over_and_keeps_the_old_records_in_a_backup(tmp_path: Path) -> None:
    out = tmp_path / "run"
    run(build(fake()), out)
    old = (out / "cells.jsonl").read_text(encoding="utf-8")
    provider = fake()
    fresh = run(build(provider, seed=1), out, fresh=True)
    assert provider.calls == 4
    assert len(fresh.records) == 4
    backups = list(out.glob("cells.jsonl.bak-*"))
    assert [b.read_text(encoding="utf-8") for b in backups] == [old]
    assert len(list(out.glob("experiment.json.bak-*"))) == 1


def test_a_directory_without_a_fingerprint_is_not_resumed(tmp_path: Path) -> None:
    out = tmp_path / "run"
    run(build(fake()), out)
    definition = json.loads((out / "experiment.json").read_text(encoding="utf-8"))
    del definition["fingerprint"]  # as written by promptlab before fingerprints
    (out / "experiment.json").write_text(json.dumps(definition), encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"no definition fingerprint.*--fresh"):
        run(build(fake()), out)
    assert len(run(build(fake()), out, fresh=True).records) == 4


# -- Run shows only the current definition ------------------------------------------------


def test_removed_tasks_and_extra_repeats_are_not_in_the_run(tmp_path: Path) -> None:
    out = tmp_path / "run"
    run(build(fake(), repeats=3), out)
    assert len(lines(out)) == 12
    provider = fake()
    smaller = run(build(provider, tasks=tasks(2), repeats=2), out)
    assert provider.calls == 0
    assert len(smaller.records) == 4
    assert set(smaller.cells["task_id"]) == {"t0", "t1"}
    assert set(smaller.cells["repeat"]) == {0, 1}
    assert int(smaller.summary()["n"].iloc[0]) == 2
    assert len(Run.load(out).records) == 4
    # The records stay on disk: restoring the definition shows them again, no calls.
    restored = run(build(provider, repeats=3), out)
    assert provider.calls == 0 and len(restored.records) == 12


def test_a_removed_arm_readded_with_another_definition_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "run"
    both = {"zs": ZeroShot(extractor="numeric"), "other": ZeroShot(extractor="text")}
    run(build(fake(), arms=both), out)
    run(build(fake()), out)  # "other" removed: hidden, its definition kept as retired
    changed = {"zs": ZeroShot(extractor="numeric"), "other": ZeroShot(extractor="numeric")}
    with pytest.raises(ConfigurationError, match="arm 'other' is defined differently"):
        run(build(fake(), arms=changed), out)


def test_tasks_without_ids_keep_their_cells_when_a_row_is_inserted(tmp_path: Path) -> None:
    out = tmp_path / "run"
    rows = [{"question": f"q{i}", "answer": i} for i in range(4)]
    run(build(fake(), tasks=rows), out)
    provider = fake()
    new_rows = [{"question": "new", "answer": 99}, *rows]
    inserted = run(build(provider, tasks=new_rows), out)
    assert provider.calls == 1, "only the new row runs"
    assert len(inserted.records) == 5
    # Every stored cell is still attached to its own question (positional ids moved them).
    expected = {task.id: task.expected for task in build(fake(), tasks=new_rows).tasks}
    assert {r.task_id: r.expected for r in inserted.records} == expected


def test_a_run_stored_before_the_modules_moved_resumes_without_rescoring(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Fingerprints name scorer and provider classes by module path; runs made before the
    # experiments/ package was split hold the old paths and must still resume as they are.
    out = tmp_path / "run"
    run(build(fake()), out)
    path = out / "experiment.json"
    text = path.read_text(encoding="utf-8")
    old = text.replace(
        "promptlab.experiments.scoring._match.", "promptlab.experiments.match_scorers."
    ).replace("promptlab.providers.fake.", "promptlab.testing.fake_provider.")
    assert old.count("match_scorers.") and old.count("fake_provider.")
    path.write_text(old, encoding="utf-8")
    capsys.readouterr()
    provider = fake()
    resumed = run(build(provider), out)
    assert provider.calls == 0
    assert "Rescore" not in capsys.readouterr().err
    assert len(resumed.cells) == 4


def test_a_resume_parses_no_whole_record_and_returns_the_same_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Resuming needs only which cells are done: no record is parsed whole (prompts,
    replies), neither to resume nor for the Run it returns until that is asked for data."""
    out = tmp_path / "run"
    first = run(build(fake()), out)
    parsed: list[str] = []
    real_from_json = CellRecord.from_json.__func__  # type: ignore[attr-defined]

    def counting_from_json(cls: type[CellRecord], line: str) -> CellRecord:
        parsed.append(line)
        return real_from_json(cls, line)  # type: ignore[no-any-return]

    monkeypatch.setattr(CellRecord, "from_json", classmethod(counting_from_json))
    provider = fake()
    resumed = run(build(provider), out)
    assert provider.calls == 0 and parsed == []
    assert resumed.cells.equals(Run.load(out).cells)
    assert repr(resumed).startswith("Run('experiment': 4 cells done of 4, 0 errored")
    assert resumed.summary().equals(first.summary())
    # A resume that runs a cell returns the run with it.
    (out / "cells.jsonl").write_text(
        "".join(line + "\n" for line in (out / "cells.jsonl").read_text().splitlines()[:-1])
    )
    again = run(build(provider), out)
    assert provider.calls == 1 and len(again.cells) == 4 and len(again.records) == 4
