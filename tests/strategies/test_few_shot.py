import json

import pytest

from promptlab import ConfigurationError, DataError, FewShot
from promptlab.testing import FakeProvider

SHOTS = [{"question": f"{i} + {i}?", "answer": str(2 * i)} for i in range(1, 7)]


def test_fixed_selection_shows_first_k_in_order():
    messages = FewShot(SHOTS, k=2).render({"question": "9 + 9?"})
    assert [m.role for m in messages] == ["user", "assistant", "user", "assistant", "user"]
    assert messages[0].content.startswith("1 + 1?") and messages[2].content.startswith("2 + 2?")
    assert messages[1].content == "Answer: 2"


def test_random_selection_is_seeded_per_task_and_order_independent():
    strategy = FewShot(SHOTS, k=3, selection="random", seed=1)
    first = strategy.select_examples({"question": "a"})
    strategy.select_examples({"question": "b"})
    assert strategy.select_examples({"question": "a"}) == first
    other_seed = FewShot(SHOTS, k=3, selection="random", seed=2)
    draws = {
        tuple(e["answer"] for e in other_seed.select_examples({"question": q})) for q in "abcdefgh"
    }
    assert len(draws) > 1  # different tasks see different examples


def test_the_tasks_own_question_is_never_shown():
    shown = FewShot(SHOTS, k=6).select_examples({"question": "3 + 3?"})
    assert all(e["question"] != "3 + 3?" for e in shown) and len(shown) == 5


def test_examples_load_from_jsonl_and_bad_line_is_reported(tmp_path):
    good = tmp_path / "shots.jsonl"
    good.write_text("\n".join(json.dumps(s) for s in SHOTS[:2]))
    assert FewShot(good).examples == SHOTS[:2]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(SHOTS[0]) + "\n{oops\n")
    with pytest.raises(DataError, match="line 2"):
        FewShot(bad)


def test_bad_k_selection_and_empty_examples_are_clear_errors():
    with pytest.raises(ConfigurationError, match="k=0"):
        FewShot(SHOTS, k=0)
    with pytest.raises(ConfigurationError, match="selection='semantic'"):
        FewShot(SHOTS, selection="semantic")
    with pytest.raises(ConfigurationError, match="at least one example"):
        FewShot([])


def test_few_shot_runs_end_to_end_on_fake():
    result = FewShot(SHOTS, k=2, extractor="numeric").run(
        {"question": "5 + 5?"}, FakeProvider(["Answer: 10"])
    )
    assert result.answer == "10"
