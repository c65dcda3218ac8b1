"""Run any GGUF model in-process through llama-cpp-python; by default the bundled SmolLM2.

Message contents are user data, never chat control tokens. llama-cpp-python formats the
messages with the model's chat template and tokenizes the whole prompt with special-token
parsing on, so a content holding ``<|im_start|>system`` would become a real turn. A
content that the tokenizer would read differently with special parsing is therefore
swapped for a random placeholder before formatting, and the placeholder is tokenized as
that content with special parsing off: the model reads ``<|im_start|>`` as plain text.
Other contents go through llama.cpp's own path unchanged.
"""

from __future__ import annotations

import asyncio
import random
import re
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from promptlab.completion import Choice, Completion, CompletionRequest, TokenLogprob, Usage
from promptlab.errors import (
    BadRequestError,
    ConfigurationError,
    ContextWindowExceededError,
    MissingDependencyError,
)
from promptlab.likelihood import PromptLogprobs, ScoredText, check_rolling, scoring_parts
from promptlab.messages import Message
from promptlab.providers.base import Capabilities, OnUnsupported, Provider
from promptlab.providers.bundled_model import gguf_model
from promptlab.providers.fingerprints import file_identity
from promptlab.providers.llama_cpp_likelihood import PromptCaptured, score_continuation

#: Generation length when ``max_tokens`` is not set: llama.cpp would otherwise run to the
#: end of the context window.
DEFAULT_MAX_TOKENS = 512
#: Longest prompt piece evaluated in one batch: a message longer than this is cut every
#: PIECE_TOKENS tokens, so a long shared start is reused in whole pieces of this size.
PIECE_TOKENS = 256
#: A last prompt piece shorter than this joins the one before it (see :func:`_piece_ends`).
_SHORT_TAIL = 16
#: How the KV cache is reused across requests (see :class:`LlamaCppProvider`).
PrefixCache = Literal["reproducible", "longest"]


