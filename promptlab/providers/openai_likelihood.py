"""Prompt log-probabilities from an OpenAI-compatible ``/v1/completions`` endpoint.

The legacy completions API scores its own prompt when asked to echo it with logprobs::

    POST /v1/completions
    {"model": ..., "prompt": context + text, "echo": true, "logprobs": 1, "max_tokens": 1}

``choices[0].logprobs`` then holds every prompt token (``tokens``), its log-probability
given the tokens before it (``token_logprobs``; ``null`` for the very first token, which
has nothing before it) and where it starts in the text (``text_offset``), followed by the
one generated token, which is dropped. vLLM answers this request from its prompt-logprob
machinery; one generated token is asked for because some servers refuse ``max_tokens: 0``.
The tokens of the continuation are those starting at or after the end of the context.

When the echo answer holds no prompt logprobs, a second request asks for vLLM's own
field, ``prompt_logprobs: 0`` (in the request body): each ``choices[0].prompt_logprobs``
entry is ``null`` for the first position and otherwise ``{token_id: {"logprob", "rank",
"decoded_token"}}`` for the prompt token; offsets are rebuilt from the decoded tokens.
Only when neither answer has them does the call fail.

Servers differ:

* **vLLM** supports both forms.
* **llama.cpp's llama-server** cannot score a given text. The build promptlab tests
  against ignores ``echo`` on ``/v1/completions`` and returns logprobs of the generated
  tokens only; its native ``/completion`` endpoint (``n_probs``) likewise covers generated
  tokens only; and its binary carries the error ``"Only no echo is supported"`` for
  requests it refuses outright. Either way the request raises
  :class:`~promptlab.errors.UnsupportedParameterError`: load the same GGUF file in
  :class:`~promptlab.providers.llama_cpp.LlamaCppProvider` instead.
* **OpenAI's own API** serves chat models, which return no prompt log-probabilities;
  :class:`~promptlab.providers.openai.OpenAIProvider` raises before sending.
"""

from __future__ import annotations

from typing import Any

from promptlab.errors import ConfigurationError, ResponseFormatError
from promptlab.likelihood import PromptLogprobs


def echo_body(model: str, prompt: str) -> dict[str, Any]:
    """The ``completions.create`` keyword arguments that score ``prompt``."""
    return {"model": model, "prompt": prompt, "echo": True, "logprobs": 1, "max_tokens": 1}


def prompt_logprobs_body(model: str, prompt: str) -> dict[str, Any]:
    """The keyword arguments that ask vLLM for ``prompt_logprobs`` (the fallback request)."""
    return {
        "model": model,
        "prompt": prompt,
        "max_tokens": 1,
        "extra_body": {"prompt_logprobs": 0},
    }


#: ``(offset, token, logprob)`` for each prompt token.
Pieces = list[tuple[int, str, float | None]]


def echoed_pieces(choice: Any, prompt: str, provider: str) -> Pieces | None:
    """The prompt's tokens from a legacy echo response, or None when it has none.

    A server that ignored ``echo`` returns logprobs of the generated text only; its text
    does not start with the prompt, and that answer is treated as having none. Offsets
    are rebuilt from the tokens themselves when they spell the returned text, after any
    leading tokens that are not part of it (a BOS token the server added and decoded as
    ``<s>``, which would shift the server's ``text_offset``); otherwise the server's
    ``text_offset`` values are used.
    """
    text = getattr(choice, "text", None)
    if not isinstance(text, str) or not text.startswith(prompt):
        return None
    logprobs = getattr(choice, "logprobs", None)
    tokens = getattr(logprobs, "tokens", None)
    values = getattr(logprobs, "token_logprobs", None)
    offsets = getattr(logprobs, "text_offset", None)
    if not tokens or values is None or offsets is None:
        return None
    if not len(tokens) == len(values) == len(offsets):
        raise ResponseFormatError(
            f"the server's logprobs have {len(tokens)} tokens, {len(values)} token_logprobs and "
            f"{len(offsets)} text_offset entries; they must match.",
            provider=provider,
        )
    entries = [
        (token, None if value is None else float(value))
        for token, value in zip(tokens, values, strict=True)
    ]
    rebuilt = _spelled(entries, text)
    if rebuilt is None:
        rebuilt = [(start, t, v) for start, (t, v) in zip(offsets, entries, strict=True)]
    return [piece for piece in rebuilt if piece[0] < len(prompt)]  # then the generated ones


