"""A sample-aware response cache, shared across runs, in one SQLite file.

The key of a cached response is a SHA-256 over:

* the provider's **fingerprint** (:meth:`~promptlab.providers.base.Provider.fingerprint`):
  its class, name and model, and every provider-level setting that changes what comes
  back: the endpoint (``base_url``), the model file of a local model (resolved path, size
  and modification time), the chat format and context size, the default ``max_tokens``
  (Anthropic's, llama.cpp's), the ``max_tokens`` field an OpenAI-style server is sent, a
  LangChain chat model's class and fields, a fake provider's script;
* the rendered messages;
* the ids and scores of the passages retrieved for the request, when a retrieval-augmented
  strategy sent it (so a changed index is a changed request, even if the prompt were not);
* every generation parameter that is sent, after the provider's own checks (temperature,
  n, seed, stop, max_tokens...; a parameter the provider drops is not in the key);
* the cell's sample index (its repeat number);
* how many identical requests the same cell made before this one.

Each part is there to stop a known failure. Leave out the fingerprint's settings and two
providers with the same model name share answers: two ``openai-compatible`` servers, two
GGUF files called ``model.gguf``, two LangChain models with different settings, an
Anthropic provider with another default ``max_tokens`` (before fingerprints, the second
provider of an experiment could be served the first one's replies without a single
call). Leave out the temperature and a greedy answer is served for a sampled request.
Leave out the sample index and every repeat of a cell gets the first repeat's answer.
Leave out the occurrence count and an adaptive self-consistency run, which sends the
same ``n=2`` request several times, would get the same two samples back for every batch.

The fingerprint never holds an API key, a header or a secret-looking field (see
:mod:`promptlab.providers.fingerprints`). What it cannot see is a server that swaps the
model it serves under the same name and URL (llama.cpp's ``llama-server`` ignores the
model name): name the model in the provider string (``llama-server:MODEL@URL``), or run
with ``refresh_cache=True`` / ``--refresh-cache`` after swapping. Entries written before
fingerprints existed simply stop matching; the file needs no migration.

Stored per response: the key, the provider's name and model, the request (fingerprint,
messages, parameters) and the completion. Never the provider object or an API key. A
cache hit returns the stored completion with ``calls=0``. Its usage, cost and latency are
those of the original call, so a run served from the cache reports what the responses
cost when they were made. The cell record's ``cached`` flag marks these cells.

The same file keeps embedding vectors (a second table), so a retriever's index costs
its embedding calls once: :meth:`ResponseCache.vector_key` keys a vector by the embedder's
fingerprint (class, model, endpoint without credentials, dimensions; never a key), whether
the text is a query or a passage, and the text itself.

The file is ``$PROMPTLAB_CACHE_DIR/responses.sqlite``, or
``~/.cache/promptlab/responses.sqlite`` when that variable is unset.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
from array import array
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from promptlab.completion import Choice, Completion, CompletionRequest, TokenLogprob, Usage
from promptlab.likelihood import PromptLogprobs, ScoredText
from promptlab.providers.base import Provider

CACHE_FILE = "responses.sqlite"
#: Keys per SQL query when reading vectors (SQLite's default variable limit is 999+).
_SQL_VARIABLES = 500
_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    request TEXT NOT NULL,
    completion TEXT NOT NULL,
    created TEXT NOT NULL
)
"""
# Embedding vectors, one row per (embedder fingerprint, kind, text): see
# :meth:`ResponseCache.vector_key`. Stored as little-endian float32 bytes.
_VECTOR_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    key TEXT PRIMARY KEY,
    embedder TEXT NOT NULL,
    vector BLOB NOT NULL,
    created TEXT NOT NULL
)
"""


def default_cache_path() -> Path:
    """``$PROMPTLAB_CACHE_DIR/responses.sqlite``, else ``~/.cache/promptlab/responses.sqlite``."""
    folder = os.environ.get("PROMPTLAB_CACHE_DIR")
    base = Path(folder).expanduser() if folder else Path.home() / ".cache" / "promptlab"
    return base / CACHE_FILE


class ResponseCache:
    """Completions on disk, keyed by everything that can change a response.

    Safe to share between runs and processes: SQLite in WAL mode, with a busy timeout.

    Args:
        path: The SQLite file, or a folder to put ``responses.sqlite`` in;
            :func:`default_cache_path` when None.

    Example:
        >>> cache = ResponseCache(tmp_path)
        >>> cached = CachedProvider(FakeProvider(), cache, sample_index=0)
    """

    def __init__(self, path: str | Path | None = None) -> None:
        target = Path(path).expanduser() if path is not None else default_cache_path()
        if target.is_dir() or target.suffix == "":
            target = target / CACHE_FILE
        target.parent.mkdir(parents=True, exist_ok=True)
        self.path = target
        # One connection, used from the event loop's thread only; check_same_thread is off
        # because notebooks run the loop in a background thread.
        self._db = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.execute(_SCHEMA)
        self._db.execute(_VECTOR_SCHEMA)

    @staticmethod
    def key(
        fingerprint: Mapping[str, Any],
        request: CompletionRequest,
        sample_index: int,
        occurrence: int,
    ) -> str:
        """The cache key of one request (see the module docstring for its parts).

        Args:
            fingerprint: The provider's :meth:`~promptlab.providers.base.Provider.fingerprint`.
            request: The request as the provider will send it.
            sample_index: The cell's repeat number.
            occurrence: How many identical requests the cell made before this one.
        """
        return hashlib.sha256(
            _canonical(fingerprint, request, sample_index, occurrence).encode()
        ).hexdigest()

    def get(self, key: str) -> Completion | None:
        """The stored completion for ``key``, marked ``calls=0``, or None."""
        row = self._db.execute("SELECT completion FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        return replace(_completion_from_json(row[0]), calls=0)

    def put(
        self,
        key: str,
        fingerprint: Mapping[str, Any],
        request: CompletionRequest,
        completion: Completion,
    ) -> None:
        """Store (or overwrite) the completion for ``key``, with the provider's fingerprint."""
        self._db.execute(
            "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?)",
            (
                key,
                str(fingerprint.get("name", "")),
                str(fingerprint.get("model", "")),
                json.dumps({"provider": fingerprint, **_request_dict(request)}, ensure_ascii=False),
                json.dumps(_completion_dict(completion), ensure_ascii=False),
                datetime.now(timezone.utc).isoformat(),
            ),
        )

    @staticmethod
    def vector_key(fingerprint: Mapping[str, Any], text: str, *, query: bool) -> str:
        """The cache key of one text's embedding.

        Args:
            fingerprint: The embedder's fingerprint (class, model, endpoint without
                credentials, dimensions...; never an API key).
            text: The text embedded.
            query: True for a search query, False for a passage (some models embed the
                two differently).
        """
        canonical = json.dumps(
            {"embedder": fingerprint, "kind": "query" if query else "passage", "text": text},
            sort_keys=True,
            ensure_ascii=False,
            default=str,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()

    def get_vectors(self, keys: Sequence[str]) -> dict[str, list[float]]:
        """The stored embeddings among ``keys`` (see :meth:`vector_key`), by key."""
        found: dict[str, list[float]] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), _SQL_VARIABLES):
            part = unique[start : start + _SQL_VARIABLES]
            rows = self._db.execute(
                f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(part))})",
                part,
            )
            for key, blob in rows:
                values = array("f")
                values.frombytes(blob)
                if sys.byteorder != "little":
                    values.byteswap()
                found[key] = values.tolist()
        return found

    def put_vectors(self, embedder: str, vectors: Mapping[str, Sequence[float]]) -> None:
        """Store embeddings by key (see :meth:`vector_key`); ``embedder`` names the backend."""
        created = datetime.now(timezone.utc).isoformat()
        rows = []
        for key, vector in vectors.items():
            values = array("f", vector)
            if sys.byteorder != "little":
                values.byteswap()
            rows.append((key, embedder, values.tobytes(), created))
        self._db.execute("BEGIN")  # one transaction for the whole batch, not one per row
        try:
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?)", rows)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def clear(self) -> None:
        """Delete every stored response and embedding."""
        self._db.execute("DELETE FROM responses")
        self._db.execute("DELETE FROM vectors")

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def __repr__(self) -> str:
        return f"ResponseCache(path={str(self.path)!r})"


