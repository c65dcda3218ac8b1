"""JSON bodies the stub server sends: OpenAI chat completions, Anthropic messages, errors.

Everything here is pure: a parsed request body goes in, a JSON-ready ``dict`` comes out,
so the wire formats can be read and checked apart from the server's plumbing in
:mod:`promptlab.testing.stub_server`.

Tokens are whitespace-separated words. That is not what a real tokenizer does, but it
is deterministic and easy to reason about in a test: ``max_tokens=3`` keeps three words.
"""

from __future__ import annotations

import re
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from promptlab._checks import is_int
from promptlab.errors import PromptlabError

ReplyFn = Callable[[list[dict[str, Any]], dict[str, Any]], str]
"""``reply(messages, params) -> text``. ``params`` is the request body without
``messages``/``system``, plus ``"choice_index"`` (0..n-1) so choices can differ."""

DEFAULT_MODELS: tuple[str, ...] = ("stub-model",)

# Model names that always answer with a fixed, non-retryable error (see ``error_body``).
ERROR_MODELS: tuple[str, ...] = ("auth-error", "bad-request", "not-found", "context-exceeded")

_WORD = re.compile(r"\S+")
# A piece is a word with the whitespace before it, so the pieces join back into the text.
_PIECE = re.compile(r"\s*\S+")


class StubRequestError(PromptlabError):
    """A request the stub refuses; the server turns it into the vendor's error JSON.

    Args:
        kind: A key of the error tables: ``"invalid"``, an ``ERROR_MODELS`` name, or a
            fault (``"429"``, ``"500"``, ``"503"``).
        detail: Text for ``"invalid"`` errors: what was wrong and what was allowed.
        param: The offending request field, reported in OpenAI's ``param``.
    """

    def __init__(self, kind: str, detail: str = "", param: str | None = None) -> None:
        super().__init__(detail or kind)
        self.kind = kind
        self.detail = detail
        self.param = param


def count_tokens(text: str) -> int:
    """Counts whitespace-separated words, the stub's notion of a token."""
    return len(_WORD.findall(text))


def content_text(content: Any) -> str:
    """Returns the text of a message ``content``: a string, or a list of typed blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        parts = [b.get("text", "") for b in content if isinstance(b, Mapping)]
        return " ".join(p for p in parts if isinstance(p, str))
    return ""


def default_reply(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    """Echoes the last user message, then a fixed answer line.

    Example:
        >>> default_reply([{"role": "user", "content": "What is 6*7?"}], {})
        'Echo: What is 6*7?\\nThe answer is 42.'
    """
    user_turns = [m for m in messages if m.get("role") == "user"]
    last = content_text(user_turns[-1].get("content")) if user_turns else ""
    return f"Echo: {last}\nThe answer is 42."


@dataclass(frozen=True)
class ShapedReply:
    """A reply after ``stop`` and ``max_tokens`` were applied."""

    text: str
    tokens: int
    finish: Literal["stop", "length"]
    stop_sequence: str | None


def shape_reply(text: str, stop: Sequence[str], max_tokens: int | None) -> ShapedReply:
    """Cuts ``text`` at the earliest stop string, then to ``max_tokens`` words."""
    cut, hit = len(text), None
    for candidate in stop:
        at = text.find(candidate)
        if candidate and 0 <= at < cut:
            cut, hit = at, candidate
    text = text[:cut]
    words = list(_WORD.finditer(text))
    if max_tokens is not None and len(words) > max_tokens:
        end = words[max_tokens - 1].end() if max_tokens > 0 else 0
        return ShapedReply(text[:end], max_tokens, "length", None)
    return ShapedReply(text, len(words), "stop", hit)


def _logprob(piece: str) -> float:
    # A stable pseudo-logprob in (-2, 0], so repeated runs compare equal.
    return -(zlib.crc32(piece.encode()) % 2000) / 1000.0


def _token_entry(piece: str, logprob: float) -> dict[str, Any]:
    return {"token": piece, "logprob": logprob, "bytes": list(piece.encode())}


def openai_logprobs(text: str, top: int) -> dict[str, Any]:
    """Per-piece logprobs in the shape of ``choices[i].logprobs``, with ``top`` alternatives."""
    content = []
    for match in _PIECE.finditer(text):
        piece = match.group()
        lp = _logprob(piece)
        alternatives = [_token_entry(piece, lp)]
        alternatives += [_token_entry(f"{piece}~{k}", lp - 0.5 * k) for k in range(1, top)]
        content.append({**_token_entry(piece, lp), "top_logprobs": alternatives[:top]})
    return {"content": content, "refusal": None}


def _int_field(body: Mapping[str, Any], name: str, low: int, high: int, default: int) -> int:
    value = body.get(name)
    if value is None:
        return default
    if not is_int(value) or not low <= value <= high:
        raise StubRequestError(
            "invalid", f"{name}={value!r} is invalid; use an integer in [{low}, {high}].", name
        )
    return value


def stop_list(value: Any, field: str) -> list[str]:
    """Normalises ``stop``/``stop_sequences`` (absent, one string, or a list of strings)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(s, str) for s in value):
        return value
    raise StubRequestError("invalid", f"{field}={value!r} must be a string or list.", field)


