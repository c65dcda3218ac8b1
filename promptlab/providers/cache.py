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

Stored per response: the key, the provider's name and model, the request (the key's
canonical JSON: fingerprint, messages, parameters, sample index and occurrence) and the
completion. Never the provider object or an API key. A
cache hit returns the stored completion with ``calls=0``. Its usage, cost and latency are
those of the original call, so a run served from the cache reports what the responses
cost when they were made. The cell record's ``cached`` flag marks these cells.

The same file keeps embedding vectors (a second table), so a retriever's index costs
its embedding calls once: :meth:`ResponseCache.vector_key` keys a vector by the embedder's
fingerprint (class, model, endpoint without credentials, dimensions; never a key), whether
the text is a query or a passage, and the text itself.

Writes are batched: a response is kept in memory first (a ``get`` in the same process
sees it at once) and written with others in one transaction, when ``flush_size``
responses are waiting or at most ``flush_interval`` seconds after the first of them,
whichever comes first, and on :meth:`ResponseCache.close`, :meth:`ResponseCache.flush`
and at interpreter exit. One transaction per response cost more than the rest of a cell's
bookkeeping. A crash (a killed process) loses at most the responses of that last window,
and nothing else: the run directory's ``cells.jsonl`` holds the cells' results, so a
resumed run does not need them, and a later run that asks the same requests again calls
the provider for those and stores them (the cache is a saving, never the record).

Reads ahead: a lookup answered from the file also reads the ``READ_AHEAD`` responses
stored after it, because a re-run asks for its responses in the order the first run
stored them; the next lookups are then served from memory instead of one SQLite query
each (a query cost as much as the rest of a cache hit). Responses read ahead are kept at
most ``flush_interval`` seconds, the same window in which this process's own writes may
still be waiting: within it, a response another process overwrote or deleted may be
served as it was read. A ``put`` or :meth:`ResponseCache.clear` in this process is seen
at once. With ``flush_interval=0`` every lookup reads the file.

The file is ``$PROMPTLAB_CACHE_DIR/responses.sqlite``, or
``~/.cache/promptlab/responses.sqlite`` when that variable is unset.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import sqlite3
import sys
import threading
import time
import weakref
from array import array
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from promptlab._checks import is_int
from promptlab.completion import Choice, Completion, CompletionRequest, TokenLogprob, Usage
from promptlab.errors import ConfigurationError
from promptlab.likelihood import PromptLogprobs, ScoredText
from promptlab.providers.base import Provider

