"""Teacher-forced token log-probabilities from a llama.cpp model's logits.

Used by :meth:`LlamaCppProvider.prompt_logprobs
<promptlab.providers.llama_cpp.LlamaCppProvider.prompt_logprobs>`. The model reads a
sequence of token ids (``logits_all`` keeps the logits of every position); the row of
position ``i - 1`` is the distribution of token ``i``, and its log-softmax (in float64)
at token ``i`` is that token's log-probability.

**The first token.** A token needs something before it to be predicted. The text to
score is therefore preceded by:

* the context's tokens, when there is a context: a string is tokenized as plain text
  (with the model's BOS token first when the model adds one), chat messages become the
  exact prompt tokens the chat completion would send (the model's chat template, with
  the generation prompt);
* otherwise the model's BOS token, or its end-of-text token when it has no BOS, as
  language-model evaluation harnesses do (SmolLM2's BOS is ``<|im_start|>``, Gemma's is
  ``<bos>``). So every token of the text is scored, the first one included.

The continuation is tokenized on its own, without special tokens: text that spells a
control token (``<|im_end|>``) is scored as the plain text it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from promptlab.errors import ConfigurationError, ContextWindowExceededError
from promptlab.likelihood import PromptLogprobs, rolling_windows, split_trailing_space
from promptlab.messages import Message

#: Rows of logits turned into log-probabilities at once (bounds the float64 copy).
_ROWS_PER_CHUNK = 32


class PromptCaptured(Exception):
    """Raised from inside the chat handler once the prompt's tokens are known."""

    def __init__(self, tokens: list[int]) -> None:
        super().__init__("prompt tokens captured")
        self.tokens = tokens


def first_token_prefix(llama: Any) -> list[int]:
    """The token a text with no context is predicted from: BOS, else end-of-text."""
    for token in (llama.token_bos(), llama.token_eos()):
        if token is not None and token >= 0:
            return [int(token)]
    raise ConfigurationError(
        "This model has neither a BOS nor an end-of-text token, so the first token of a text "
        "without context cannot be scored. Give a (context, text) pair instead."
    )


def context_tokens(llama: Any, context: str | Sequence[Message], chat_prompt: Any) -> list[int]:
    """The tokens the scored text is predicted after (see the module docstring).

    Args:
        llama: The loaded model.
        context: ``""``, a string, or chat messages.
        chat_prompt: ``chat_prompt(messages) -> list[int]``, the provider's chat formatting.
    """
    if not isinstance(context, str):
        return list(chat_prompt(context))
    if not context:
        return first_token_prefix(llama)
    add_bos = bool(llama._model.add_bos_token())
    tokens = list(llama.tokenize(context.encode("utf-8"), add_bos=add_bos, special=False))
    return tokens or first_token_prefix(llama)


def score_continuation(
    llama: Any,
    context: str | Sequence[Message],
    continuation: str,
    chat_prompt: Any,
    *,
    n_ctx: int,
    rolling: bool,
    context_size: int | None,
    stride: int | None,
    provider: str,
) -> PromptLogprobs:
    """Score ``continuation`` after ``context`` (the caller holds the model's lock)."""
    if isinstance(context, str) and context:
        context, continuation = split_trailing_space(context, continuation)
    prefix = context_tokens(llama, context, chat_prompt)
    scored = list(llama.tokenize(continuation.encode("utf-8"), add_bos=False, special=False))
    tokens = prefix + scored
    size = context_size if context_size is not None else n_ctx
    if size > n_ctx:
        raise ConfigurationError(
            f"context_size={size} is larger than the model's context window n_ctx={n_ctx}: "
            "use at most n_ctx, or build the provider with a larger n_ctx."
        )
    if not rolling and len(tokens) > n_ctx:
        raise ContextWindowExceededError(
            f"the text to score is {len(tokens)} tokens with its context, more than the "
            f"context window of {n_ctx}. Pass rolling=True to score it in overlapping "
            "windows, or build the provider with a larger n_ctx.",
            provider=provider,
        )
    if rolling:
        windows = list(rolling_windows(len(tokens), len(prefix), size, stride or size // 2))
    else:
        windows = [(0, len(prefix), len(tokens))]
    logprobs: list[float] = []
    for begin, start, end in windows:
        logprobs += window_logprobs(llama, tokens[begin:end], start - begin)
    pieces = tuple(
        llama.detokenize([t], special=True).decode("utf-8", errors="replace") for t in scored
    )
    return PromptLogprobs(continuation, pieces, tuple(logprobs))


def window_logprobs(llama: Any, tokens: list[int], first: int) -> list[float]:
    """Log-probabilities of ``tokens[first:]``, each given the tokens before it.

    The model's KV cache is cleared first, so a window never sees an earlier one.
    """
    import numpy as np

    llama.reset()
    llama.eval(tokens)
    targets = np.asarray(tokens[first:], dtype=np.intp)
    result: list[float] = []
    # Row r of the logits predicts token r + 1; rows are copied a chunk at a time because
    # a full window of float64 logits over a 256k vocabulary would take gigabytes.
    for offset in range(0, len(targets), _ROWS_PER_CHUNK):
        chunk = targets[offset : offset + _ROWS_PER_CHUNK]
        row = first - 1 + offset
        logits = np.asarray(llama.scores[row : row + len(chunk)], dtype=np.float64)
        peak = logits.max(axis=1, keepdims=True)
        log_norm = peak[:, 0] + np.log(np.exp(logits - peak).sum(axis=1))
        result += (logits[np.arange(len(chunk)), chunk] - log_norm).tolist()
    return result