def _spelled(entries: list[tuple[str, float | None]], text: str) -> Pieces | None:
    """Offsets from the tokens' own lengths, when the tokens (after leading ones outside
    ``text``) spell ``text``; else None."""
    joined = "".join(token for token, _ in entries)
    if not joined.endswith(text):
        return None
    skip, prefix = 0, len(joined) - len(text)
    while prefix > 0 and skip < len(entries):
        prefix -= len(entries[skip][0])
        skip += 1
    if prefix != 0:
        return None
    pieces: Pieces = []
    offset = 0
    for token, value in entries[skip:]:
        pieces.append((offset, token, value))
        offset += len(token)
    return pieces


def vllm_pieces(choice: Any, prompt: str, provider: str) -> Pieces | None:
    """The prompt's tokens from vLLM's ``prompt_logprobs``, or None when it has none.

    Each entry is ``null`` (the first position, which has nothing before it) or
    ``{token_id: {"logprob", "rank", "decoded_token"}}`` holding the prompt token (asked
    with ``prompt_logprobs: 0``, nothing else). Offsets come from the decoded tokens, and
    the first token's text is what the others leave of the prompt: nothing when it was a
    BOS token the server added.
    """
    entries = getattr(choice, "prompt_logprobs", None)
    if not isinstance(entries, list) or not entries:
        return None
    parsed: list[tuple[str, float | None]] = []
    for entry in entries[1:]:
        if not isinstance(entry, dict) or len(entry) != 1:
            raise ResponseFormatError(
                f"a prompt_logprobs entry is {entry!r}; with prompt_logprobs=0 each entry after "
                "the first must hold exactly the prompt token.",
                provider=provider,
            )
        (detail,) = entry.values()
        try:
            parsed.append((str(detail["decoded_token"]), float(detail["logprob"])))
        except (KeyError, TypeError, ValueError) as exc:
            raise ResponseFormatError(
                f"a prompt_logprobs entry {entry!r} has no decoded_token and logprob ({exc}).",
                provider=provider,
            ) from exc
    rest = "".join(token for token, _ in parsed)
    if not prompt.endswith(rest):
        raise ResponseFormatError(
            "the decoded prompt_logprobs tokens do not spell the prompt that was sent, so the "
            "text to score cannot be located among them.",
            provider=provider,
        )
    first = prompt[: len(prompt) - len(rest)]
    pieces: Pieces = [(0, first, None)] if first else []
    offset = len(first)
    for token, value in parsed:
        pieces.append((offset, token, value))
        offset += len(token)
    return pieces


def continuation_logprobs(
    pieces: Pieces, prompt: str, boundary: int, provider: str
) -> PromptLogprobs:
    """The continuation's tokens (those starting at ``boundary`` or later) and logprobs.

    Raises:
        ConfigurationError: A token spans the end of the context and the start of the
            continuation, so the continuation cannot be scored on its own.
        ResponseFormatError: No token reaches the continuation.
    """
    kept_tokens: list[str] = []
    kept_values: list[float | None] = []
    for index, (start, token, value) in enumerate(pieces):
        end = pieces[index + 1][0] if index + 1 < len(pieces) else start + len(token)
        if start < boundary < end:
            raise ConfigurationError(
                f"The server's tokenizer made one token ({token!r}) of the end of the context "
                "and the start of the text to score, so the text cannot be scored on its own. "
                "End the context at a word boundary (e.g. with a newline)."
            )
        if start >= boundary:
            kept_tokens.append(token)
            kept_values.append(value)
    if not kept_tokens:
        raise ResponseFormatError(
            "the server's prompt tokens do not reach the text to score; their offsets do not "
            "match the prompt that was sent.",
            provider=provider,
        )
    return PromptLogprobs(prompt[boundary:], tuple(kept_tokens), tuple(kept_values))