CACHE_FILE = "responses.sqlite"
#: Seconds a stored response may wait in memory before it is written (see the module
#: docstring); what a crash can lose at most.
FLUSH_INTERVAL_S = 1.0
#: Responses written in one transaction at most; a full batch is written at once.
FLUSH_SIZE = 256
#: Responses read after one found in the file, for the lookups that follow (see the
#: module docstring); also how many file lookups pass before reading ahead is tried again
#: when the last read-ahead served none.
READ_AHEAD = 64
logger = logging.getLogger(__name__)
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
    Stored responses are written in batches (see the module docstring); :meth:`get` sees
    a response as soon as it is put, and :meth:`close` writes what is still waiting.

    Args:
        path: The SQLite file, or a folder to put ``responses.sqlite`` in;
            :func:`default_cache_path` when None.
        flush_interval: Seconds a stored response may wait before it is written, and
            a response read ahead may be kept; 0 writes each at once (one transaction
            per response) and reads every lookup from the file.
        flush_size: The most responses written in one transaction; a full batch is
            written at once.

    Example:
        >>> cache = ResponseCache(tmp_path)
        >>> cached = CachedProvider(FakeProvider(), cache, sample_index=0)
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        flush_interval: float = FLUSH_INTERVAL_S,
        flush_size: int = FLUSH_SIZE,
    ) -> None:
        if isinstance(flush_interval, bool) or not (
            isinstance(flush_interval, (int, float)) and 0 <= flush_interval < float("inf")
        ):
            raise ConfigurationError(
                f"ResponseCache flush_interval={flush_interval!r} is not allowed: use seconds "
                ">= 0 (0 writes every response at once)."
            )
        if not is_int(flush_size) or flush_size < 1:
            raise ConfigurationError(
                f"ResponseCache flush_size={flush_size!r} is not allowed: use an integer >= 1."
            )
        target = Path(path).expanduser() if path is not None else default_cache_path()
        if target.is_dir() or target.suffix == "":
            target = target / CACHE_FILE
        target.parent.mkdir(parents=True, exist_ok=True)
        self.path = target
        self.flush_interval = float(flush_interval)
        self.flush_size = flush_size
        # One connection, shared by the event loop's thread and the flush timer's, so
        # every use holds the lock. check_same_thread is off for that, and because
        # notebooks run the loop in a background thread.
        self._lock = threading.RLock()
        self._db = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.execute(_SCHEMA)
        self._db.execute(_VECTOR_SCHEMA)
        # Responses put but not yet written: key -> the row without its "created" time.
        self._pending: dict[str, tuple[str, str, str, str, str]] = {}
        # Read ahead (see the module docstring): key -> completion text, until a time.
        self._ahead: dict[str, str] = {}
        self._ahead_until = 0.0
        self._ahead_served = True  # the last read-ahead served a lookup (or there was none)
        self._reads_since_ahead = 0
        self._timer: threading.Timer | None = None
        self._closed = False
        self._pid = os.getpid()  # a forked child must not write through this connection
        _OPEN_CACHES.add(self)

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
        return _digest(_canonical(fingerprint, request, sample_index, occurrence))

    def get(self, key: str) -> Completion | None:
        """The stored completion for ``key``, marked ``calls=0``, or None."""
        with self._lock:
            waiting = self._pending.get(key)
            if waiting is not None:
                text = waiting[4]
            else:
                ahead = self._ahead.pop(key, None)
                if ahead is not None and time.monotonic() <= self._ahead_until:
                    self._ahead_served = True
                    text = ahead
                else:
                    found = self._read(key)
                    if found is None:
                        return None
                    text = found
        return _completion_of(json.loads(text), calls=0)

    def _read(self, key: str) -> str | None:
        """The stored completion text for ``key``, from the file (the caller holds the lock).

        A response found there starts a read-ahead, unless the last one served nothing
        (then only every ``READ_AHEAD`` file lookups, to notice when reading in order resumes).
        """
        row = self._db.execute(
            "SELECT rowid, completion FROM responses WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            return None
        self._reads_since_ahead += 1
        if self.flush_interval > 0 and (
            self._ahead_served or self._reads_since_ahead >= READ_AHEAD
        ):
            rows = self._db.execute(
                "SELECT key, completion FROM responses WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (row[0], READ_AHEAD),
            ).fetchall()
            self._ahead = dict(rows)
            self._ahead_until = time.monotonic() + self.flush_interval
            self._ahead_served = False
            self._reads_since_ahead = 0
        return str(row[1])

    def put(
        self,
        key: str,
        fingerprint: Mapping[str, Any],
        request: CompletionRequest,
        completion: Completion,
        *,
        request_json: str | None = None,
    ) -> None:
        """Store (or overwrite) the completion for ``key``, with the provider's fingerprint.

        The response is written with the next batch (see the module docstring).

        Args:
            key: The request's :meth:`key`.
            fingerprint: The provider's fingerprint, stored with the request.
            request: The request.
            completion: The response to store.
            request_json: The request as JSON, when the caller already serialised it to
                make the key (the key's canonical text); saves serialising it twice.
        """
        if request_json is None:
            request_json = _STORED_JSON.encode({"provider": fingerprint, **_request_dict(request)})
        row = (
            str(fingerprint.get("name", "")),
            str(fingerprint.get("model", "")),
            request_json,
            _STORED_JSON.encode(_completion_dict(completion)),
        )
        with self._lock:
            if self._closed:
                raise sqlite3.ProgrammingError(f"{self!r} is closed: open a new ResponseCache.")
            self._pending.pop(key, None)  # an overwrite goes to the end of the queue
            self._pending[key] = (key, *row)
            self._ahead.pop(key, None)  # read ahead before this put: out of date
            if len(self._pending) >= self.flush_size or self.flush_interval == 0:
                # A running timer is left to fire (early for the next batch, which is
                # allowed): restarting it per batch started a thread per flush_size puts.
                self._write_pending(keep_timer=True)
            elif self._timer is None:
                timer = threading.Timer(self.flush_interval, self._flush_on_timer)
                timer.daemon = True  # interpreter exit flushes instead (atexit)
                self._timer = timer
                timer.start()

    def flush(self) -> None:
        """Write the responses still waiting in memory, in one transaction."""
        with self._lock:
            if not self._closed:
                self._write_pending()

    def _write_pending(self, *, keep_timer: bool = False) -> None:
        """Write every waiting response (the caller holds the lock)."""
        if self._timer is not None and not keep_timer:
            self._timer.cancel()
            self._timer = None
        if not self._pending or os.getpid() != self._pid:
            return
        created = datetime.now(timezone.utc).isoformat()
        rows = [(*row, created) for row in self._pending.values()]
        # On an error the responses stay waiting; the next flush tries again.
        self._insert("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?)", rows)
        self._pending.clear()

    def _insert(self, statement: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """Run ``statement`` for every row in one transaction, all or nothing."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")  # take the write lock now, not mid-way
            try:
                self._db.executemany(statement, rows)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _flush_on_timer(self) -> None:
        with self._lock:
            if self._closed or self._timer is not threading.current_thread():
                return  # closed, or a flush since then replaced this timer
            self._timer = None
            try:
                self._write_pending()
            except sqlite3.Error as exc:
                # Kept waiting: the next put, flush or close writes them (or raises).
                logger.warning("the response cache %s could not be written: %s", self.path, exc)

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
            with self._lock:
                rows = self._db.execute(
                    f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(part))})",
                    part,
                ).fetchall()
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
        # One transaction for the whole batch, not one per row.
        self._insert("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?)", rows)

    def __len__(self) -> int:
        with self._lock:
            self.flush()
            return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def clear(self) -> None:
        """Delete every stored response and embedding (the waiting ones too)."""
        with self._lock:
            self._pending.clear()
            self._ahead.clear()
            self._db.execute("DELETE FROM responses")
            self._db.execute("DELETE FROM vectors")

    def close(self) -> None:
        """Write the waiting responses and close the database connection.

        Safe to call twice.
        """
        with self._lock:
            if self._closed:
                return
            try:
                self._write_pending()
            finally:
                self._closed = True
                self._db.close()
                _OPEN_CACHES.discard(self)

    def __repr__(self) -> str:
        return f"ResponseCache(path={str(self.path)!r})"


#: Caches not closed yet: their waiting responses are written at interpreter exit.
_OPEN_CACHES: weakref.WeakSet[ResponseCache] = weakref.WeakSet()


@atexit.register
def _flush_open_caches() -> None:
    for cache in list(_OPEN_CACHES):
        try:
            cache.flush()
        except sqlite3.Error as exc:  # exiting: say what was lost, don't raise
            logger.warning("the response cache %s could not be written: %s", cache.path, exc)


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
        self._seen: dict[str, int] = {}
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
        # The key's canonical text is also what the cache stores as the request, so the
        # request is serialised once per key.
        canonical = _canonical(fingerprint, request, self.sample_index, 0)
        key = _digest(canonical)
        occurrence = self._seen.get(key, 0)
        self._seen[key] = occurrence + 1
        if occurrence:
            canonical = _canonical(fingerprint, request, self.sample_index, occurrence)
            key = _digest(canonical)
        if not self.refresh and self.cache is not None:
            stored = self.cache.get(key)
            if stored is not None:
                self.hits += 1
                return stored
        completion = await self._fetch(request, key)
        self.misses += 1
        if self.cache is not None and self.stores:
            self.cache.put(key, fingerprint, request, completion, request_json=canonical)
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


# Built once: json.dumps with options other than the defaults builds an encoder per call,
# which cost a cache hit more than the SQLite read. Same options, so the same text (and
# keys) as json.dumps(..., sort_keys=True, ensure_ascii=False) and json.dumps(...,
# ensure_ascii=False) gave before.
_KEY_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False)
_STORED_JSON = json.JSONEncoder(ensure_ascii=False)


def _digest(canonical: str) -> str:
    return hashlib.sha256(canonical.encode()).hexdigest()


def _canonical(
    fingerprint: Mapping[str, Any], request: CompletionRequest, sample_index: int, occurrence: int
) -> str:
    return _KEY_JSON.encode(
        {
            "provider": fingerprint,
            **_request_dict(request),
            "sample_index": sample_index,
            "occurrence": occurrence,
        }
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


def completion_from_dict(data: Mapping[str, Any]) -> Completion:
    """The completion :func:`completion_to_dict` stored."""
    return _completion_of(data, data["calls"])


def _completion_of(data: Mapping[str, Any], calls: int) -> Completion:
    """The stored completion ``data`` with ``calls`` calls (0 for a cache hit)."""
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
        calls=calls,
    )
