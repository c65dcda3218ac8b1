"""Run an experiment's cells concurrently, write each record as it finishes, resume later.

Scheduling: each provider gets as many workers as its limit allows (never more than
the total ``concurrency``). Every worker takes the provider's next cell, then holds one
slot of a shared semaphore while the cell runs. So the total and per-provider limits
both hold, and a slow provider never blocks a fast one. Rate limits are left to each
provider's own ``complete``, which every call goes through. Memory stays flat: cells
are generated lazily, and each record is written to ``cells.jsonl`` and then dropped.

Resume: cells that already have a successful record in the run directory are skipped.
Errored cells run again, and their new record supersedes the old one (readers keep the
last record per cell id). Before that, the directory is locked (one writer at a time) and
its stored definition fingerprint is checked against the experiment: a conflicting
definition is an error, a change only in scorers re-scores the stored outputs without
calling any provider (see :mod:`promptlab.experiments.store`).

Ctrl-C: :meth:`Experiment.run` turns the first Ctrl-C into a cancellation. Running cells
are cancelled, finished records stay on disk, and a message says how to resume. Then
``KeyboardInterrupt`` is raised. A second Ctrl-C interrupts at once.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptlab.errors import PromptlabError
from promptlab.experiments.execution._batch_cell import BatchOptions, note_unbatched
from promptlab.experiments.execution._batching import BatchScheduler
from promptlab.experiments.execution._budget import Budget
from promptlab.experiments.execution._cell import Cell, iter_cells, run_cell
from promptlab.experiments.execution._progress import RunProgress
from promptlab.experiments.execution._rescore import rescore_records
from promptlab.experiments.store import (
    BatchLog,
    CellEntry,
    CellRecord,
    OpenedRun,
    RunDirectory,
    clear_stop,
    definition_fingerprint,
    write_stop,
)
from promptlab.providers.batch import BatchAPI, batch_api
from promptlab.providers.cache import ResponseCache, open_cache
from promptlab.tracing import span

if TYPE_CHECKING:
    from promptlab.experiments.analysis import Run
    from promptlab.experiments.experiment import Experiment


class RunInterrupted(PromptlabError):
    """The run was stopped by Ctrl-C; finished cells are saved and a re-run resumes.

    :meth:`Experiment.run` turns it into ``KeyboardInterrupt``.

    Attributes:
        run_dir: The run directory.
        done, total: Cells finished (including earlier runs) and cells in the experiment.
    """

    def __init__(self, run_dir: Path, done: int, total: int) -> None:
        self.run_dir, self.done, self.total = run_dir, done, total
        super().__init__(
            f"Interrupted: {done} of {total} cells are saved in {run_dir}. Run again with the "
            "same output directory to resume."
        )


class ExperimentRunner:
    """Runs one experiment into one run directory.

    Args:
        experiment: What to run.
        out: The run directory.
        cache: True (the shared cache), False (no cache), a path, or a
            :class:`~promptlab.providers.cache.ResponseCache`.
        refresh_cache: Call providers even on cache hits and overwrite the stored responses.
        concurrency: Overrides ``experiment.concurrency``.
        progress: Show a progress bar when the console can.
        fresh: Start over: move the directory's old records aside to a backup file.
        batch: True sends every provider with a batch API through it, False none, None
            the providers the experiment marks (``batch: true`` in YAML). Open batches in
            the run directory are always resumed, whatever this says.
        batch_options: Polling and pacing of batch mode.
        max_cost_usd: Stop starting cells before the projected spend of the run directory
            passes this many dollars (see :mod:`~promptlab.experiments.execution._budget`).
        allow_unknown_cost: With a budget, count cells of unknown cost as free instead of
            refusing to run.
    """

    def __init__(
        self,
        experiment: Experiment,
        out: str | Path,
        *,
        cache: bool | str | Path | ResponseCache = True,
        refresh_cache: bool = False,
        concurrency: int | None = None,
        progress: bool = True,
        fresh: bool = False,
        batch: bool | None = None,
        batch_options: BatchOptions | None = None,
        max_cost_usd: float | None = None,
        allow_unknown_cost: bool = False,
    ) -> None:
        self.experiment = experiment
        self.max_cost_usd = max_cost_usd
        self.allow_unknown_cost = allow_unknown_cost
        self.budget: Budget | None = None
        self.batch = batch
        self.batch_options = batch_options or BatchOptions()
        self.scheduler: BatchScheduler | None = None
        self.directory = RunDirectory(out)
        self.fresh = fresh
        self.cache_option = cache
        self.refresh_cache = refresh_cache
        self.concurrency = concurrency or experiment.concurrency
        self.show_progress = progress
        self.progress: RunProgress | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._main: asyncio.Task[Any] | None = None
        self._interrupted = False

    async def arun(self) -> Run:
        """Run every unfinished cell; return the run loaded from the directory."""
        self._loop = asyncio.get_running_loop()
        self._main = asyncio.current_task()
        self.directory.lock()
        experiment = self.experiment
        attributes = {
            "promptlab.experiment": experiment.name,
            "promptlab.cells": experiment.n_cells,
            "promptlab.arms": list(experiment.arms),
            "promptlab.providers": list(experiment.providers),
            "promptlab.run_dir": str(self.directory.path),
        }
        try:
            with span(f"experiment {experiment.name}", attributes):
                return await self._run_locked()
        finally:
            self.directory.close()
            self.directory.unlock()

    async def _run_locked(self) -> Run:
        experiment = self.experiment
        described = experiment.describe()
        fingerprint = definition_fingerprint(experiment, described)
        if self.fresh:  # first: it refuses while batches are open, before anything moves
            moved = BatchLog(self.directory.path).move_aside()
            if moved is not None:
                print(f"--fresh: the old batch log is in {moved}.", file=sys.stderr)
        opened = self.directory.open(fingerprint, fresh=self.fresh)
        if opened.backup is not None:
            print(
                f"--fresh: the old records of {self.directory.path} are in {opened.backup}.",
                file=sys.stderr,
            )
        if opened.changes.rescore:
            await self._rescore(opened)
        self.directory.write_definition(described, fingerprint, opened.cells)
        finished = opened.finished_ids()
        cache = self._open_cache()
        tasks = {task.id for task in experiment.tasks}
        done = sum(
            1
            for c in opened.cells
            if c.ok
            and c.task_id in tasks
            and c.arm in experiment.arms
            and c.provider in experiment.providers
            and c.repeat < experiment.repeats
        )
        spent = sum(
            c.cost_usd
            for c in opened.cells
            if c.cost_usd is not None and not c.cached and c.provider in experiment.providers
        )
        # Finished records are never held (each is written to cells.jsonl and dropped),
        # and the Run returned reads the directory only when it is asked for data. What
        # the Run needs, each cell's latest entry, is kept as the lines are written:
        # reading cells.jsonl back would cost the run a second pass over every line.
        entries = _LatestEntries(opened.cells)
        opened.cells = []
        clear_stop(self.directory.path)
        progress = RunProgress(
            experiment.n_cells,
            done,
            enabled=self.show_progress,
            description=experiment.name,
        )
        self.progress = progress
        slots = asyncio.Semaphore(self.concurrency)
        scheduler = self.scheduler = self._batch_scheduler()
        if scheduler is not None:
            await scheduler.start()
        batched = set() if scheduler is None else set(scheduler.providers)
        budget = None
        if self.max_cost_usd is not None:
            budget = self.budget = Budget(
                experiment,
                self.max_cost_usd,
                spent,
                batched,
                allow_unknown_cost=self.allow_unknown_cost,
            )
            await budget.check_known()

        limits = {
            name: min(self.batch_options.max_in_flight, experiment.n_cells)
            if name in batched
            else min(experiment.provider_limit(name), self.concurrency)
            for name in experiment.providers
        }
        # The shared slots bind only when the workers holding them outnumber them; with
        # fewer (one provider, say), a slot is always free and the cells skip the semaphore.
        holders = sum(limit for name, limit in limits.items() if name not in batched)
        shared = slots if holders > self.concurrency else None

        async def worker(cells: Iterator[Cell], batch: BatchScheduler | None) -> None:
            for cell in cells:
                reserved = 0.0
                if budget is not None:
                    projected = await budget.reserve(cell)
                    if projected is None:
                        return  # the budget is spent: start no more cells
                    reserved = projected
                if batch is not None:  # waiting for a batch holds no concurrency slot
                    record = await run_cell(
                        cell, experiment, cache, refresh_cache=self.refresh_cache, batch=batch
                    )
                elif shared is None:
                    record = await run_cell(
                        cell, experiment, cache, refresh_cache=self.refresh_cache
                    )
                else:
                    async with shared:
                        record = await run_cell(
                            cell, experiment, cache, refresh_cache=self.refresh_cache
                        )
                # One thread, no await between write and flush: lines never interleave.
                self.directory.append(record)
                entries.add(record)
                progress.advance(record)
                if budget is not None:
                    budget.settle(reserved, record)
                # Let the written record go before the next cell: held across its await,
                # every worker's last record would stay alive (in batch mode, one per
                # waiting cell: a whole round's records).
                del record

        workers = []
        for name, limit in limits.items():
            cells = iter_cells(experiment, name, finished)
            batch = scheduler if name in batched else None
            workers += [asyncio.ensure_future(worker(cells, batch)) for _ in range(limit)]
        try:
            everything: asyncio.Future[Any] = asyncio.gather(*workers)
            if scheduler is not None and not self.batch_options.wait:
                settled: asyncio.Future[Any] = asyncio.ensure_future(scheduler.settled())
                await asyncio.wait({everything, settled}, return_when=asyncio.FIRST_COMPLETED)
                settled.cancel()
                if not everything.done():
                    everything.cancel()
                    await asyncio.gather(everything, return_exceptions=True)
                    self._print_pending(scheduler, progress)
                    # An empty cells file: the run loads, with the cells finished so far.
                    self.directory.cells_path.touch(exist_ok=True)
                else:
                    await everything
            else:
                await everything
        except BaseException as exc:
            # Stop every worker before leaving, whatever went wrong (Ctrl-C, a full disk...).
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            progress.stop()
            if isinstance(exc, asyncio.CancelledError):
                self._print_resume_hint(progress)
                if self._interrupted:
                    raise RunInterrupted(
                        self.directory.path, progress.done, progress.total
                    ) from None
            raise
        finally:
            progress.stop()
            if budget is not None and budget.stopped:
                reason = budget.stop_reason(progress.done, progress.total)
                write_stop(self.directory.path, reason)
                print(f"\n{reason['message']}", file=sys.stderr)
            if scheduler is not None:
                await scheduler.aclose()
            self.directory.close()
            if cache is not None and cache is not self.cache_option:
                cache.close()
        from promptlab.experiments.analysis import Run

        # What Run.load would read back: the lines of cells.jsonl, latest per cell.
        return Run._of_directory(self.directory.path, entries.latest())

    async def _rescore(self, opened: OpenedRun) -> None:
        """Only scorers changed: score the stored outputs again, calling no provider."""
        changes = opened.changes
        records = self.directory.latest_records()
        parts = []
        if changes.scorers_changed:
            parts.append(f"added or changed: {', '.join(changes.scorers_changed)}")
        if changes.scorers_removed:
            parts.append(f"removed: {', '.join(changes.scorers_removed)}")
        print(
            f"Rescore: the scorers differ from the run in {self.directory.path} "
            f"({'; '.join(parts)}). Scoring the {len(records)} stored cells again "
            "from their saved outputs; no provider of the experiment is called for them "
            "(a judge scorer still asks its judge).",
            file=sys.stderr,
        )
        kept, orphaned = await rescore_records(
            records, self.experiment, changes.scorers_changed, changes.scorers_removed
        )
        backup = self.directory.back_up_records(orphaned)
        if backup is not None:
            print(
                f"Rescore: {len(orphaned)} cells of tasks no longer in the task set cannot be "
                f"scored again; they were moved to {backup}.",
                file=sys.stderr,
            )
        self.directory.replace_records(kept)
        opened.cells = [CellEntry.of(record) for record in kept]

    def cancel(self) -> bool:
        """Ask the run to stop, from any thread; False if it is not running."""
        if self._loop is None or self._main is None or self._main.done():
            return False
        self._interrupted = True
        self._loop.call_soon_threadsafe(self._main.cancel)
        return True

    def _batch_scheduler(self) -> BatchScheduler | None:
        """The scheduler for batch-mode providers, or None when no provider runs batched."""
        experiment = self.experiment
        log = BatchLog(self.directory.path)
        if self.batch is True:
            wanted = set(experiment.providers)
        elif self.batch is False:
            wanted = set()
        else:
            wanted = set(experiment.batch_providers)
        resumed = {r.provider for r in log.records.values() if r.open} & set(experiment.providers)
        if resumed - wanted:
            print(
                f"Batch mode: resuming the open batches of {', '.join(sorted(resumed - wanted))} "
                f"in {log.folder} (they were submitted by an earlier run).",
                file=sys.stderr,
            )
        apis: dict[str, BatchAPI] = {}
        for name in sorted(wanted | resumed):
            api = batch_api(experiment.providers[name])
            if api is not None:
                apis[name] = api
        note_unbatched(sorted((wanted | resumed) - set(apis)))
        if not apis:
            log.close()
            return None
        _note_adaptive(experiment, apis)
        # Refreshing the cache also means not reusing results collected by earlier runs.
        return BatchScheduler(log, apis, self.batch_options, reuse=not self.refresh_cache)

    def _print_pending(self, scheduler: BatchScheduler, progress: RunProgress) -> None:
        open_batches = sum(1 for r in scheduler.log.records.values() if r.open)
        print(
            f"\nSubmitted: {open_batches} batch(es) are open at the vendor; {progress.done} of "
            f"{progress.total} cells are saved in {self.directory.path}. Run the same command "
            f"again to collect them (`promptlab status {self.directory.path}` shows their "
            "state); nothing is sent twice.",
            file=sys.stderr,
        )

    def _open_cache(self) -> ResponseCache | None:
        return open_cache(self.cache_option)

    def _print_resume_hint(self, progress: RunProgress) -> None:
        print(
            f"\nInterrupted: {progress.done} of {progress.total} cells are saved in "
            f"{self.directory.path}. Run the same command (same output directory) again to "
            "resume; finished cells are not run again.",
            file=sys.stderr,
        )


class _LatestEntries:
    """Each cell's latest entry in ``cells.jsonl``, in the order cells first appear there.

    Starts from the entries the directory held when opened, and follows every record the
    run appends, so it equals a scan of the file after the run (:meth:`CellScan.latest`).
    """

    def __init__(self, opened: list[CellEntry]) -> None:
        self._earlier = opened
        self._written: list[CellEntry] = []

    def add(self, record: CellRecord) -> None:
        """Follow one record just appended."""
        self._written.append(CellEntry.of(record))

    def latest(self) -> list[CellEntry]:
        """The entries a scan of ``cells.jsonl`` would give now."""
        if not self._written:
            return self._earlier
        if not self._earlier:  # a new directory: a run writes each cell once
            return self._written
        latest = {entry.id: entry for entry in self._earlier}
        for entry in self._written:  # a retried cell keeps its place, with its new entry
            latest[entry.id] = entry
        return list(latest.values())


def _note_adaptive(experiment: Experiment, apis: dict[str, BatchAPI]) -> None:
    adaptive = [
        name
        for name, arm in experiment.arms.items()
        if getattr(arm.strategy, "stopping", None) is not None
    ]
    if adaptive:
        print(
            f"Batch mode: the arm(s) {', '.join(adaptive)} stop adaptively, so they draw "
            "their samples in rounds: each round is one batch turnaround (up to 24 hours at "
            "the vendor), one after another. Use a fixed n for one round.",
            file=sys.stderr,
        )


@contextmanager
def interrupts_cancel(runner: ExperimentRunner) -> Iterator[None]:
    """Within the block, the first Ctrl-C cancels ``runner`` cleanly (main thread only).

    A Ctrl-C that still arrives as ``KeyboardInterrupt`` (in a notebook, the kernel may
    raise it while waiting) also cancels the runner and waits for it to wind down.
    """
    previous: Any = None
    installed = threading.current_thread() is threading.main_thread()

    def on_sigint(signum: int, frame: Any) -> None:
        if not runner.cancel():
            raise KeyboardInterrupt
        # A second Ctrl-C falls through to the previous handler: an immediate stop.
        signal.signal(signal.SIGINT, previous)

    if installed:
        try:
            previous = signal.signal(signal.SIGINT, on_sigint)
        except ValueError:  # not allowed here (e.g. an embedded interpreter)
            installed = False
    try:
        yield
    except RunInterrupted:
        raise KeyboardInterrupt from None
    except KeyboardInterrupt:
        if runner.cancel() and runner._main is not None and runner._loop is not None:
            main, loop = runner._main, runner._loop
            if loop.is_running() and loop is not _running_loop():
                done = threading.Event()
                loop.call_soon_threadsafe(lambda: main.add_done_callback(lambda _: done.set()))
                done.wait(timeout=30)
        raise
    finally:
        if installed:
            signal.signal(signal.SIGINT, previous)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
