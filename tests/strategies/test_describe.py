"""Each strategy describes itself: plain data, nested for wrappers, read by experiments as is."""

from __future__ import annotations

import json
from typing import Any

from promptlab.answers import ChoiceAnswer
from promptlab.experiments.arm import ArmSpec
from promptlab.experiments.experiment import Experiment
from promptlab.strategies import ChainOfThought, FewShot, SelfConsistency, Strategy, ZeroShot
from promptlab.strategies.stopping import BetaStop
from promptlab.testing import FakeProvider

SHOTS = [
    {"question": "1+1?", "answer": "2", "rationale": "one and one"},
    {"question": "2+2?", "answer": "4", "rationale": "two and two"},
]


def test_a_plain_strategy_describes_template_params_and_extractor() -> None:
    strategy = ZeroShot(extractor=ChoiceAnswer("ABC"), params={"max_tokens": 20}, system="Hi.")
    described = strategy.describe()
    assert described["type"] == "ZeroShot"
    assert described["template"] == "zero_shot"
    assert described["template_hash"] == strategy.template.hash
    assert described["params"] == {"max_tokens": 20}
    assert described["system"] == "Hi."
    assert "answer_format" not in described  # unset settings are left out
    assert described["extractor"] == "ChoiceAnswer"
    assert described["extractor_settings"]["type"].endswith("ChoiceAnswer")
    assert json.loads(json.dumps(described)) == described  # plain JSON data


def test_wrappers_nest_their_base_and_add_their_own_settings() -> None:
    few_shot = FewShot(SHOTS, k=1, selection="random", seed=3, extractor="numeric")
    described = SelfConsistency(ChainOfThought(few_shot), n=4, stopping=BetaStop()).describe()
    assert described["type"] == "SelfConsistency"
    assert (described["n"], described["batch_size"]) == (4, 2)
    assert described["stopping"]["type"].endswith("BetaStop")
    assert described["vote"]["type"].endswith("MajorityVote")
    chain = described["base"]
    assert chain["type"] == "ChainOfThought"
    assert chain["template"] == "chain_of_thought_few_shot"
    shots = chain["base"]
    assert shots["type"] == "FewShot"
    assert shots["k"] == 1 and shots["examples"]["count"] == 2
    assert shots["selection"]["type"].endswith("RandomSelector")
    other = FewShot([*SHOTS, {"question": "3+3?", "answer": "6"}], k=1, extractor="numeric")
    assert other.describe()["examples"]["hash"] != few_shot.describe()["examples"]["hash"]


class Tempered(ZeroShot):
    """A user's strategy with a setting no built-in strategy has."""

    def __init__(self, warmth: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.warmth = warmth

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "warmth": self.warmth}


def test_an_experiment_records_what_the_strategy_says_about_itself() -> None:
    """Nothing downstream probes attributes: a new setting reaches experiment.json as given."""
    arms: dict[str, Strategy | ArmSpec] = {
        "warm": Tempered(0.5, extractor="numeric"),
        "capped": ArmSpec(ZeroShot(extractor="numeric"), {"max_tokens": 9}),
    }
    experiment = Experiment(
        providers={"fake": FakeProvider()},
        arms=arms,
        tasks=[{"id": "t1", "question": "q", "answer": 1}],
        scorers=["numeric"],
    )
    described = experiment.describe()["arms"]
    assert described["warm"]["strategy"]["warmth"] == 0.5
    assert described["warm"] == {"strategy": arms["warm"].describe(), "params": {}}
    assert described["capped"]["params"] == {"max_tokens": 9}
    warmer = Experiment(
        providers={"fake": FakeProvider()},
        arms={"warm": Tempered(0.9, extractor="numeric")},
        tasks=[{"id": "t1", "question": "q", "answer": 1}],
        scorers=["numeric"],
    )
    assert warmer.describe()["arms"]["warm"]["strategy"]["warmth"] == 0.9
