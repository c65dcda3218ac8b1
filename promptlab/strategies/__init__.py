"""Prompting strategies. They compose: ``SelfConsistency(ChainOfThought(FewShot(...)))``."""

from promptlab.strategies.base import Sample, Strategy, StrategyResult
from promptlab.strategies.chain_of_thought import ChainOfThought
from promptlab.strategies.examples import ExampleSelector, FixedSelector, RandomSelector
from promptlab.strategies.few_shot import FewShot
from promptlab.strategies.self_consistency import SelfConsistency
from promptlab.strategies.zero_shot import ZeroShot

__all__ = [
    "ChainOfThought",
    "ExampleSelector",
    "FewShot",
    "FixedSelector",
    "RandomSelector",
    "Sample",
    "SelfConsistency",
    "Strategy",
    "StrategyResult",
    "ZeroShot",
]
