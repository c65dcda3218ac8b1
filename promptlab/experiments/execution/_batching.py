"""Batch mode: cells' requests gathered into vendor batches, written ahead to the run directory.

Each cell runs its strategy as in direct mode, but its provider is a
:class:`BatchCellProvider`: a cache miss is handed to the :class:`BatchScheduler` and the
cell waits for the result. So every strategy works unchanged: a one-call strategy waits
for one batch; self-consistency sends its ``n`` samples as one request with native ``n``
(OpenAI) or as ``n`` requests (Anthropic); an adaptive stopping rule draws its samples in
rounds, one batch turnaround per round (each round can take up to the vendor's 24-hour
window, so an adaptive arm in batch mode can take several days: a note says so).

The scheduler collects requests per provider and sends them as a batch once no new
request has come for ``flush_after`` seconds, or the vendor's size limit is reached
(:data:`~promptlab.providers.batch.BATCH_LIMITS`). Every step is written to the run
directory's batch log before it is taken or as soon as the vendor confirms it (see
:mod:`promptlab.experiments.store`), and a request's ``custom_id`` is its response-cache
key. On start, the log is read: collected results answer their requests from disk,
submitted batches are polled and collected, and a batch that was about to be created when
the process died is looked up on the vendor's side by name before anything is sent again.

Failures: a result that errored on the vendor's side (5xx, overload, rate limit), expired
or never came back, and every request of a batch rejected at validation, is sent again in
a later batch, up to the provider's retry policy's ``max_attempts``; what then still
fails, and client errors (a bad request), become the cell's error with the vendor's
message. Canceled requests are not retried in the same run (a re-run retries them, like
any errored cell).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from promptlab.completion import Completion, CompletionRequest
from promptlab.errors import BatchRequestError, ProviderError
from promptlab.experiments.execution._batch_cell import BatchOptions
from promptlab.experiments.store import BatchLog, BatchRecord
from promptlab.providers.batch import BatchAPI, BatchStatus
from promptlab.providers.cache import completion_from_dict, completion_to_dict


@dataclass
class _Queue:
    """One provider's requests waiting to be sent."""

    api: BatchAPI
    max_attempts: int
    pending: dict[str, CompletionRequest] = field(default_factory=dict)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    create_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class BatchScheduler:
    """Sends the requests of a run's batch-mode providers as vendor batches.

    Args:
        log: The run directory's batch log.
        apis: Experiment provider name -> its batch API.
        options: Pacing.
        reuse: Answer requests from results that earlier runs collected (False with
            ``refresh_cache``). Open batches are always resumed.
    """

    def __init__(
        self,
        log: BatchLog,
        apis: dict[str, BatchAPI],
        options: BatchOptions,
        *,
        reuse: bool = True,
    ) -> None:
        self.log = log
        self.options = options
        self.reuse = reuse
        self._queues = {
            name: _Queue(api, api.provider.retry.max_attempts) for name, api in apis.items()
        }
        self._waiters: dict[str, list[asyncio.Future[Completion]]] = {}
        self._requests: dict[str, CompletionRequest] = {}
        self._attempts: dict[str, int] = {}
        self._open_keys: dict[str, str] = {}  # key -> local batch id
        self._done: dict[str, tuple[str, int]] = {}  # key -> (local batch id, byte offset)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._busy = 0
        self._last_request = 0.0
        self.submitted = 0

    # -- start and stop ------------------------------------------------------------------

    async def start(self) -> None:
        """Read the log: index collected results, resume every open batch."""
        for name in self._queues:
            self._spawn(self._flusher(name))
        for record in list(self.log.records.values()):
            if record.collected:
                if self.reuse:
                    self._index_results(record.id)
            elif record.open and record.provider in self._queues:
                for key in self.log.custom_ids(record.id):
                    self._open_keys[key] = record.id
                self._busy += 1
                self._spawn(self._run_batch(record, recover=True))

    @property
    def providers(self) -> list[str]:
        """The experiment's names of the providers this scheduler batches."""
        return list(self._queues)

    async def aclose(self) -> None:
        """Stop polling and sending; the log keeps where every batch stands."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.log.close()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settled(self) -> None:
        """Return once nothing is waiting to be sent (for ``wait=False``)."""
        quiet = max(self.options.flush_after, 0.01)
        while True:
            await asyncio.sleep(quiet)
            idle = time.monotonic() - self._last_request >= quiet
            if idle and self._busy == 0 and not any(q.pending for q in self._queues.values()):
                return

    # -- requests ------------------------------------------------------------------------

    async def complete(self, provider: str, key: str, request: CompletionRequest) -> Completion:
        """The completion of ``request`` (``key`` is its cache key), through a batch."""
        done = self._done.get(key)
        if done is not None:
            return self._read_result(*done)
        future: asyncio.Future[Completion] = asyncio.get_running_loop().create_future()
        waiters = self._waiters.setdefault(key, [])
        waiters.append(future)
        if len(waiters) == 1:
            self._requests[key] = request
            if key not in self._open_keys:
                self._enqueue(provider, key, request)
        return await future

    def _enqueue(self, provider: str, key: str, request: CompletionRequest) -> None:
        queue = self._queues[provider]
        self._attempts[key] = self._attempts.get(key, 0) + 1
        queue.pending[key] = request
        self._last_request = time.monotonic()
        queue.arrived.set()

    def _resolve(self, key: str, outcome: Completion | BaseException) -> None:
        self._requests.pop(key, None)
        self._attempts.pop(key, None)
        for future in self._waiters.pop(key, []):
            if future.done():
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    def _failed(self, provider: str, key: str, error: BatchRequestError) -> None:
        """Send ``key`` again if the policy allows, else fail its cells."""
        self._open_keys.pop(key, None)
        request = self._requests.get(key)
        if key not in self._waiters or request is None:
            self._attempts.pop(key, None)
            return  # no cell of this run asked for it (yet): a later ask sends it again
        attempts = self._attempts.get(key, 1)
        if error.retryable and attempts < self._queues[provider].max_attempts:
            self._enqueue(provider, key, request)
            return
        if attempts > 1:
            error.args = (f"{error.args[0]} (after {attempts} batch attempts)",)
        self._resolve(key, error)

    # -- sending -------------------------------------------------------------------------

    async def _flusher(self, provider: str) -> None:
        queue = self._queues[provider]
        while True:
            await queue.arrived.wait()
            while True:  # wait for a quiet moment, or a full batch
                queue.arrived.clear()
                if len(queue.pending) >= queue.api.limits.max_requests:
                    break
                try:
                    await asyncio.wait_for(queue.arrived.wait(), self.options.flush_after)
                except asyncio.TimeoutError:
                    break
            await self._flush(provider)

    async def _flush(self, provider: str) -> None:
        queue = self._queues[provider]
        limits = queue.api.limits
        while queue.pending:
            local, name, path = self.log.new_batch(provider, queue.api.describe())
            count, size = 0, 0
            with path.open("w", encoding="utf-8") as handle:
                for key in list(queue.pending):
                    request = queue.pending[key]
                    try:
                        line = json.dumps(queue.api.request_line(key, request), ensure_ascii=False)
                    except Exception as exc:  # a request the vendor format cannot hold
                        del queue.pending[key]
                        self._resolve(key, exc)
                        continue
                    data = len(line.encode()) + 1
                    if data > limits.max_bytes:
                        del queue.pending[key]
                        self._resolve(key, _too_large(queue.api, data, limits.max_bytes))
                        continue
                    if count >= limits.max_requests or size + data > limits.max_bytes:
                        break
                    handle.write(line + "\n")
                    count, size = count + 1, size + data
                    del queue.pending[key]
                    self._open_keys[key] = local
            if count == 0:
                path.unlink(missing_ok=True)
                continue
            record = self.log.prepared(local, name, provider, queue.api.describe(), count)
            self._busy += 1
            self._spawn(self._run_batch(record, recover=False))

    async def _run_batch(self, record: BatchRecord, *, recover: bool) -> None:
        """Submit (if needed), poll and collect one batch; fail its cells if that breaks."""
        queue = self._queues[record.provider]
        busy = True  # the caller counted this batch as busy when it spawned the task
        try:
            if record.vendor_id is None:
                await self._submit(record, queue, recover=recover)
            if self.options.wait:  # without waiting, a batch is busy until polled once
                self._busy, busy = self._busy - 1, False
            if record.vendor_id is not None:
                await self._watch(record, queue.api)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # The batch stays open in the log: a re-run polls it again.
            for key in list(self.log.custom_ids(record.id)):
                if self._open_keys.get(key) == record.id:
                    self._open_keys.pop(key, None)
                    self._resolve(key, exc)
        finally:
            if busy:
                self._busy -= 1

    async def _submit(self, record: BatchRecord, queue: _Queue, *, recover: bool) -> None:
        api = queue.api
        path = self.log.requests_path(record.id)
        async with queue.create_lock:  # one unrecorded creation per provider at a time
            claimed = {r.vendor_id for r in self.log.records.values() if r.vendor_id}
            if recover:
                found = await api.find_created(
                    record.name, record.requests, record.created, claimed
                )
                if found is not None:
                    self.log.append({"event": "submitted", "batch": record.id, "vendor_id": found})
                    return
            if api.uploads and record.upload_id is None:
                upload_id = await api.find_upload(record.name) if recover else None
                upload_id = upload_id or await api.upload(record.name, path)
                self.log.append({"event": "uploaded", "batch": record.id, "upload_id": upload_id})
            for attempt in range(1, queue.max_attempts + 1):
                try:
                    vendor_id = await api.create(record.name, path, record.upload_id)
                except ProviderError as exc:
                    if exc.retryable and attempt < queue.max_attempts:
                        # The batch may exist although the reply was lost: look before resending.
                        found = await api.find_created(
                            record.name, record.requests, record.created, claimed
                        )
                        if found is None:
                            continue
                        vendor_id = found
                    else:
                        self._rejected(record, str(exc))
                        return
                self.log.append({"event": "submitted", "batch": record.id, "vendor_id": vendor_id})
                self.submitted += 1
                return

    def _rejected(self, record: BatchRecord, reason: str) -> None:
        self.log.append({"event": "rejected", "batch": record.id, "reason": reason})
        api = self._queues[record.provider].api
        for key in self.log.custom_ids(record.id):
            if self._open_keys.get(key) == record.id:
                error = api.request_error(
                    "rejected", f"the batch {record.name} was rejected: {reason}", retryable=True
                )
                self._failed(record.provider, key, error)

    async def _watch(self, record: BatchRecord, api: BatchAPI) -> None:
        vendor_id = record.vendor_id or ""
        while True:
            status = await api.status(vendor_id)
            if status.state != record.state or status.counts != record.counts:
                self.log.append(
                    {
                        "event": "status",
                        "batch": record.id,
                        "state": status.state,
                        "counts": status.counts,
                    }
                )
            if status.rejected is not None:
                self._rejected(record, status.rejected)
                return
            if status.ended:
                await self._collect(record, api, status)
                return
            if not self.options.wait:
                return
            await asyncio.sleep(self.options.poll_interval)

    async def _collect(self, record: BatchRecord, api: BatchAPI, status: BatchStatus) -> None:
        """Stream the results to disk, answering each waiting cell as its line arrives.

        After each answer the loop yields once, so that the cell finishes (and its worker
        starts the next one) before the next line is read: lines that arrive together
        (a results file comes in large chunks) would otherwise be turned into completions
        for the whole batch before any cell could take its own and let it go.
        """
        path = self.log.results_path(record.id)
        seen: set[str] = set()
        failures: list[tuple[str, BatchRequestError]] = []
        with path.open("wb") as handle:
            async for custom_id, outcome in api.results(record.vendor_id or "", status):
                if self._open_keys.get(custom_id) != record.id or custom_id in seen:
                    continue  # not a request of this batch
                seen.add(custom_id)
                offset = handle.tell()
                if isinstance(outcome, Completion):
                    line = {"id": custom_id, "completion": completion_to_dict(outcome)}
                    handle.write(json.dumps(line, ensure_ascii=False).encode() + b"\n")
                    self._done[custom_id] = (record.id, offset)
                    self._open_keys.pop(custom_id, None)
                    self._resolve(custom_id, outcome)
                    await asyncio.sleep(0)  # the cell takes its completion before the next
                else:
                    line = {"id": custom_id, "error": _error_dict(outcome)}
                    handle.write(json.dumps(line, ensure_ascii=False).encode() + b"\n")
                    failures.append((custom_id, outcome))
            handle.flush()
        canceled = record.cancel_requested or status.state in ("cancelled", "canceled")
        for key in self.log.custom_ids(record.id):
            if key not in seen and self._open_keys.get(key) == record.id:
                failures.append((key, _missing(api, canceled)))
        self.log.append({"event": "collected", "batch": record.id})
        for key, error in failures:
            self._failed(record.provider, key, error)

    # -- results on disk -----------------------------------------------------------------

    def _index_results(self, local: str) -> None:
        path = self.log.results_path(local)
        if not path.is_file():
            return
        with path.open("rb") as handle:
            while True:
                offset = handle.tell()
                line = handle.readline()
                if not line:
                    break
                if b'"completion"' in line:
                    key = json.loads(line)["id"]
                    self._done[key] = (local, offset)

    def _read_result(self, local: str, offset: int) -> Completion:
        with self.log.results_path(local).open("rb") as handle:
            handle.seek(offset)
            return completion_from_dict(json.loads(handle.readline())["completion"])


def _too_large(api: BatchAPI, size: int, limit: int) -> BatchRequestError:
    return api.request_error(
        "rejected",
        f"one request takes {size} bytes, more than a whole batch may hold ({limit}); shorten "
        "the prompt or raise the limit with set_batch_limits.",
    )


def _missing(api: BatchAPI, canceled: bool) -> BatchRequestError:
    if canceled:
        return api.request_error("canceled", "the batch was canceled before this request ran.")
    return api.request_error(
        "missing", "the batch ended without a result for this request.", retryable=True
    )


def _error_dict(error: BatchRequestError) -> dict[str, Any]:
    return {
        "kind": error.kind,
        "message": str(error),
        "status": error.status,
        "retryable": error.retryable,
    }
