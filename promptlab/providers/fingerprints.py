"""Plain, secret-free JSON data describing a provider's settings, for its fingerprint.

A provider's :meth:`~promptlab.providers.base.Provider.fingerprint` keys the response
cache and is written to run directories, so it must be stable across processes (no
object ids or memory addresses) and must never hold a secret. The helpers here turn
settings into such data:

- :func:`public_data` walks dicts, lists and pydantic models and drops every secret: a
  ``SecretStr``/``SecretBytes`` value, and any field whose name looks secret (a part
  such as ``key``, ``secret``, ``password``, ``token``, ``auth``, ``header``, ``cookie``,
  ``credential``; ``max_tokens`` is not secret). URLs lose their user name, password and
  secret-looking query parameters. A value that is not plain data becomes its type name.
- :func:`file_identity` names a model file by its name, size and a sampled content hash,
  so a file replaced in place (or another file with the same name) is a different model,
  while the same file reinstalled elsewhere is the same one.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import re
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, SecretBytes, SecretStr

#: Name parts that mark a field as secret (the name is split on ``_``, ``-`` and case).
SECRET_PARTS = frozenset(
    {
        "key",
        "apikey",
        "secret",
        "password",
        "passwd",
        "pwd",
        "token",
        "auth",
        "authorization",
        "bearer",
        "header",
        "headers",
        "cookie",
        "cookies",
        "credential",
        "credentials",
        "signature",
        "proxy",
        "proxies",
    }
)

_NAME_PARTS = re.compile(r"[a-z0-9]+")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    """True for a field name that may hold a secret (``api_key``, ``default_headers``...)."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
    return any(part in SECRET_PARTS for part in _NAME_PARTS.findall(snake))


def safe_url(url: str) -> str:
    """``url`` without a user name or password and without secret-looking query values."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address goes back in brackets
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port is not None else host
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_secret_name(k)]
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def public_data(value: Any) -> Any:
    """``value`` as plain JSON data with every secret left out (see the module docstring)."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return safe_url(value) if _URL.match(value) else value
    if isinstance(value, (SecretStr, SecretBytes)):
        return "<secret>"
    if isinstance(value, enum.Enum):
        return public_data(value.value)
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, BaseModel):
        return public_fields({name: getattr(value, name) for name in type(value).model_fields})
    if isinstance(value, Mapping):
        return public_fields(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [public_data(item) for item in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    # An object (a client, a callable...): its type, never its repr, which may hold an
    # address that changes every run, or a secret.
    kind = value if isinstance(value, type) else type(value)
    return f"<{kind.__module__}.{kind.__qualname__}>"


def public_fields(fields: Mapping[Any, Any]) -> dict[str, Any]:
    """A mapping as plain data, without secret values or secret-looking names."""
    return {
        str(name): public_data(value)
        for name, value in fields.items()
        if not is_secret_name(str(name)) and not isinstance(value, (SecretStr, SecretBytes))
    }


def file_identity(path: Path) -> dict[str, Any]:
    """A model file's name, size and sampled content hash.

    The hash is SHA-256 over the size and :data:`SAMPLED_BLOCKS` blocks of 64 KiB spread
    evenly from the first byte to the last (the GGUF header with the model's metadata is
    always among them). It reads about 1 MiB whatever the file's size, so it is cheap for
    a many-GB model, and unlike a path or a modification time it stays the same when the
    same file is reinstalled or moved, while a different model with the same file name
    gets a different hash. It is memoised per (path, size, mtime).
    """
    resolved = path.resolve()
    stat = resolved.stat()
    return {
        "name": resolved.name,
        "size": stat.st_size,
        "sampled_sha256": _sampled_hash(str(resolved), stat.st_size, stat.st_mtime_ns),
    }


#: How many 64 KiB blocks of a model file go into its sampled content hash.
SAMPLED_BLOCKS = 16
_BLOCK = 64 * 1024


@functools.lru_cache(maxsize=64)
def _sampled_hash(path: str, size: int, mtime_ns: int) -> str:
    # mtime_ns is part of the memo key only: a file rewritten in place is hashed again.
    digest = hashlib.sha256(str(size).encode())
    last = max(size - _BLOCK, 0)
    offsets = sorted({last * i // (SAMPLED_BLOCKS - 1) for i in range(SAMPLED_BLOCKS)})
    with open(path, "rb") as handle:
        for offset in offsets:
            handle.seek(offset)
            digest.update(handle.read(_BLOCK))
    return digest.hexdigest()