class LlamaCppProvider(Provider):
    """A local model, run in-process by llama.cpp. Needs no API key and no network.

    It formats messages with the model's own chat template (read from the GGUF file) and
    supports temperature, stop, frequency and presence penalties, top_p, seed,
    max_tokens, n and token logprobs.

    For ``n > 1`` it samples n times in a row; llama.cpp keeps the prompt in its KV cache
    between samples, so only the first sample evaluates the prompt. Sample ``i`` uses seed
    ``seed + i`` when a seed is set, and a fresh random seed otherwise.

    Across requests the KV cache is reused too, in a way that cannot change a result
    (``prefix_cache="reproducible"``, the default): a prompt is always evaluated in the same
    pieces, cut after each end-of-turn token (so at message boundaries), every
    :data:`PIECE_TOKENS` tokens within a long message, and before its last token, which is
    evaluated alone (a short last piece joins the one before). A piece is computed from its
    own tokens and the pieces before it only, so a piece the previous request left in the
    cache is exactly what evaluating it again would give, and only whole matching pieces are
    reused. The same seed, parameters and prompt therefore give the same reply whatever ran
    before, and a seeded sample is the same first in its request or later
    (self-consistency's batches reproduce the samples of one ``n`` request).
    ``prefix_cache="longest"`` instead reuses the longest cached token prefix, as
    llama-cpp-python does by itself: it saves re-evaluating the rest of a partly shared
    message, but llama.cpp's logits depend slightly on how a prompt was split into batches,
    so a reply may then depend on which request ran before.

    Calls are serialised (one llama.cpp context) and run in a worker thread, so the event
    loop stays free; blocking calls (``complete_sync``, ``Strategy.run``) run in the
    calling thread. Cost is always 0.

    Args:
        model_path: A ``.gguf`` file; the bundled SmolLM2-135M-Instruct by default.
        n_ctx: Context window in tokens.
        n_threads: CPU threads; llama.cpp's default when None.
        chat_format: A llama-cpp-python chat format name, to override the model's template.
        prefix_cache: ``"reproducible"`` (default) reuses cached prompt pieces only where
            that cannot change a reply; ``"longest"`` reuses the longest cached prefix,
            trading call-order independence for less prompt evaluation.
        on_unsupported: See :class:`~promptlab.providers.base.Provider`.

    Example:
        >>> local = LlamaCppProvider()  # the bundled model
        >>> ZeroShot().run({"question": "Name a colour."}, local, max_tokens=16).text
    """

    name = "local"
    #: One llama.cpp context serves one call at a time; runners should not queue more.
    max_concurrency: int | None = 1
    capabilities = Capabilities(
        native_n=True, logprobs=True, max_top_logprobs=20, penalties=True, seed=True
    )

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        chat_format: str | None = None,
        prefix_cache: PrefixCache = "reproducible",
        on_unsupported: OnUnsupported = "error",
    ) -> None:
        super().__init__(on_unsupported=on_unsupported)
        if prefix_cache not in ("reproducible", "longest"):
            raise ConfigurationError(
                f"prefix_cache={prefix_cache!r} is not a prefix-cache mode. Use "
                "'reproducible' (replies never depend on call order) or 'longest' (reuse "
                "the longest cached prefix; replies may depend on what ran before)."
            )
        self.prefix_cache: PrefixCache = prefix_cache
        self.model_path, self.model = gguf_model(model_path)
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.chat_format = chat_format
        self._models: dict[bool, Any] = {}
        #: Per model variant, the prompt pieces its KV cache holds (reproducible mode).
        self._pieces: dict[bool, _PromptPieces] = {}
        self._lock = threading.Lock()
        #: Prompt tokens llama.cpp actually evaluated (the rest came from its KV cache).
        self.prompt_tokens_evaluated = 0

    def _fingerprint_settings(self) -> dict[str, Any]:
        """The model file (name, size, sampled content hash), the chat format, the context size, the
        default ``max_tokens``, how the prompt is evaluated and the llama-cpp-python version."""
        return {
            "model_file": file_identity(self.model_path),
            "chat_format": self.chat_format,
            "n_ctx": self.n_ctx,
            "default_max_tokens": DEFAULT_MAX_TOKENS,
            "prompt_evaluation": (
                f"pieces-{PIECE_TOKENS}" if self.prefix_cache == "reproducible" else "longest"
            ),
            "llama_cpp_python": _llama_cpp_version(),
        }

    async def _generate(self, request: CompletionRequest) -> Completion:
        return await asyncio.to_thread(self._generate_sync, request)

    def _generate_sync(self, request: CompletionRequest) -> Completion:
        params = request.params
        messages = [m.to_dict() for m in request.messages]
        logits_all = bool(params.logprobs)
        with self._lock:
            llama = self._load(logits_all=logits_all)
            messages, protected = _protect_contents(llama, messages)
            primed = 0
            if self.prefix_cache == "reproducible":
                primed = self._prime_prompt(llama, logits_all, messages, protected)
            choices, usage = [], Usage()
            for index in range(params.n or 1):
                seed = params.sample_seed(index)
                response, evaluated = self._sample(llama, messages, params, seed, protected)
                evaluated += primed if index == 0 else 0
                choices.append(_choice(response["choices"][0], index, params.top_logprobs))
                prompt_tokens = response["usage"]["prompt_tokens"]
                usage = usage + Usage(
                    input_tokens=prompt_tokens,
                    output_tokens=response["usage"]["completion_tokens"],
                    cached_input_tokens=max(0, prompt_tokens - evaluated),
                )
        return Completion(tuple(choices), usage, model=self.model, provider=self.name, cost_usd=0.0)

    def _sample(
        self,
        llama: Any,
        messages: list[dict[str, str]],
        params: Any,
        seed: int | None,
        protected: dict[str, str],
    ) -> tuple[dict[str, Any], int]:
        kwargs: dict[str, Any] = {
            "messages": messages,
            "max_tokens": params.max_tokens or DEFAULT_MAX_TOKENS,
            "seed": seed if seed is not None else random.randrange(2**31),
        }
        for name in ("temperature", "top_p", "stop", "frequency_penalty", "presence_penalty"):
            value = getattr(params, name)
            if value is not None:
                kwargs[name] = value
        if params.logprobs:
            kwargs["logprobs"] = True
            kwargs["top_logprobs"] = params.top_logprobs or 0
        evaluated: list[int] = []
        llama._promptlab_eval_log = evaluated
        llama._promptlab_protected = protected
        try:
            response = llama.create_chat_completion(**kwargs)
        except ValueError as exc:
            text = str(exc)
            if "context window" in text or "exceed" in text:
                raise ContextWindowExceededError(
                    f"{text}. Shorten the prompt, lower max_tokens, or raise n_ctx.",
                    provider=self.name,
                ) from exc
            raise BadRequestError(text, provider=self.name) from exc
        finally:
            llama._promptlab_eval_log = None
            llama._promptlab_protected = None
        # The first eval call of a sample is the prompt suffix not found in the KV cache.
        prompt_evaluated = evaluated[0] if evaluated else 0
        self.prompt_tokens_evaluated += prompt_evaluated
        return response, prompt_evaluated

    async def prompt_logprobs(
        self,
        text: ScoredText,
        *,
        rolling: bool = False,
        context_size: int | None = None,
        stride: int | None = None,
    ) -> PromptLogprobs:
        """Each token's log-probability from the model's logits, teacher-forced.

        See :meth:`Provider.prompt_logprobs <promptlab.providers.base.Provider.prompt_logprobs>`
        for the arguments, and :mod:`promptlab.providers.llama_cpp_likelihood` for how
        the first token is predicted (from the model's BOS token when there is no
        context). ``context_size`` defaults to ``n_ctx``; ``stride`` to half of it.

        Raises:
            ContextWindowExceededError: The context and text do not fit in ``n_ctx``
                tokens and ``rolling`` is False.
        """
        context, continuation = scoring_parts(text)
        check_rolling(rolling, context_size, stride)
        return await asyncio.to_thread(
            self._prompt_logprobs_blocking, context, continuation, rolling, context_size, stride
        )

    def _prompt_logprobs_blocking(
        self,
        context: str | Sequence[Message],
        continuation: str,
        rolling: bool,
        context_size: int | None,
        stride: int | None,
    ) -> PromptLogprobs:
        with self._lock:
            llama = self._load(logits_all=True)
            self._pieces.pop(True, None)  # scoring rewrites this model's KV cache
            return score_continuation(
                llama,
                context,
                continuation,
                lambda messages: self._chat_prompt_tokens(llama, messages),
                n_ctx=self.n_ctx,
                rolling=rolling,
                context_size=context_size,
                stride=stride,
                provider=self.name,
            )

    def _chat_prompt_tokens(self, llama: Any, messages: Sequence[Message]) -> list[int]:
        """The prompt tokens a chat completion of ``messages`` would evaluate.

        Runs llama-cpp-python's own chat handler (the model's template, with the same
        protection of contents as :meth:`complete`) and stops it when it tokenizes the
        formatted prompt, so the context is exactly what generation would see.
        """
        safe, protected = _protect_contents(llama, [m.to_dict() for m in messages])
        tokens = _captured_prompt_tokens(llama, safe, protected)
        if tokens is None:
            raise ConfigurationError(
                f"The chat format {llama.chat_format!r} does not tokenize its prompt in the "
                "usual way, so the rendered prompt cannot be scored as a context. Give the "
                "context as a string instead."
            )
        return tokens

    def _prime_prompt(
        self,
        llama: Any,
        logits_all: bool,
        messages: list[dict[str, str]],
        protected: dict[str, str],
    ) -> int:
        """Leave every prompt token but the last in the KV cache; return how many were evaluated.

        The prompt is evaluated in the pieces :func:`_piece_ends` cuts, keeping the leading
        pieces the cache already holds from the previous request (same cut, same tokens).
        llama-cpp-python then finds the cached prefix and evaluates the last token alone,
        for the first sample as for every later one.
        """
        # Forget the cached pieces until the new ones are in place: if anything below
        # fails, the next request starts clean.
        cached = self._pieces.pop(logits_all, None)
        tokens = _captured_prompt_tokens(llama, messages, protected)
        if tokens is None or len(tokens) < 2 or len(tokens) >= llama.n_ctx():
            # A handler that does not tokenize its prompt the usual way, or a prompt that
            # llama-cpp-python will reject as too long: start clean and let it generate.
            llama.reset()
            return 0
        prefix = tokens[:-1]
        ends = _piece_ends(llama, prefix, min(PIECE_TOKENS, llama.n_batch))
        reused = 0
        if cached is not None and llama.n_tokens >= cached.ends[-1]:
            for end, cached_end in zip(ends, cached.ends, strict=False):
                if end != cached_end or prefix[reused:end] != cached.tokens[reused:end]:
                    break
                reused = end
        if reused == 0:
            llama.reset()
        llama.n_tokens = reused
        start = reused
        for end in ends:
            if end > start:
                llama.eval(prefix[start:end])
                start = end
        self._pieces[logits_all] = _PromptPieces(prefix, ends)
        self.prompt_tokens_evaluated += len(prefix) - reused
        return len(prefix) - reused

    def _load(self, *, logits_all: bool) -> Any:
        # Logprobs need llama.cpp to keep logits for every position, which costs memory and
        # time, so that variant is loaded only when a request asks for logprobs.
        if logits_all in self._models:
            return self._models[logits_all]
        try:
            from llama_cpp import Llama
        except ImportError:
            raise MissingDependencyError(
                "llama-cpp-python", "local", "The local llama.cpp provider"
            ) from None

        class _CountingLlama(Llama):  # type: ignore[misc, valid-type]
            """Records how many tokens each eval call processes (to see KV-cache reuse),
            and tokenizes protected message contents without special-token parsing."""

            _promptlab_eval_log: list[int] | None = None
            _promptlab_protected: dict[str, str] | None = None
            _promptlab_capture = False

            def eval(self, tokens: Any) -> None:
                if self._promptlab_eval_log is not None:
                    self._promptlab_eval_log.append(len(tokens))
                super().eval(tokens)

            def tokenize(
                self, text: bytes, add_bos: bool = True, special: bool = False
            ) -> list[int]:
                protected = self._promptlab_protected
                if not special or not protected:
                    tokens: list[int] = super().tokenize(text, add_bos, special)
                else:
                    tokens = _tokenize_protected(
                        super().tokenize, text.decode(), add_bos, protected
                    )
                if special and self._promptlab_capture:
                    # The chat handler tokenizes its formatted prompt: stop it there.
                    raise PromptCaptured(tokens)
                return tokens

        kwargs: dict[str, Any] = {
            "model_path": str(self.model_path),
            "n_ctx": self.n_ctx,
            "logits_all": logits_all,
            "verbose": False,
        }
        if self.n_threads is not None:
            kwargs["n_threads"] = self.n_threads
        if self.chat_format is not None:
            kwargs["chat_format"] = self.chat_format
        try:
            model = _CountingLlama(**kwargs)
        except (ValueError, RuntimeError) as exc:
            raise ConfigurationError(
                f"llama.cpp could not load {str(self.model_path)!r}: {exc}. Check that the "
                "file is a complete GGUF model."
            ) from exc
        self._models[logits_all] = model
        return model

    async def aclose(self) -> None:
        with self._lock:
            for model in self._models.values():
                model.close()
            self._models.clear()
            self._pieces.clear()


