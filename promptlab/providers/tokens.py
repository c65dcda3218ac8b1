"""Counting the tokens of chat messages before they are sent.

Used where no provider has answered yet: the dry run's cost estimate, rate limiting, and
the token counts of exported fine-tuning data. ``tiktoken`` counts exactly for OpenAI's
models when it is installed and its encoding file can be loaded (it downloads the file on
first use, so offline it cannot); otherwise a documented estimate of one token per
:data:`CHARS_PER_TOKEN` characters stands in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

__all__ = [
    "CHARS_PER_TOKEN",
    "DEFAULT_ENCODING",
    "chat_tokens",
    "estimated_tokens",
    "load_encoding",
    "tiktoken_module",
]

#: Characters per token of the estimate (English text with OpenAI's tokenizers is near 4).
CHARS_PER_TOKEN = 4
#: The encoding of OpenAI's current models, also used for models tiktoken does not know.
DEFAULT_ENCODING = "o200k_base"

# (tiktoken module, encoding name, model) -> the encoding, or the exception that stopped it
# loading: offline, each failed attempt to fetch an encoding file takes about half a second.
_ENCODINGS: dict[tuple[int, str | None, str | None], Any] = {}


def estimated_tokens(text: str) -> int:
    """The estimate: ``ceil(len(text) / CHARS_PER_TOKEN)``."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def chat_tokens(messages: Iterable[tuple[str, str]], count: Callable[[str], int]) -> int:
    """Tokens of a chat as OpenAI's cookbook counts them: per message 3 plus its role and
    content, and 3 more that prime the reply.

    Args:
        messages: ``(role, content)`` pairs.
        count: Tokens of one text, e.g. ``lambda t: len(encoding.encode(t))``.
    """
    return 3 + sum(3 + count(role) + count(content) for role, content in messages)


def tiktoken_module() -> Any:
    """The ``tiktoken`` module, or None when it is not installed."""
    try:
        import tiktoken
    except ImportError:
        return None
    return tiktoken


def load_encoding(tiktoken: Any, name: str | None = None, *, model: str | None = None) -> Any:
    """The encoding called ``name`` (or the one for ``model``), once per process.

    A model tiktoken does not know gets :data:`DEFAULT_ENCODING`. Returns the exception
    instead when the encoding cannot be loaded (an unknown name, or no network to fetch its
    file), so callers choose between an error and the estimate.
    """
    key = (id(tiktoken), name, model)
    if key not in _ENCODINGS:
        try:
            if model is not None:
                try:
                    encoding = tiktoken.encoding_for_model(model)
                except KeyError:
                    encoding = tiktoken.get_encoding(DEFAULT_ENCODING)
            else:
                encoding = tiktoken.get_encoding(name or DEFAULT_ENCODING)
        except Exception as exc:  # tiktoken raises several kinds; all mean "cannot load"
            encoding = exc
        _ENCODINGS[key] = encoding
    return _ENCODINGS[key]
