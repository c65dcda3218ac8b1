"""The :class:`Strategy` base class and its :class:`StrategyResult`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from promptlab._frozen import fast_init
from promptlab.answers import AnswerExtractor, as_extractor, reply_answer, stopped_for_length
from promptlab.completion import Choice, Completion, CompletionRequest, Usage
from promptlab.messages import Message
from promptlab.params import GenerationParams
from promptlab.providers.base import Provider
from promptlab.retrieval import Document
from promptlab.strategies.context import request_key_part, retrieved_passages
from promptlab.strategies.description import settings_of
from promptlab.strategies.examples import shot_ids
from promptlab.sync import run_sync
from promptlab.templating.template import PromptTemplate


@fast_init
@dataclass(frozen=True, slots=True)
class Sample:
    """One sampled reply and the answer extracted from it.

    Attributes:
        text: The reply.
        answer: Its canonical answer; None when it had none, including every reply cut off
            by the token limit before finishing a final-answer line.
        finish_reason: Why generation ended, as the provider said (``"stop"``,
            ``"length"``...).
    """

    text: str
    answer: str | None
    finish_reason: str | None = None

    @property
    def truncated(self) -> bool:
        """True when generation stopped at the token limit."""
        return stopped_for_length(self.finish_reason)


@fast_init
@dataclass(frozen=True, slots=True)
class StrategyResult:
    """What a strategy run produced.

    Attributes:
        answer: The final answer (canonical form), or None if none could be extracted.
        samples: Every sampled reply with its extracted answer.
        messages: The rendered messages that were sent.
        usage: Tokens summed over every call.
        latency_s: Wall time of the run, in seconds.
        cost_usd: Dollars summed over every call; None if any price was unknown.
        calls: Backend calls made.
        strategy: The strategy's description.
        template: The template's name; ``template_hash`` identifies its exact source.
        params: The generation parameters actually requested.
        votes: Votes per answer (self-consistency only).
        confidence: The winner's share of the votes (self-consistency only).
        no_answer: Samples with no extractable answer.
        stop_reason: Why sampling stopped (self-consistency only).
        completions: The raw provider completions.
        shots: The ids of the few-shot examples shown, in order (an example's ``id``
            field, else its content id); empty without examples.
        retrieved: The passages retrieved for the task (:class:`~promptlab.strategies.rag.RAG`),
            best first, each a :class:`~promptlab.retrieval.Document` with ``id``, ``text``,
            ``score`` and ``metadata``; empty without retrieval.
    """

    answer: str | None
    samples: tuple[Sample, ...]
    messages: tuple[Message, ...]
    usage: Usage
    latency_s: float
    cost_usd: float | None
    calls: int
    strategy: str
    template: str
    template_hash: str
    params: GenerationParams
    votes: dict[str, int] | None = None
    confidence: float | None = None
    no_answer: int = 0
    stop_reason: str | None = None
    completions: tuple[Completion, ...] = field(default=(), repr=False)
    shots: tuple[str, ...] = ()
    retrieved: tuple[Document, ...] = ()

    @property
    def text(self) -> str:
        """The first sample's raw text."""
        return self.samples[0].text if self.samples else ""

    @property
    def texts(self) -> list[str]:
        """Every sample's raw text."""
        return [s.text for s in self.samples]