@dataclass(frozen=True)
class _PromptPieces:
    """The prompt prefix a model's KV cache holds, and where its evaluation pieces end."""

    tokens: list[int]
    ends: list[int]


def _piece_ends(llama: Any, tokens: Sequence[int], longest: int) -> list[int]:
    """Where the evaluation pieces of ``tokens`` end: after each end-of-turn token, after
    ``longest`` tokens without one, and at the end.

    A cut depends only on the tokens before it, so two prompts that share a prefix share
    its cuts too. The one exception: a last piece shorter than :data:`_SHORT_TAIL` tokens
    (typically the assistant turn's opening) joins the piece before it, which saves a
    llama.cpp call per request. Reuse stays exact whatever the cuts: only pieces with the
    same ends and tokens are ever reused.
    """
    from llama_cpp import llama_vocab_is_eog

    vocab = llama._model.vocab
    ends: list[int] = []
    start = 0
    for position, token in enumerate(tokens, start=1):
        if position - start == longest or llama_vocab_is_eog(vocab, token):
            ends.append(position)
            start = position
    if start < len(tokens):
        previous = ends[-2] if len(ends) > 1 else 0
        if ends and len(tokens) - start < _SHORT_TAIL and len(tokens) - previous <= longest:
            ends.pop()
        ends.append(len(tokens))
    return ends


