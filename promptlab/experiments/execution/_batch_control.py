"""``promptlab status`` and ``promptlab cancel``: a run directory's batches, at the vendor.

Both read the run directory's batch log (see :mod:`promptlab.experiments.store`) and
reach each batch's endpoint again from what the log recorded (vendor, model, base URL,
and the *name* of the key's environment variable: the key is read from it again, as when
the run was made, and never written down; ``api_key_env`` names another variable). Neither
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


def batch_status(
    run_dir: str | Path, *, live: bool = True, api_key_env: str | None = None
) -> list[BatchReport]:
    """Each batch of ``run_dir``; open ones are polled at the vendor when ``live``.

    ``api_key_env`` names the variable holding the key, when it is not the one the run
    used (or the run passed its key in code).
    """
    return run_sync(_status(_log(run_dir), live, api_key_env))


def cancel_batches(run_dir: str | Path, *, api_key_env: str | None = None) -> list[BatchReport]:
    """Ask the vendor to cancel every open batch of ``run_dir``; return what it said.

    A re-run collects what the canceled batches finished; their other requests come back
    as errored cells (``canceled``), which the run after that sends again.
    """
    return run_sync(_cancel(_log(run_dir), api_key_env))


async def _status(log: BatchLog, live: bool, key_env: str | None) -> list[BatchReport]:
    apis = _APIs(key_env)
    reports = []
    for record in log.records.values():
        state, counts, note = record.state, record.counts, ""
        if live and record.open and record.vendor_id is not None:
            try:
                api = apis.get(record)
                status = await api.status(record.vendor_id)
                state, counts = status.state, status.counts
            except PromptlabError as exc:
                note = f"could not ask the vendor: {exc}"
        reports.append(_report(record, state, counts, note))
    await apis.aclose()
    return reports


async def _cancel(log: BatchLog, key_env: str | None) -> list[BatchReport]:
    apis = _APIs(key_env)
    reports = []
    try:
        for record in log.records.values():
            if not record.open or record.vendor_id is None:
                continue
            api = apis.get(record)
            status = await api.cancel(record.vendor_id)
            log.append({"event": "cancel", "batch": record.id})
            reports.append(_report(record, status.state, status.counts, "cancel requested"))
    finally:
        log.close()
        await apis.aclose()
    return reports


class _APIs:
    """The batch APIs of a log's batches, one per recorded endpoint."""

    def __init__(self, key_env: str | None) -> None:
        self.key_env = key_env
        self._apis: dict[str, BatchAPI] = {}

    def get(self, record: BatchRecord) -> BatchAPI:
        key = repr(sorted(record.api.items()))
        if key not in self._apis:
            self._apis[key] = batch_api_from_description(record.api, api_key_env=self.key_env)
        return self._apis[key]

    async def aclose(self) -> None:
        for api in self._apis.values():
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