def messages_field(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Returns ``body["messages"]`` after checking it is a non-empty list of objects."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise StubRequestError(
            "invalid", "messages must be a non-empty list of {role, content}.", "messages"
        )
    if not all(isinstance(m, dict) for m in messages):
        raise StubRequestError("invalid", "each message must be an object.", "messages")
    return messages


def _reply_params(body: Mapping[str, Any], index: int) -> dict[str, Any]:
    params = {k: v for k, v in body.items() if k not in ("messages", "system")}
    params["choice_index"] = index
    return params


def openai_completion(
    body: Mapping[str, Any], reply: ReplyFn, request_id: str, cached_tokens: int
) -> dict[str, Any]:
    """Builds a ``chat.completion`` object answering ``body``; raises StubRequestError."""
    messages = messages_field(body)
    n = _int_field(body, "n", 1, 128, 1)
    limit_field = "max_completion_tokens" if "max_completion_tokens" in body else "max_tokens"
    max_tokens = None
    if body.get(limit_field) is not None:
        max_tokens = _int_field(body, limit_field, 1, 10**9, 1)
    top = _int_field(body, "top_logprobs", 0, 20, 0)
    stop = stop_list(body.get("stop"), "stop")
    choices, completion_tokens = [], 0
    for index in range(n):
        shaped = shape_reply(reply(messages, _reply_params(body, index)), stop, max_tokens)
        completion_tokens += shaped.tokens
        choices.append(
            {
                "index": index,
                "message": {"role": "assistant", "content": shaped.text, "refusal": None},
                "logprobs": openai_logprobs(shaped.text, top) if body.get("logprobs") else None,
                "finish_reason": shaped.finish,
            }
        )
    prompt_tokens = sum(count_tokens(content_text(m.get("content"))) for m in messages)
    return {
        "id": f"chatcmpl-{request_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", DEFAULT_MODELS[0]),
        "system_fingerprint": "fp_promptlab_stub",
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        },
    }


def anthropic_message(body: Mapping[str, Any], reply: ReplyFn, request_id: str) -> dict[str, Any]:
    """Builds a Messages API ``message`` object answering ``body``; raises StubRequestError."""
    messages = messages_field(body)
    if body.get("max_tokens") is None:
        raise StubRequestError("invalid", "max_tokens: Field required", "max_tokens")
    max_tokens = _int_field(body, "max_tokens", 1, 10**9, 1)
    stop = stop_list(body.get("stop_sequences"), "stop_sequences")
    shaped = shape_reply(reply(messages, _reply_params(body, 0)), stop, max_tokens)
    if shaped.finish == "length":
        stop_reason = "max_tokens"
    else:
        stop_reason = "stop_sequence" if shaped.stop_sequence else "end_turn"
    texts = [content_text(body.get("system"))] + [content_text(m.get("content")) for m in messages]
    return {
        "id": f"msg_{request_id}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", DEFAULT_MODELS[0]),
        "content": [{"type": "text", "text": shaped.text}],
        "stop_reason": stop_reason,
        "stop_sequence": shaped.stop_sequence,
        "usage": {
            "input_tokens": sum(count_tokens(t) for t in texts),
            "output_tokens": shaped.tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }


