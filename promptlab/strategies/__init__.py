"""Prompting strategies. They compose: ``SelfConsistency(ChainOfThought(FewShot(...)))``,
``SelfConsistency(ChainOfThought(RAG(ZeroShot(), retriever)))``."""

from typing import TYPE_CHECKING

import lazy_loader

from promptlab.strategies.base import Sample, Strategy, StrategyResult
from promptlab.strategies.chain_of_thought import ChainOfThought
from promptlab.strategies.examples import ExampleSelector, FixedSelector, RandomSelector
from promptlab.strategies.few_shot import FewShot
from promptlab.strategies.rag import RAG
from promptlab.strategies.zero_shot import ZeroShot

if TYPE_CHECKING:
    from promptlab.strategies.self_consistency import SelfConsistency
    from promptlab.strategies.similar_examples import SimilarExamples

# SimilarExamples needs NumPy and the retrievers, SelfConsistency the voting and stopping
# rules; a strategy that uses neither (`promptlab.ZeroShot`) must not pay for them at import
# time, so they load on first use.
__getattr__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "self_consistency": ["SelfConsistency"],
        "similar_examples": ["SimilarExamples"],
    },
)[0]


__all__ = [
    "RAG",
    "ChainOfThought",
    "ExampleSelector",
    "FewShot",
    "FixedSelector",
    "RandomSelector",
    "Sample",
    "SelfConsistency",
    "SimilarExamples",
    "Strategy",
    "StrategyResult",
    "ZeroShot",
]