def _captured_prompt_tokens(
    llama: Any, messages: list[dict[str, str]], protected: dict[str, str]
) -> list[int] | None:
    """The tokens of ``messages`` formatted by the chat handler, as generation would see them.

    Runs llama-cpp-python's own chat handler and stops it when it tokenizes the formatted
    prompt; None if it never does (the handler then generated one token instead).
    """
    llama._promptlab_protected = protected
    llama._promptlab_capture = True
    try:
        llama.create_chat_completion(messages=messages, max_tokens=1)
    except PromptCaptured as captured:
        return captured.tokens
    finally:
        llama._promptlab_capture = False
        llama._promptlab_protected = None
    return None


def _llama_cpp_version() -> str | None:
    try:
        return metadata.version("llama_cpp_python")
    except metadata.PackageNotFoundError:
        return None


def _protect_contents(
    llama: Any, messages: list[dict[str, str]]
) -> tuple[list[dict[str, str]], dict[str, str]]:
    """Swap each content that holds special-token text for a random placeholder.

    Returns the messages to format and ``{placeholder: content}``. A content is swapped
    only when special parsing changes its tokens, so ordinary prompts are formatted and
    tokenized exactly as llama.cpp does it.
    """
    protected: dict[str, str] = {}
    safe = []
    for message in messages:
        content = message["content"]
        raw = content.encode()
        if content and llama.tokenize(raw, add_bos=False, special=True) != llama.tokenize(
            raw, add_bos=False, special=False
        ):
            # Private-use characters and a random part: no input can spell a placeholder.
            placeholder = f"\ue0f0{secrets.token_hex(8)}\ue0f1"
            protected[placeholder] = content
            message = {**message, "content": placeholder}
        safe.append(message)
    return safe, protected


