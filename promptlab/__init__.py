"""promptlab: compare prompting strategies honestly.

Strategies (zero-shot, few-shot, chain of thought, self-consistency) render Jinja
templates into chat messages and run them on any provider: the bundled local model,
OpenAI, Anthropic or LangChain. Names are imported on first use, so ``import promptlab``
stays fast and pulls in no SDK.

Example:
    >>> import promptlab as pl
    >>> local = pl.LlamaCppProvider()
    >>> sc = pl.SelfConsistency(pl.ChainOfThought(extractor="numeric"), n=5)
    >>> sc.run({"question": "What is 12 + 7?"}, local).answer
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from promptlab._exports import EXPORTS

__version__ = "0.1.0"

__all__ = sorted([*EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module_name = EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'promptlab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # static analysers see the real names
    from promptlab.answers import (
        AnswerExtractor,
        AutoAnswer,
        CallableAnswer,
        ChoiceAnswer,
        NumericAnswer,
        RegexAnswer,
        TextAnswer,
        YesNoAnswer,
    )
    from promptlab.completion import Choice, Completion, CompletionRequest, TokenLogprob, Usage
    from promptlab.errors import (
        AuthenticationError,
        BadRequestError,
        ConfigurationError,
        ContextWindowExceededError,
        CorpusNotFoundError,
        DataError,
        EmbeddingDimensionError,
        EmptyCorpusError,
        EmptyQueryError,
        MissingAPIKeyError,
        MissingDependencyError,
        MissingVariableError,
        ModelNotFoundError,
        ParameterError,
        PromptlabError,
        ProviderConnectionError,
        ProviderError,
        ProviderTimeoutError,
        RateLimitError,
        ResponseFormatError,
        RetrievalError,
        RunLockedError,
        ServerError,
        TemplateError,
        TemplateNotFoundError,
        TemplateSecurityError,
        UnsupportedParameterError,
    )
    from promptlab.experiments.cache import ResponseCache
    from promptlab.experiments.definition import ArmSpec, Experiment
    from promptlab.experiments.records import CellRecord
    from promptlab.experiments.run import Run
    from promptlab.experiments.run_files import DamagedCellsWarning
    from promptlab.experiments.scorers import (
        CallableScorer,
        ChoiceMatch,
        Contains,
        ExactMatch,
        JsonValid,
        JudgeScorer,
        NormalizedMatch,
        NumericMatch,
        Perplexity,
        RegexMatch,
        scorer_from_spec,
    )
    from promptlab.experiments.scoring import Score, Scorer
    from promptlab.experiments.tasks import Task, TaskSet
    from promptlab.experiments.unscored import UnscoredWarning
    from promptlab.majority_accuracy import (
        majority_at_k,
        majority_at_k_curve,
        mean_majority_at_k_curve,
    )
    from promptlab.messages import Message
    from promptlab.params import GenerationParams
    from promptlab.pricing import ModelPrice, cost_usd, price_for, register_price
    from promptlab.providers.anthropic import AnthropicProvider
    from promptlab.providers.base import Capabilities, Provider, UnsupportedParameterWarning
    from promptlab.providers.bundled_model import bundled_model_path
    from promptlab.providers.langchain import LangChainProvider
    from promptlab.providers.llama_cpp import LlamaCppProvider
    from promptlab.providers.openai import OpenAIProvider
    from promptlab.providers.rate_limit import RateLimiter
    from promptlab.providers.registry import provider
    from promptlab.providers.retry import RetryPolicy
    from promptlab.retrieval import (
        BM25Retriever,
        Document,
        Embedder,
        EmbeddingRetriever,
        LangChainEmbedder,
        LangChainRetriever,
        LlamaCppEmbedder,
        OpenAIEmbedder,
        Retriever,
        chunk_documents,
        load_corpus,
    )
    from promptlab.strategies.base import Sample, Strategy, StrategyResult
    from promptlab.strategies.chain_of_thought import ChainOfThought
    from promptlab.strategies.examples import ExampleSelector, FixedSelector, RandomSelector
    from promptlab.strategies.few_shot import FewShot
    from promptlab.strategies.self_consistency import SelfConsistency
    from promptlab.strategies.stopping import (
        BetaStop,
        DirichletStop,
        FixedN,
        StopDecision,
        StoppingRule,
        WindowStop,
    )
    from promptlab.strategies.zero_shot import ZeroShot
    from promptlab.sync import run_sync
    from promptlab.templating.environment import TemplateLibrary
    from promptlab.templating.template import PromptTemplate
    from promptlab.voting import MajorityVote, VoteResult
