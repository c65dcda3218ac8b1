"""A scripted provider for tests: no network, no model, every request recorded.

Users import it as :class:`promptlab.testing.FakeProvider`. It lives here, beside the other
backends, because the provider registry builds it for ``fake:TEXT`` strings and a provider
module never imports a higher layer.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeAlias

from promptlab.completion import Choice, Completion, CompletionRequest, Usage
from promptlab.errors import ConfigurationError
from promptlab.providers.base import Capabilities, OnUnsupported, Provider

Reply: TypeAlias = "str | BaseException"
Script: TypeAlias = (
    "Iterable[Reply] | Mapping[str, Reply] | Callable[[CompletionRequest], Reply | list[str]]"
)


class FakeProvider(Provider):
    """Answers from a script, like httpx's ``MockTransport`` or DSPy's ``DummyLM``.

    The script is one of:

    * a list of replies, used in order, one per sample (``cycle=True`` repeats it);
    * a dict from prompt to reply, keyed by the last user message's content (a
      ``default`` covers prompts not in it);
    * a callable ``fn(request) -> reply``, called once per sample.

    A reply that is an exception instance is raised instead, to script failures.
    Every request is kept in :attr:`requests`. Token usage counts whitespace-separated
    words, so tests can check that usage adds up. Blocking calls (``strategy.run``,
    ``complete_sync``) answer without an event loop (``Provider._generate_sync``), with
    the same replies; ``latency`` is then a blocking sleep.

    Its :meth:`fingerprint` (which keys the response cache) holds the model, the cost per
    call and a hash of the script: a list or dict script by its replies, a callable by its
    qualified name. Two fakes with different replies never share cached answers.

    Args:
        script: The replies.
        default: Reply for prompts missing from a dict script.
        cycle: Repeat a list script instead of failing when it runs out.
        latency: Seconds to wait per request (an ``asyncio.sleep``, no CPU).
        capabilities: What this fake claims to support; everything by default.
        model: The model name it reports.
        cost_per_call: Dollars per sample to report as cost, or None for "unknown".

    Example:
        >>> fake = FakeProvider(["Answer: 19", "Answer: 9"])
        >>> fake.complete_sync(CompletionRequest.of([])).text
        'Answer: 19'
    """

    name = "fake"

    def __init__(
        self,
        script: Script = ("Answer: 42",),
        *,
        default: Reply | None = None,
        cycle: bool = False,
        latency: float = 0.0,
        capabilities: Capabilities | None = None,
        model: str = "fake-model",
        cost_per_call: float | None = 0.0,
        on_unsupported: OnUnsupported = "error",
    ) -> None:
        super().__init__(on_unsupported=on_unsupported)
        self.model = model
        self.latency = latency
        self.cost_per_call = cost_per_call
        self.capabilities = capabilities or Capabilities(
            native_n=True, logprobs=True, penalties=True, seed=True
        )
        self.requests: list[CompletionRequest] = []
        self._mapping: Mapping[str, Reply] | None = None
        self._callable: Callable[[CompletionRequest], Reply | list[str]] | None = None
        self._replies: Iterator[Reply] | None = None
        self._script_length = 0
        self.default = default
        self.cycle = cycle
        if isinstance(script, Mapping):
            self._mapping = script
            identity: Any = {"map": sorted((str(k), _reply_data(v)) for k, v in script.items())}
        elif callable(script):
            self._callable = script
            identity = {"callable": _callable_identity(script)}
        else:
            replies = list(script)
            self._replies = itertools.cycle(replies) if cycle else iter(replies)
            self._script_length = len(replies)
            identity = {"list": [_reply_data(r) for r in replies]}
        text = json.dumps(identity, sort_keys=True, default=repr)
        self._script_hash = hashlib.sha256(text.encode()).hexdigest()[:16]

    def _fingerprint_settings(self) -> dict[str, Any]:
        return {
            "script": self._script_hash,
            "default": None if self.default is None else _reply_data(self.default),
            "cycle": self.cycle,
            "cost_per_call": self.cost_per_call,
        }

    @property
    def calls(self) -> int:
        """How many requests reached this provider."""
        return len(self.requests)

    async def _generate(self, request: CompletionRequest) -> Completion:
        self.requests.append(request)
        if self.latency:
            await asyncio.sleep(self.latency)
        return self._reply(request)

    def _generate_sync(self, request: CompletionRequest) -> Completion:
        # The blocking route (Strategy.run, complete_sync): the same reply, no event loop.
        self.requests.append(request)
        if self.latency:
            time.sleep(self.latency)
        return self._reply(request)

    def _reply(self, request: CompletionRequest) -> Completion:
        """The scripted completion for ``request``: the one rule behind both routes."""
        params = request.params
        n = params.n or 1
        texts = self._texts(request, n)
        if params.stop or params.max_tokens is not None or params.logprobs:
            choices = tuple(self._choice(text, i, request) for i, text in enumerate(texts))
        elif n == 1:
            # Nothing to cut or annotate, one sample: the common case, kept cheap because
            # benchmarks use this fake to measure promptlab's own per-call overhead.
            choices = (Choice(texts[0], "stop", None, 0),)
        else:
            choices = tuple([Choice(text, "stop", None, i) for i, text in enumerate(texts)])
        messages = request.messages
        usage = Usage(
            len(messages[0].content.split())  # one message and one text: no sums to build
            if len(messages) == 1
            else sum([len(m.content.split()) for m in messages]),
            len(texts[0].split()) if n == 1 else sum([len(t.split()) for t in texts]),
        )
        cost = None if self.cost_per_call is None else self.cost_per_call * n
        return Completion(choices, usage, 0.0, self.model, self.name, cost)

    def _texts(self, request: CompletionRequest, n: int) -> list[str]:
        """The next ``n`` scripted texts; a scripted exception is raised."""
        texts: list[str] = []
        while len(texts) < n:
            reply = self._next_reply(request)
            if isinstance(reply, BaseException):
                raise reply
            if isinstance(reply, str):
                texts.append(reply)
            else:
                texts.extend(reply)
        del texts[n:]
        return texts

    def _next_reply(self, request: CompletionRequest) -> Reply | list[str]:
        if self._callable is not None:
            return self._callable(request)
        if self._mapping is not None:
            prompt = next((m.content for m in reversed(request.messages) if m.role == "user"), "")
            if prompt in self._mapping:
                return self._mapping[prompt]
            if self.default is not None:
                return self.default
            raise ConfigurationError(
                f"FakeProvider has no scripted reply for the prompt {prompt[:80]!r} and no "
                "default. Add it to the dict or pass default=..."
            )
        if self._replies is None:  # pragma: no cover - one of the three is always set
            raise ConfigurationError("FakeProvider has no script.")
        try:
            return next(self._replies)
        except StopIteration:
            raise ConfigurationError(
                f"FakeProvider ran out of scripted replies after {self._script_length}; "
                "add more or pass cycle=True."
            ) from None

    @staticmethod
    def _choice(text: str, index: int, request: CompletionRequest) -> Choice:
        stop = request.params.stop or []
        finish = "stop"
        cut = min((text.find(s) for s in stop if s in text), default=-1)
        if cut >= 0:
            text = text[:cut]
        max_tokens = request.params.max_tokens
        words = text.split(" ")
        if max_tokens is not None and len(words) > max_tokens:
            text, finish = " ".join(words[:max_tokens]), "length"
        logprobs = None
        if request.params.logprobs:
            from promptlab.completion import TokenLogprob

            # A fixed, documented fake: each word has probability 1/2.
            logprobs = tuple(TokenLogprob(w, -0.6931471805599453) for w in text.split())
        return Choice(text, finish, logprobs, index)


def _reply_data(reply: Any) -> Any:
    if isinstance(reply, BaseException):
        return {"raises": f"{type(reply).__module__}.{type(reply).__qualname__}: {reply}"}
    return reply


def _callable_identity(script: Any) -> dict[str, Any]:
    """A callable script by its qualified name, code and plain-data closure values.

    Stable across processes (no ids), so a rerun with the same function hits the cache,
    while two different lambdas in one test do not share answers.
    """
    kind = script if hasattr(script, "__qualname__") else type(script)
    code = getattr(script, "__code__", None)
    cells = getattr(script, "__closure__", None) or ()
    plain = (str, int, float, bool, type(None))
    return {
        "name": f"{kind.__module__}.{kind.__qualname__}",
        "code": None if code is None else hashlib.sha256(code.co_code).hexdigest()[:16],
        "constants": None if code is None else [c for c in code.co_consts if isinstance(c, plain)],
        "closure": [value for value in map(_cell_value, cells) if isinstance(value, plain)],
    }


def _cell_value(cell: Any) -> Any:
    try:
        return cell.cell_contents
    except ValueError:  # a closure variable not bound yet
        return None