# kind -> (status, OpenAI error type, OpenAI code, message). {model}, {detail} are filled in.
_OPENAI_ERRORS: dict[str, tuple[int, str, str | None, str]] = {
    "invalid": (400, "invalid_request_error", None, "{detail}"),
    "auth-error": (
        401,
        "invalid_request_error",
        "invalid_api_key",
        "Incorrect API key provided. You can find your API key in your account settings.",
    ),
    "bad-request": (400, "invalid_request_error", None, "Invalid request for model '{model}'."),
    "not-found": (
        404,
        "invalid_request_error",
        "model_not_found",
        "The model `{model}` does not exist or you do not have access to it.",
    ),
    "context-exceeded": (
        400,
        "invalid_request_error",
        "context_length_exceeded",
        "This model's maximum context length is {window} tokens. However, your messages "
        "resulted in {tokens} tokens. Please reduce the length of the messages.",
    ),
    "429": (429, "requests", "rate_limit_exceeded", "Rate limit reached for requests."),
    "500": (500, "server_error", None, "The server had an error while processing your request."),
    "503": (503, "server_error", None, "The engine is currently overloaded, please try again."),
}

# kind -> (status, Anthropic error type, message).
_ANTHROPIC_ERRORS: dict[str, tuple[int, str, str]] = {
    "invalid": (400, "invalid_request_error", "{detail}"),
    "auth-error": (401, "authentication_error", "invalid x-api-key"),
    "bad-request": (400, "invalid_request_error", "Invalid request for model '{model}'."),
    "not-found": (404, "not_found_error", "model: {model}"),
    "context-exceeded": (
        400,
        "invalid_request_error",
        "prompt is too long: {tokens} tokens > {window} maximum",
    ),
    "429": (429, "rate_limit_error", "Number of requests has exceeded your rate limit."),
    "500": (500, "api_error", "Internal server error"),
    "503": (503, "overloaded_error", "Overloaded"),
}


def error_body(
    vendor: Literal["openai", "anthropic"],
    error: StubRequestError,
    *,
    model: str,
    request_id: str,
    window: int = 0,
    tokens: int = 0,
) -> tuple[int, dict[str, Any]]:
    """Returns ``(status, body)`` for ``error`` in the vendor's documented error shape."""
    fill = {"model": model, "detail": error.detail, "window": window, "tokens": tokens}
    if vendor == "openai":
        status, kind, code, message = _OPENAI_ERRORS[error.kind]
        param = error.param or ("messages" if error.kind == "context-exceeded" else None)
        inner = {"message": message.format(**fill), "type": kind, "param": param, "code": code}
        return status, {"error": inner}
    status, kind, message = _ANTHROPIC_ERRORS[error.kind]
    return status, {
        "type": "error",
        "error": {"type": kind, "message": message.format(**fill)},
        "request_id": f"req_{request_id}",
    }


def models_list(models: Sequence[str], anthropic: bool) -> dict[str, Any]:
    """The ``GET /v1/models`` body, in Anthropic's shape when the client is Anthropic's."""
    if anthropic:
        data = [
            {"type": "model", "id": m, "display_name": m, "created_at": "2025-01-01T00:00:00Z"}
            for m in models
        ]
        first, last = (models[0], models[-1]) if models else (None, None)
        return {"data": data, "has_more": False, "first_id": first, "last_id": last}
    listed = [{"id": m, "object": "model", "created": 0, "owned_by": "promptlab"} for m in models]
    return {"object": "list", "data": listed}
