"""Retrieval-augmented generation: retrieve passages for each task, show them to the model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import TemplateSyntaxError, UndefinedError, meta
from jinja2.exceptions import SecurityError

from promptlab.errors import (
    ConfigurationError,
    MissingQueryFieldError,
    TemplateError,
    TemplateSecurityError,
)
from promptlab.retrieval import Document, Retriever
from promptlab.retrieval._retriever import DEFAULT_K, check_k
from promptlab.strategies.base import Strategy
from promptlab.strategies.context import CONTEXT_VARIABLE, context_template
from promptlab.sync import run_sync
from promptlab.templating.template import PromptTemplate, default_library

#: The query RAG searches with when none is given: the task's question.
DEFAULT_QUERY = "{{ question }}"


class RAG(Strategy):
    """Wrap any strategy: retrieve ``k`` passages for each task and show them as ``context``.

    For each task, the ``query`` template is rendered over the task's inputs (in the same
    sandbox as prompt templates), the retriever is asked once for ``k`` passages, and
    the wrapped strategy's template receives them as ``context``: a list of
    :class:`~promptlab.retrieval.Document` (``id``, ``text``, ``score``, ``metadata``),
    best first. A strategy with a built-in template switches to its context variant
    (``zero_shot`` -> ``zero_shot_context``, ``few_shot`` -> ``few_shot_context``,
    ``chain_of_thought`` -> ``chain_of_thought_context``...); a template of your own
    must show ``context`` itself (see :mod:`promptlab.strategies.context`).

    It composes like the other wrappers: ``RAG(FewShot(...))``,
    ``ChainOfThought(RAG(ZeroShot()))`` and
    ``SelfConsistency(ChainOfThought(RAG(...)))`` all retrieve once per task. Put RAG
    *inside* self-consistency, not around it: every sample then sees the same passages.

    The retrieved documents are in ``StrategyResult.retrieved`` (and in each cell
    record), and their ids and scores are part of the response cache key, so a changed
    index is a changed request. :meth:`describe` holds the retriever's
    :meth:`~promptlab.retrieval.Retriever.fingerprint` (its class, corpus and settings),
    so an experiment's definition fingerprint changes with the index.

    Args:
        base: The strategy to give passages to, e.g. ``ZeroShot()`` or ``FewShot(...)``.
        retriever: Any :class:`~promptlab.retrieval.Retriever`: ``BM25Retriever``,
            ``EmbeddingRetriever``, ``LangChainRetriever``, or your own (an object with
            ``async retrieve(query, k)`` returning documents, and ideally ``fingerprint()``).
        k: Passages per task; the retriever's own ``k`` (4 unless it was built with
            another) when None.
        query: A Jinja template over the task's inputs giving the search query, e.g.
            ``"{{ question }} {{ choices | join(' ') }}"``.
        template: Overrides the template; it must use ``context``.

    Example:
        >>> from promptlab.retrieval import BM25Retriever
        >>> docs = BM25Retriever("town.jsonl")
        >>> rag = RAG(ZeroShot(), docs, k=3)
        >>> sc = SelfConsistency(ChainOfThought(RAG(ZeroShot(), docs)), n=5)
    """

    has_context = True

    def __init__(
        self,
        base: Strategy,
        retriever: Retriever | Any,
        k: int | None = None,
        query: str = DEFAULT_QUERY,
        *,
        template: str | PromptTemplate | None = None,
    ) -> None:
        if not isinstance(base, Strategy):
            raise ConfigurationError(
                f"base={base!r} is not a strategy: wrap one, e.g. RAG(ZeroShot(), retriever)."
            )
        if type(base).arun is not Strategy.arun:
            raise ConfigurationError(
                f"RAG cannot wrap {type(base).__name__}, which draws its own samples: put RAG "
                f"inside it instead, e.g. {type(base).__name__}(ChainOfThought(RAG(ZeroShot(), "
                "retriever))), so every sample sees the same passages."
            )
        if base.has_context:
            raise ConfigurationError(
                "RAG wraps a strategy that already retrieves passages (RAG inside RAG). Use "
                "one RAG with one retriever; to combine two searches, write a Retriever that "
                "merges them."
            )
        if not callable(getattr(retriever, "retrieve", None)):
            raise ConfigurationError(
                f"retriever={type(retriever).__name__} is not a retriever: it needs an async "
                "retrieve(query, k) method. Use BM25Retriever, EmbeddingRetriever, "
                "LangChainRetriever or a Retriever subclass."
            )
        self.base = base
        self.retriever = retriever
        self.k = check_k(getattr(retriever, "k", DEFAULT_K) if k is None else k)
        self.query = query
        self._query_template, self.query_fields = _compile_query(query)
        chosen = base.template if template is None else PromptTemplate.coerce(template)
        self.template = context_template(chosen)
        self.extractor = base.extractor
        self.params = base.params
        self.system = base.system
        self.answer_format = base.answer_format
        self.has_examples = base.has_examples

    @property
    def name(self) -> str:
        return f"RAG({self.base.name}, {self.template.name}, k={self.k})"

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "k": self.k,
            "query": self.query,
            "retriever": retriever_identity(self.retriever),
            "base": self.base.describe(),
        }

    def search_query(self, inputs: Mapping[str, Any]) -> str:
        """The query for this task: the ``query`` template rendered over its inputs.

        Raises:
            MissingQueryFieldError: The query uses a field the task does not have.
        """
        try:
            return str(self._query_template.render(dict(inputs))).strip()
        except SecurityError as exc:
            raise TemplateSecurityError(
                f"The retrieval query {self.query!r} tried an unsafe operation and was "
                f"stopped by the sandbox: {exc}"
            ) from None
        except UndefinedError as exc:
            missing = sorted(self.query_fields - set(inputs))
            if missing:
                raise MissingQueryFieldError(self.query, missing[0], sorted(inputs)) from None
            raise TemplateError(  # an attribute or key of a field the task does have
                f"The retrieval query {self.query!r} could not render: {exc.message}. Check "
                "the fields of the task's values."
            ) from None

    async def aretrieve(self, inputs: Mapping[str, Any]) -> list[Document]:
        """The ``k`` passages retrieved for this task, best first."""
        found = await self.retriever.retrieve(self.search_query(inputs), self.k)
        documents = list(found)
        for item in documents:
            if not isinstance(item, Document):
                raise ConfigurationError(
                    f"{type(self.retriever).__name__}.retrieve returned a "
                    f"{type(item).__name__}; a retriever returns promptlab Document objects."
                )
        return documents

    def template_inputs(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        # The sync path (render() for a preview): retrieval is async, so run it to the end.
        return run_sync(self.atemplate_inputs(inputs))

    async def atemplate_inputs(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        if CONTEXT_VARIABLE in inputs:
            raise ConfigurationError(
                f"The task has a field {CONTEXT_VARIABLE!r}, the variable RAG fills with the "
                "retrieved passages: rename the task field (e.g. to 'passage') so the two "
                "do not collide."
            )
        # The search and the base's own preparation (say, similar few-shot examples) are
        # independent: run them side by side.
        import asyncio  # here, not at the top: importing strategies stays free of asyncio

        passages, variables = await asyncio.gather(
            self.aretrieve(inputs), self.base.atemplate_inputs(inputs)
        )
        variables[CONTEXT_VARIABLE] = passages
        return variables

    def extract(self, text: str) -> str | None:
        return self.base.extract(text)


def retriever_identity(retriever: Any) -> dict[str, Any]:
    """What identifies a retriever's answers: its ``fingerprint()``, else its class.

    A :class:`~promptlab.retrieval.Retriever` subclass gives its corpus/index hash and
    settings (and its embedder's fingerprint), so a changed index changes the
    description. An object without ``fingerprint()`` is known by its class only.
    """
    fingerprint = getattr(retriever, "fingerprint", None)
    if callable(fingerprint):
        described = fingerprint()
        if isinstance(described, Mapping):
            return dict(described)
    kind = type(retriever)
    return {"class": f"{kind.__module__}.{kind.__qualname__}"}


def _compile_query(query: Any) -> tuple[Any, frozenset[str]]:
    if not isinstance(query, str) or not query.strip():
        raise ConfigurationError(
            f"query={query!r} is not allowed: give a Jinja template over the task's fields, "
            f"e.g. {DEFAULT_QUERY!r}."
        )
    environment = default_library().environment
    try:
        fields = frozenset(meta.find_undeclared_variables(environment.parse(query)))
        return environment.from_string(query), fields
    except TemplateSyntaxError as exc:
        raise TemplateError(
            f"The retrieval query {query!r} has a syntax error: {exc.message}."
        ) from exc
