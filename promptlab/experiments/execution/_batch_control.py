"""``promptlab status`` and ``promptlab cancel``: a run directory's batches, at the vendor.

Both read the run directory's batch log (see :mod:`promptlab.experiments.store`) and
reach each batch's endpoint again from what the log recorded (vendor, model, base URL;
the key comes from the vendor's environment variable, as when the run was made). Neither
takes the run directory's lock: a run may be polling the same batches meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from promptlab.errors import ConfigurationError, PromptlabError
from promptlab.experiments.store import BATCHES_FOLDER, BatchLog, BatchRecord
from promptlab.providers.batch import BatchAPI, batch_api_from_description
from promptlab.sync import run_sync


@dataclass(frozen=True)
class BatchReport:
    """One batch of a run directory, as recorded and as the vendor sees it now.

    Attributes:
        id: The local id (``b00001``).
        provider: The experiment's provider name.
        vendor_id: The vendor's batch id, or None when it was never confirmed.
        stage: What the log says: prepared, uploaded, submitted, rejected or collected.
        state: The vendor's state now (or the last one recorded when it was not asked).
        counts: Requests per outcome.
        requests: Requests in the batch.
        note: What went wrong asking the vendor, if anything.
    """

    id: str
    provider: str
    vendor_id: str | None
    stage: str
    state: str
    counts: dict[str, int]
    requests: int
    note: str = ""


def _log(run_dir: str | Path) -> BatchLog:
    log = BatchLog(run_dir)
    if not log.records:
        raise ConfigurationError(
            f"{run_dir} has no batches ({Path(run_dir) / BATCHES_FOLDER} is missing or "
            "empty): it was not run with --batch, or nothing was sent yet."
        )
    return log


def batch_status(run_dir: str | Path, *, live: bool = True) -> list[BatchReport]:
    """Each batch of ``run_dir``; open ones are polled at the vendor when ``live``."""
    return run_sync(_status(_log(run_dir), live))


def cancel_batches(run_dir: str | Path) -> list[BatchReport]:
    """Ask the vendor to cancel every open batch of ``run_dir``; return what it said.

    A re-run collects what the canceled batches finished; their other requests come back
    as errored cells (``canceled``), which the run after that sends again.
    """
    return run_sync(_cancel(_log(run_dir)))


async def _status(log: BatchLog, live: bool) -> list[BatchReport]:
    apis: dict[str, BatchAPI] = {}
    reports = []
    for record in log.records.values():
        state, counts, note = record.state, record.counts, ""
        if live and record.open and record.vendor_id is not None:
            try:
                api = _api(apis, record)
                status = await api.status(record.vendor_id)
                state, counts = status.state, status.counts
            except PromptlabError as exc:
                note = f"could not ask the vendor: {exc}"
        reports.append(_report(record, state, counts, note))
    await _close(apis)
    return reports


async def _cancel(log: BatchLog) -> list[BatchReport]:
    apis: dict[str, BatchAPI] = {}
    reports = []
    try:
        for record in log.records.values():
            if not record.open or record.vendor_id is None:
                continue
            api = _api(apis, record)
            status = await api.cancel(record.vendor_id)
            log.append({"event": "cancel", "batch": record.id})
            reports.append(_report(record, status.state, status.counts, "cancel requested"))
    finally:
        log.close()
        await _close(apis)
    return reports


def _api(apis: dict[str, BatchAPI], record: BatchRecord) -> BatchAPI:
    key = repr(sorted(record.api.items()))
    if key not in apis:
        apis[key] = batch_api_from_description(record.api)
    return apis[key]


async def _close(apis: dict[str, BatchAPI]) -> None:
    for api in apis.values():
        await api.provider.aclose()


def _report(record: BatchRecord, state: str, counts: dict[str, int], note: str) -> BatchReport:
    return BatchReport(
        id=record.id,
        provider=record.provider,
        vendor_id=record.vendor_id,
        stage=record.stage,
        state=state,
        counts=dict(counts),
        requests=record.requests,
        note=note,
    )
