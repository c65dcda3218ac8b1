"""Prompting strategies. They compose: ``SelfConsistency(ChainOfThought(FewShot(...)))``,
``SelfConsistency(ChainOfThought(RAG(ZeroShot(), retriever)))``."""

from promptlab.strategies.base import Sample, Strategy, StrategyResult
from promptlab.strategies.chain_of_thought import ChainOfThought
from promptlab.strategies.examples import ExampleSelector, FixedSelector, RandomSelector
from promptlab.strategies.few_shot import FewShot
from promptlab.strategies.rag import RAG
from promptlab.strategies.self_consistency import SelfConsistency
from promptlab.strategies.similar_examples import SimilarExamples
from promptlab.strategies.zero_shot import ZeroShot

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