class Strategy:
    """Decides what to ask a provider, and how the reply becomes an answer.

    A strategy is a template, the variables it adds to the task's inputs (few-shot
    examples, say), default generation parameters and an answer extractor. Subclasses
    override :meth:`template_inputs`, and wrappers like ``SelfConsistency`` override
    :meth:`arun`.

    Args:
        template: A :class:`PromptTemplate`, a built-in template name, or Jinja source.
        extractor: How to read the answer: an extractor, a callable, or a kind name
            (``"auto"``, ``"numeric"``, ``"choice"``, ``"yes_no"``, ``"text"``). The
            default, ``"auto"``, reads a number when the answer is one number and text
            otherwise.
        params: Default generation parameters (the lowest layer).
        system: An optional system prompt, passed to the template as ``system``.
        answer_format: Optional words on the answer's form (``"a number"``), passed to
            the template as ``answer_format``.
    """

    default_template = "zero_shot"
    #: True when the strategy supplies ``examples`` to its template.
    has_examples = False
    #: True when the strategy supplies retrieved passages (``context``) to its template.
    has_context = False

    def __init__(
        self,
        template: str | PromptTemplate | None = None,
        *,
        extractor: AnswerExtractor | Any = None,
        params: GenerationParams | Mapping[str, Any] | None = None,
        system: str | None = None,
        answer_format: str | None = None,
    ) -> None:
        self.template = PromptTemplate.coerce(template or self.default_template)
        self.extractor: AnswerExtractor = as_extractor(extractor)
        self.params = _as_params(params)
        self.system = system
        self.answer_format = answer_format

    @property
    def name(self) -> str:
        """A short description, e.g. ``"ZeroShot(zero_shot)"``."""
        return f"{type(self).__name__}({self.template.name})"

    def describe(self) -> dict[str, Any]:
        """What this strategy is, as plain JSON-ready data.

        An experiment writes it to ``experiment.json`` and its definition fingerprint, so
        every setting that changes a reply or its answer belongs here: the kind, the
        template's name and hash, the default parameters, the extractor and its settings,
        and the system prompt and answer format when set. Strategies that add settings
        (examples, ``n``, a stopping rule, a wrapped strategy) extend it.

        Example:
            >>> ZeroShot(extractor="numeric").describe()["extractor"]
            'NumericAnswer'
        """
        description: dict[str, Any] = {
            "type": type(self).__name__,
            "name": self.name,
            "template": self.template.name,
            "template_hash": self.template.hash,
            "extractor": type(self.extractor).__name__,
            "extractor_settings": settings_of(self.extractor),
            "params": self.params.given_values(),
        }
        if self.system is not None:
            description["system"] = self.system
        if self.answer_format is not None:
            description["answer_format"] = self.answer_format
        return description

    def template_inputs(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """The variables handed to the template for these task inputs."""
        variables = dict(inputs)
        if self.system is not None:
            variables.setdefault("system", self.system)
        if self.answer_format is not None:
            variables.setdefault("answer_format", self.answer_format)
        return variables

    async def atemplate_inputs(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """:meth:`template_inputs` on the async path, which :meth:`arun` takes.

        A strategy whose inputs need a search (similar few-shot examples, retrieved
        passages) does it here without blocking the event loop; wrappers pass the call on
        to their base. The default is :meth:`template_inputs`.
        """
        return self.template_inputs(inputs)

    def render(self, inputs: Mapping[str, Any]) -> tuple[Message, ...]:
        """The messages this strategy would send for ``inputs``."""
        return self.template.render(self.template_inputs(inputs))

    def extract(self, text: str) -> str | None:
        """The canonical answer in one reply."""
        return self.extractor.extract(text)

    def read_choice(self, choice: Choice) -> Sample:
        """One sampled reply as a :class:`Sample`: the one rule for every strategy.

        The answer is :meth:`extract`'s, except that a reply cut off by the token limit
        has an answer only when it finished a final-answer line (see
        :func:`~promptlab.answers.reply_answer`).
        """
        text, finish = choice.text, choice.finish_reason
        return Sample(text, reply_answer(self.extract, text, finish), finish)

    def resolve_params(
        self,
        params: GenerationParams | Mapping[str, Any] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> GenerationParams:
        """Merge strategy defaults < ``params`` (arm layer) < ``overrides`` (per call)."""
        return self.params.merge(params, overrides)

    async def arun(
        self,
        inputs: Mapping[str, Any],
        provider: Provider,
        *,
        params: GenerationParams | Mapping[str, Any] | None = None,
        **overrides: Any,
    ) -> StrategyResult:
        """Render, call ``provider`` once, extract the answer.

        Args:
            inputs: The task's input fields, e.g. ``{"question": "..."}``.
            provider: The backend to call.
            params: Arm-level generation parameters, over the strategy's defaults.
            **overrides: Per-call generation parameters, over everything else.
        """
        variables = await self.atemplate_inputs(inputs)
        request = self.request_for(variables, params, overrides)
        return self.result_of(variables, request, await provider.complete(request))

    def run(
        self,
        inputs: Mapping[str, Any],
        provider: Provider,
        *,
        params: GenerationParams | Mapping[str, Any] | None = None,
        **overrides: Any,
    ) -> StrategyResult:
        """Blocking :meth:`arun`; works in scripts and inside notebooks.

        When the strategy's inputs need nothing awaited (:meth:`prepares_inputs_sync`) and
        it keeps :meth:`arun`'s single call, the request is built here and sent with
        :meth:`Provider.complete_sync <promptlab.providers.base.Provider.complete_sync>`,
        which skips the event loop for backends with a synchronous call; the result is the
        one :meth:`arun` gives. Otherwise :meth:`arun` runs through
        :func:`~promptlab.sync.run_sync`.
        """
        if not (type(self).arun is Strategy.arun and self.prepares_inputs_sync()):
            return run_sync(self.arun(inputs, provider, params=params, **overrides))
        variables = self.template_inputs(inputs)
        request = self.request_for(variables, params, overrides)
        return self.result_of(variables, request, provider.complete_sync(request))

    def prepares_inputs_sync(self) -> bool:
        """True when :meth:`template_inputs` gives what :meth:`atemplate_inputs` would.

        That is, preparing the inputs awaits nothing, so :meth:`run` can build the request
        without an event loop. True unless a subclass overrides :meth:`atemplate_inputs`
        (a search that runs async); such a subclass may override this too.
        """
        return type(self).atemplate_inputs is Strategy.atemplate_inputs

    def request_for(
        self,
        variables: Mapping[str, Any],
        params: GenerationParams | Mapping[str, Any] | None,
        overrides: Mapping[str, Any] | None,
    ) -> CompletionRequest:
        """The request :meth:`arun` and :meth:`run` send for these template variables."""
        messages = self.template.render(variables)
        resolved = self.resolve_params(params, overrides)
        if not self.has_context:
            return CompletionRequest(messages, resolved)
        return CompletionRequest(
            messages, resolved, request_key_part(retrieved_passages(variables))
        )

    def result_of(
        self, variables: Mapping[str, Any], request: CompletionRequest, completion: Completion
    ) -> StrategyResult:
        """The :class:`StrategyResult` of one call: every choice read as a :class:`Sample`."""
        samples = tuple([self.read_choice(c) for c in completion.choices])
        answers = [sample.answer for sample in samples]
        template = self.template
        # The first fields by position: this runs on every call, and keywords cost more.
        return StrategyResult(
            answers[0] if answers else None,
            samples,
            request.messages,
            completion.usage,
            completion.latency_s,
            completion.cost_usd,
            completion.calls,
            self.name,
            template.name,
            template.hash,
            request.params,
            no_answer=answers.count(None),
            completions=(completion,),
            shots=shot_ids(variables) if self.has_examples else (),
            retrieved=retrieved_passages(variables) if self.has_context else (),
        )

    def as_runnable(
        self,
        provider: Provider,
        *,
        output: Literal["result", "answer"] = "result",
        params: GenerationParams | Mapping[str, Any] | None = None,
    ) -> Any:
        """This strategy on ``provider`` as a LangChain ``Runnable`` for LCEL chains.

        Input: the task's inputs (a dict); output: the :class:`StrategyResult`, or its
        answer with ``output="answer"``. See :mod:`promptlab.strategies.runnable`.
        """
        from promptlab.strategies.runnable import as_runnable

        return as_runnable(self, provider, output=output, params=params)

    def __repr__(self) -> str:
        return self.name


_NO_PARAMS = GenerationParams()  # frozen, so one shared instance serves every "no params"


def _as_params(params: GenerationParams | Mapping[str, Any] | None) -> GenerationParams:
    if params is None:
        return _NO_PARAMS
    if isinstance(params, GenerationParams):
        return params
    return GenerationParams(**params)