def _tokenize_protected(
    tokenize: Callable[[bytes, bool, bool], Any],
    prompt: str,
    add_bos: bool,
    protected: dict[str, str],
) -> list[int]:
    """Tokenize ``prompt``: the template's text with special tokens, each placeholder as
    its content without them."""
    pieces: list[tuple[str, bool]] = []
    position = 0
    for match in re.finditer("|".join(map(re.escape, protected)), prompt):
        pieces += [(prompt[position : match.start()], True), (protected[match.group()], False)]
        position = match.end()
    pieces.append((prompt[position:], True))
    tokens: list[int] = []
    bos = add_bos
    for text, special in pieces:
        if text:
            # Only the first piece may start with BOS. (With a SentencePiece vocabulary a
            # later piece may gain a leading space; only contents holding control-token
            # text take this path, so ordinary prompts are unaffected.)
            tokens += tokenize(text.encode(), bos, special)
            bos = False
    return tokens


def _choice(raw: dict[str, Any], index: int, top_k: int | None) -> Choice:
    # llama-cpp-python adds the chosen token to each position's alternatives; keep the
    # ``top_k`` likeliest only, and none when alternatives were not asked for.
    logprobs = None
    content = (raw.get("logprobs") or {}).get("content")
    if content is not None:
        logprobs = tuple(
            TokenLogprob(
                item["token"],
                float(item["logprob"]),
                tuple(
                    sorted(
                        ((top["token"], float(top["logprob"])) for top in item["top_logprobs"]),
                        key=lambda pair: -pair[1],
                    )[: top_k or 0]
                ),
            )
            for item in content
        )
    text = raw["message"].get("content") or ""
    return Choice(text, raw.get("finish_reason"), logprobs, index)