def open_cache(option: bool | str | Path | ResponseCache) -> ResponseCache | None:
    """The cache a ``cache=`` option names: True the shared one, False none, a path, or one."""
    if option is False:
        return None
    if isinstance(option, ResponseCache):
        return option
    return ResponseCache(None if option is True else option)


class CachedProvider(Provider):
    """A provider seen through the cache, for the requests of one cell.

    Every request goes through :meth:`complete`, so every strategy is cached per request,
    including self-consistency's ``n``-sample requests and its adaptive batches. Make
    one per cell: the wrapper counts identical requests within the cell, and that count
    is part of the key. Its :meth:`fingerprint` is the inner provider's, which is also the
    provider part of the key.

    Args:
        provider: The real provider.
        cache: Where responses are kept; None keeps nothing (only the keys are made).
        sample_index: The cell's repeat number; part of the key.
        refresh: Ignore stored responses, call the provider and overwrite them.

    Attributes:
        hits, misses: Requests served from the cache, and requests sent to the provider.
    """

    #: Whether fetched responses are written to the cache (a subclass that fetches
    #: placeholders, like the batch-file export, turns it off).
    stores = True

    def __init__(
        self,
        provider: Provider,
        cache: ResponseCache | None,
        sample_index: int,
        *,
        refresh: bool = False,
    ) -> None:
        super().__init__(on_unsupported=getattr(provider, "on_unsupported", "error"))
        self.inner = provider
        self.cache = cache
        self.sample_index = sample_index
        self.refresh = refresh
        self.name = provider.name
        self.model = provider.model
        self.capabilities = provider.capabilities
        self.hits = 0
        self.misses = 0
        self._seen: Counter[str] = Counter()
        self._fingerprint: dict[str, Any] | None = None

    def fingerprint(self) -> dict[str, Any]:
        """The inner provider's fingerprint (taken once per wrapper, i.e. once per cell)."""
        if self._fingerprint is None:
            self._fingerprint = self.inner.fingerprint()
        return self._fingerprint

    async def complete(self, request: CompletionRequest) -> Completion:
        # The key holds the request as the provider will send it: a parameter it drops
        # (on_unsupported="drop") must not make a stored answer look like a sampled one.
        request = self.inner.check(request)
        fingerprint = self.fingerprint()
        base_key = ResponseCache.key(fingerprint, request, self.sample_index, 0)
        occurrence = self._seen[base_key]
        self._seen[base_key] += 1
        key = (
            base_key
            if occurrence == 0
            else ResponseCache.key(fingerprint, request, self.sample_index, occurrence)
        )
        if not self.refresh and self.cache is not None:
            stored = self.cache.get(key)
            if stored is not None:
                self.hits += 1
                return stored
        completion = await self._fetch(request, key)
        self.misses += 1
        if self.cache is not None and self.stores:
            self.cache.put(key, fingerprint, request, completion)
        return completion

    async def _fetch(self, request: CompletionRequest, key: str) -> Completion:
        """Get a response the cache does not hold; batch mode sends it in a batch instead."""
        return await self.inner.complete(request)

    async def _generate(self, request: CompletionRequest) -> Completion:  # pragma: no cover
        return await self.inner.complete(request)

    async def prompt_logprobs(
        self,
        text: ScoredText,
        *,
        rolling: bool = False,
        context_size: int | None = None,
        stride: int | None = None,
    ) -> PromptLogprobs:
        """The inner provider's :meth:`~Provider.prompt_logprobs`, not cached."""
        return await self.inner.prompt_logprobs(
            text, rolling=rolling, context_size=context_size, stride=stride
        )


