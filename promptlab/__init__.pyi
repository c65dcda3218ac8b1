"""The public names of ``promptlab``: the one list of them.

Type checkers and IDEs read this stub for ``import promptlab``; at run time
``promptlab/__init__.py`` reads the same imports to build ``__all__`` and to import each
name from its module on first use. To add, move or rename a public name, edit the import
here (and the README's Public API list; ``tests/test_public_api.py`` checks they agree).
Only ``from .module import Name as Name`` lines belong here: the ``as`` marks a re-export.
"""

from ._version import __version__ as __version__
from .answers import (
    AnswerExtractor as AnswerExtractor,
    AutoAnswer as AutoAnswer,
    CallableAnswer as CallableAnswer,
    ChoiceAnswer as ChoiceAnswer,
    NumericAnswer as NumericAnswer,
    RegexAnswer as RegexAnswer,
    TextAnswer as TextAnswer,
    YesNoAnswer as YesNoAnswer,
)
from .completion import (
    Choice as Choice,
    Completion as Completion,
    CompletionRequest as CompletionRequest,
    TokenLogprob as TokenLogprob,
    Usage as Usage,
)
from .errors import (
    AuthenticationError as AuthenticationError,
    BadRequestError as BadRequestError,
    BatchRequestError as BatchRequestError,
    ConfigurationError as ConfigurationError,
    ContextWindowExceededError as ContextWindowExceededError,
    CorpusNotFoundError as CorpusNotFoundError,
    DataError as DataError,
    EmbeddingDimensionError as EmbeddingDimensionError,
    EmptyCorpusError as EmptyCorpusError,
    EmptyQueryError as EmptyQueryError,
    MissingAPIKeyError as MissingAPIKeyError,
    MissingCredentialsError as MissingCredentialsError,
    MissingDependencyError as MissingDependencyError,
    MissingQueryFieldError as MissingQueryFieldError,
    MissingVariableError as MissingVariableError,
    ModelNotFoundError as ModelNotFoundError,
    ParameterError as ParameterError,
    PromptlabError as PromptlabError,
    ProviderConnectionError as ProviderConnectionError,
    ProviderError as ProviderError,
    ProviderTimeoutError as ProviderTimeoutError,
    RateLimitError as RateLimitError,
    ResponseFormatError as ResponseFormatError,
    RetrievalError as RetrievalError,
    RunLockedError as RunLockedError,
    ServerError as ServerError,
    TemplateError as TemplateError,
    TemplateNotFoundError as TemplateNotFoundError,
    TemplateSecurityError as TemplateSecurityError,
    UnsupportedParameterError as UnsupportedParameterError,
)
from .experiments.analysis import (
    FineTuningExport as FineTuningExport,
    Run as Run,
    RunPlots as RunPlots,
    UnscoredWarning as UnscoredWarning,
    readable_table as readable_table,
)
from .experiments.arm import (
    ArmSpec as ArmSpec,
)
from .experiments.config import (
    scorer_from_spec as scorer_from_spec,
)
from .experiments.execution import (
    BatchOptions as BatchOptions,
    CostEstimate as CostEstimate,
    batch_status as batch_status,
    cancel_batches as cancel_batches,
)
from .experiments.experiment import (
    Experiment as Experiment,
)
from .experiments.scoring import (
    CallableScorer as CallableScorer,
    ChoiceMatch as ChoiceMatch,
    Contains as Contains,
    ExactMatch as ExactMatch,
    JsonValid as JsonValid,
    JudgeScorer as JudgeScorer,
    MeanReciprocalRank as MeanReciprocalRank,
    NormalizedMatch as NormalizedMatch,
    NumericMatch as NumericMatch,
    Perplexity as Perplexity,
    RecallAtK as RecallAtK,
    ReferencePerplexity as ReferencePerplexity,
    RegexMatch as RegexMatch,
    Score as Score,
    Scorer as Scorer,
)
from .experiments.stats import (
    majority_at_k as majority_at_k,
    majority_at_k_curve as majority_at_k_curve,
    mean_majority_at_k_curve as mean_majority_at_k_curve,
    tasks_needed_unpaired as tasks_needed_unpaired,
)
from .experiments.store import (
    CellRecord as CellRecord,
    DamagedCellsWarning as DamagedCellsWarning,
)
from .experiments.tasks import (
    Task as Task,
    TaskSet as TaskSet,
)
from .likelihood import (
    PerplexityResult as PerplexityResult,
    PromptLogprobs as PromptLogprobs,
)
from .messages import (
    Message as Message,
)
from .params import (
    GenerationParams as GenerationParams,
)
from .pricing import (
    ModelPrice as ModelPrice,
    batch_cost_usd as batch_cost_usd,
    cost_usd as cost_usd,
    price_for as price_for,
    register_price as register_price,
)
from .providers.anthropic import (
    AnthropicProvider as AnthropicProvider,
)
from .providers.base import (
    Capabilities as Capabilities,
    Provider as Provider,
    UnsupportedParameterWarning as UnsupportedParameterWarning,
)
from .providers.batch import (
    BatchLimits as BatchLimits,
    set_batch_limits as set_batch_limits,
)
from .providers.bundled_model import (
    bundled_model_path as bundled_model_path,
)
from .providers.cache import (
    ResponseCache as ResponseCache,
)
from .providers.langchain import (
    LangChainProvider as LangChainProvider,
)
from .providers.llama_cpp import (
    LlamaCppProvider as LlamaCppProvider,
)
from .providers.openai import (
    OpenAIProvider as OpenAIProvider,
)
from .providers.perplexity import (
    aperplexity as aperplexity,
    perplexity as perplexity,
)
from .providers.rate_limit import (
    RateLimiter as RateLimiter,
)
from .providers.registry import (
    provider as provider,
)
from .providers.retry import (
    RetryPolicy as RetryPolicy,
)
from .retrieval import (
    BM25Retriever as BM25Retriever,
    DeepLakeRetriever as DeepLakeRetriever,
    Document as Document,
    Embedder as Embedder,
    EmbeddingRetriever as EmbeddingRetriever,
    LangChainEmbedder as LangChainEmbedder,
    LangChainRetriever as LangChainRetriever,
    LlamaCppEmbedder as LlamaCppEmbedder,
    OpenAIEmbedder as OpenAIEmbedder,
    Retriever as Retriever,
    chunk_documents as chunk_documents,
    load_corpus as load_corpus,
)
from .strategies.base import (
    Sample as Sample,
    Strategy as Strategy,
    StrategyResult as StrategyResult,
)
from .strategies.chain_of_thought import (
    ChainOfThought as ChainOfThought,
)
from .strategies.examples import (
    ExampleSelector as ExampleSelector,
    FixedSelector as FixedSelector,
    RandomSelector as RandomSelector,
)
from .strategies.few_shot import (
    FewShot as FewShot,
)
from .strategies.rag import (
    RAG as RAG,
)
from .strategies.self_consistency import (
    SelfConsistency as SelfConsistency,
)
from .strategies.similar_examples import (
    SimilarExamples as SimilarExamples,
)
from .strategies.stopping import (
    AnyStop as AnyStop,
    BetaStop as BetaStop,
    DirichletStop as DirichletStop,
    FinalVoteStop as FinalVoteStop,
    FixedN as FixedN,
    PredictiveStop as PredictiveStop,
    StopDecision as StopDecision,
    StoppingRule as StoppingRule,
    UnbeatableStop as UnbeatableStop,
    WindowStop as WindowStop,
)
from .strategies.zero_shot import (
    ZeroShot as ZeroShot,
)
from .sync import (
    run_sync as run_sync,
)
from .templating.template import (
    PromptTemplate as PromptTemplate,
    TemplateLibrary as TemplateLibrary,
)
from .voting import (
    MajorityVote as MajorityVote,
    VoteResult as VoteResult,
)
