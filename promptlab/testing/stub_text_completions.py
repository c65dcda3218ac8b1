"""The stub server's legacy ``POST /v1/completions`` body: a text prompt, optionally echoed.

It answers like OpenAI's legacy completions API (and vLLM): with ``echo: true`` the text
is the prompt followed by the reply, and with ``logprobs`` set, ``choices[0].logprobs``
lists every token of that text with ``token_logprobs`` (``null`` for the first token of
the prompt, which has nothing before it), ``top_logprobs`` and ``text_offset``. Tokens are
whitespace-led pieces (a word with the whitespace before it, and trailing whitespace as a
token of its own), so they join back into the text; each has the deterministic
log-probability :func:`stub_token_logprob`, so a test can compute the expected value
independently.

With ``prompt_logprobs`` set (vLLM's field), ``choices[0].prompt_logprobs`` lists the
prompt's tokens as vLLM does: ``null`` for the first, then ``{token_id: {"logprob", "rank",
"decoded_token"}}``.

Two models misbehave on purpose: ``echo-refused`` rejects ``echo: true`` with HTTP 400
(llama.cpp's llama-server carries that error, ``"Only no echo is supported"``) and
ignores ``prompt_logprobs``, so it cannot score a text at all; ``echo-ignored`` ignores
``echo`` (logprobs of the generated tokens only) but honours ``prompt_logprobs``. With
``bos-prefixed`` the echoed tokens start with a ``<s>`` token that is not in the text and
shifts ``text_offset``, as vLLM returns an added BOS token; the prompt's first word then
has a log-probability.
"""

from __future__ import annotations

import re
import time
import zlib
from collections.abc import Mapping
from typing import Any

from promptlab.testing.stub_payloads import (
    DEFAULT_MODELS,
    ReplyFn,
    StubRequestError,
    count_tokens,
    shape_reply,
    stop_list,
)

#: A model that refuses ``echo`` with HTTP 400 and ignores ``prompt_logprobs``.
ECHO_REFUSED_MODEL = "echo-refused"
#: A model that ignores ``echo`` (but honours ``prompt_logprobs``).
ECHO_IGNORED_MODEL = "echo-ignored"
#: A model whose echoed tokens start with a BOS token, decoded as ``<s>``.
BOS_MODEL = "bos-prefixed"
BOS_TEXT = "<s>"

_TOKEN = re.compile(r"\s*\S+|\s+")


def stub_tokens(text: str) -> list[tuple[int, str]]:
    """``(offset, token)`` for each token of ``text``; the tokens join back into ``text``."""
    return [(match.start(), match.group()) for match in _TOKEN.finditer(text)]


def stub_token_logprob(token: str) -> float:
    """The stub's log-probability of ``token``: a stable value in ``(-2, 0]``."""
    return -(zlib.crc32(token.encode()) % 2000) / 1000.0


def prompt_text(body: Mapping[str, Any]) -> str:
    """The request's prompt: a string, or a list holding one string."""
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1:
        prompt = prompt[0]
    if not isinstance(prompt, str):
        raise StubRequestError(
            "invalid", "prompt must be a string (or a list of one string).", "prompt"
        )
    return prompt


def text_completion(body: Mapping[str, Any], reply: ReplyFn, request_id: str) -> dict[str, Any]:
    """Builds a ``text_completion`` object answering ``body``; raises StubRequestError."""
    prompt = prompt_text(body)
    echo = bool(body.get("echo")) and body.get("model") != ECHO_IGNORED_MODEL
    if echo and body.get("model") == ECHO_REFUSED_MODEL:
        raise StubRequestError("invalid", "Only no echo is supported", "echo")
    max_tokens = body.get("max_tokens", 16)
    if not isinstance(max_tokens, int) or max_tokens < 0:
        raise StubRequestError("invalid", "max_tokens must be an integer >= 0.", "max_tokens")
    if max_tokens == 0:
        generated, finish, completion_tokens = "", "length", 0
    else:
        params = {k: v for k, v in body.items() if k != "prompt"} | {"choice_index": 0}
        shaped = shape_reply(
            reply([{"role": "user", "content": prompt}], params),
            stop_list(body.get("stop"), "stop"),
            max_tokens,
        )
        generated, finish, completion_tokens = shaped.text, shaped.finish, shaped.tokens
    text = prompt + generated if echo else generated
    logprobs = None
    if body.get("logprobs") is not None:
        # The prompt and the reply are tokenized apart, as a server does.
        pieces = stub_tokens(prompt) if echo else []
        if echo and body.get("model") == BOS_MODEL:
            # vLLM decodes an added BOS token and counts it in text_offset.
            pieces = [(0, BOS_TEXT)] + [(len(BOS_TEXT) + o, t) for o, t in pieces]
        start = pieces[-1][0] + len(pieces[-1][1]) if pieces else 0
        pieces += [(start + offset, token) for offset, token in stub_tokens(generated)]
        logprobs = _logprobs(pieces, prompt_first=echo)
    choice: dict[str, Any] = {"index": 0, "text": text, "logprobs": logprobs}
    choice["finish_reason"] = finish
    if body.get("prompt_logprobs") is not None and body.get("model") != ECHO_REFUSED_MODEL:
        choice["prompt_logprobs"] = vllm_prompt_logprobs(prompt)
    prompt_tokens = count_tokens(prompt)
    return {
        "id": f"cmpl-{request_id}",
        "object": "text_completion",
        "created": int(time.time()),
        "model": body.get("model", DEFAULT_MODELS[0]),
        "choices": [choice],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _logprobs(pieces: list[tuple[int, str]], *, prompt_first: bool) -> dict[str, Any]:
    tokens, values, tops, offsets = [], [], [], []
    for index, (offset, token) in enumerate(pieces):
        # The first token of an echoed prompt has no context, so no log-probability.
        value = None if prompt_first and index == 0 else stub_token_logprob(token)
        tokens.append(token)
        values.append(value)
        tops.append(None if value is None else {token: value})
        offsets.append(offset)
    return {
        "tokens": tokens,
        "token_logprobs": values,
        "top_logprobs": tops,
        "text_offset": offsets,
    }


def vllm_prompt_logprobs(prompt: str) -> list[dict[str, Any] | None]:
    """vLLM's ``prompt_logprobs`` for ``prompt``: the prompt token only at each position."""
    entries: list[dict[str, Any] | None] = []
    for index, (_, token) in enumerate(stub_tokens(prompt)):
        if index == 0:
            entries.append(None)
            continue
        token_id = str(zlib.crc32(token.encode()) % 50_000)
        detail = {"logprob": stub_token_logprob(token), "rank": 1, "decoded_token": token}
        entries.append({token_id: detail})
    return entries