def _canonical(
    fingerprint: Mapping[str, Any], request: CompletionRequest, sample_index: int, occurrence: int
) -> str:
    return json.dumps(
        {
            "provider": fingerprint,
            **_request_dict(request),
            "sample_index": sample_index,
            "occurrence": occurrence,
        },
        sort_keys=True,
        ensure_ascii=False,
    )


def _request_dict(request: CompletionRequest) -> dict[str, Any]:
    params = request.params.given_values()
    data: dict[str, Any] = {"messages": [m.to_dict() for m in request.messages], "params": params}
    if request.retrieved:  # only then: keys of requests without retrieval stay as they were
        data["retrieved"] = [[doc_id, score] for doc_id, score in request.retrieved]
    return data


def _completion_dict(completion: Completion) -> dict[str, Any]:
    return {
        "choices": [
            {
                "text": c.text,
                "finish_reason": c.finish_reason,
                "index": c.index,
                "logprobs": None
                if c.logprobs is None
                else [[t.token, t.logprob, [list(pair) for pair in t.top]] for t in c.logprobs],
            }
            for c in completion.choices
        ],
        "usage": {
            "input_tokens": completion.usage.input_tokens,
            "output_tokens": completion.usage.output_tokens,
            "cached_input_tokens": completion.usage.cached_input_tokens,
        },
        "latency_s": completion.latency_s,
        "model": completion.model,
        "provider": completion.provider,
        "cost_usd": completion.cost_usd,
        "calls": completion.calls,
    }


def completion_to_dict(completion: Completion) -> dict[str, Any]:
    """A completion as JSON-ready data (the cache's stored form)."""
    return _completion_dict(completion)


def _completion_from_json(text: str) -> Completion:
    return completion_from_dict(json.loads(text))


def completion_from_dict(data: Mapping[str, Any]) -> Completion:
    """The completion :func:`completion_to_dict` stored."""
    choices = tuple(
        Choice(
            c["text"],
            c["finish_reason"],
            None
            if c["logprobs"] is None
            else tuple(
                TokenLogprob(token, logprob, tuple((t, p) for t, p in top))
                for token, logprob, top in c["logprobs"]
            ),
            c["index"],
        )
        for c in data["choices"]
    )
    return Completion(
        choices,
        Usage(**data["usage"]),
        latency_s=data["latency_s"],
        model=data["model"],
        provider=data["provider"],
        cost_usd=data["cost_usd"],
        calls=data["calls"],
    )
