"""The batch log of a run directory: a write-ahead record of every provider batch.

Batch mode (``Experiment.run(batch=True)``) keeps, in ``<run dir>/batches/``:

* ``log.jsonl``: one event per line, appended and flushed before the step it announces
  is taken, or right after the vendor confirmed it:

  ============= ==========================================================================
  event         written
  ============= ==========================================================================
  ``log``       once, first: the log's random ``token``, part of every batch's name
  ``prepared``  after the request file is written, *before* anything is sent: the batch's
                local id, its name (``promptlab-<token>-<id>``), the provider, how to reach
                its endpoint again (never the key), the request count and the time
  ``uploaded``  after the vendor confirmed the upload (OpenAI): the file id
  ``submitted`` after the vendor confirmed the batch: its id
  ``status``    when a poll sees a new state: the vendor's state and counts
  ``rejected``  the whole batch failed validation: the vendor's reason
  ``collected`` after every result line was written to the results file
  ``cancel``    ``promptlab cancel`` asked the vendor to stop the batch
  ============= ==========================================================================

* ``<id>.requests.jsonl``: the request file, exactly as sent (OpenAI's batch input
  format, or Anthropic's ``custom_id`` + ``params``). A request's ``custom_id`` is its
  response-cache key, so a request is recognised whichever batch it is in.
* ``<id>.results.jsonl``: one line per result, ``{"id", "completion"}`` or
  ``{"id", "error"}``.

Reading the log tells a re-run where each batch stopped: ``prepared`` without
``submitted`` may or may not exist on the vendor's side (the vendor is asked, by name,
before anything is sent again); ``submitted`` without ``collected`` is polled and
collected; ``collected`` results are read from disk. So a process killed at any moment
loses no submitted batch and sends no request twice.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from promptlab.errors import ConfigurationError
from promptlab.jsonl import iter_jsonl

BATCHES_FOLDER = "batches"
LOG_FILE = "log.jsonl"


@dataclass
class BatchRecord:
    """What the log says about one batch.

    Attributes:
        id: The local id (``b0001``...).
        name: The name given to the vendor (``promptlab-<token>-<id>``).
        provider: The experiment's name for the provider.
        api: How to reach the endpoint again (vendor, model, name, base_url).
        requests: How many requests the batch holds.
        created: Unix time just before anything was sent.
        upload_id, vendor_id: The vendor's file and batch ids, once confirmed.
        state, counts: The last state and counts a poll saw.
        rejected: The vendor's reason when the whole batch was rejected.
        collected: Every result is in the results file.
        cancel_requested: ``promptlab cancel`` asked the vendor to stop it.
    """

    id: str
    name: str
    provider: str
    api: dict[str, Any]
    requests: int
    created: float
    upload_id: str | None = None
    vendor_id: str | None = None
    state: str = "prepared"
    counts: dict[str, int] = field(default_factory=dict)
    rejected: str | None = None
    collected: bool = False
    cancel_requested: bool = False

    @property
    def open(self) -> bool:
        """Submitted (or maybe submitted) and not yet collected or rejected."""
        return not self.collected and self.rejected is None

    @property
    def stage(self) -> str:
        """Where the batch stands, as far as this directory knows."""
        if self.collected:
            return "collected"
        if self.rejected is not None:
            return "rejected"
        if self.vendor_id is not None:
            return "submitted"
        return "uploaded" if self.upload_id is not None else "prepared"


class BatchLog:
    """The ``batches/`` folder of a run directory (see the module docstring).

    Args:
        run_dir: The run directory.
    """

    def __init__(self, run_dir: str | Path) -> None:
        self.folder = Path(run_dir) / BATCHES_FOLDER
        self.path = self.folder / LOG_FILE
        self.token = ""
        self.records: dict[str, BatchRecord] = {}
        self._file: IO[str] | None = None
        self.load()

    def load(self) -> None:
        """Read the log (a line cut off by a kill is ignored: its step was not taken)."""
        self.records = {}
        if not self.path.is_file():
            return
        text = self.path.read_text(encoding="utf-8")
        lines = text.splitlines()
        if lines and not text.endswith("\n"):
            lines = lines[:-1]  # written partly when the process died
        for _, event in iter_jsonl("\n".join(lines), str(self.path)):
            self._apply(event)

    def _apply(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "log":
            self.token = str(event["token"])
            return
        if kind == "prepared":
            self.records[event["batch"]] = BatchRecord(
                id=event["batch"],
                name=event["name"],
                provider=event["provider"],
                api=event["api"],
                requests=int(event["requests"]),
                created=float(event["time"]),
            )
            return
        record = self.records.get(event.get("batch", ""))
        if record is None:
            return
        if kind == "uploaded":
            record.upload_id = event["upload_id"]
        elif kind == "submitted":
            record.vendor_id = event["vendor_id"]
            record.state = "submitted"
        elif kind == "status":
            record.state = event["state"]
            record.counts = dict(event.get("counts") or {})
        elif kind == "rejected":
            record.rejected = str(event["reason"])
            record.state = "rejected"
        elif kind == "collected":
            record.collected = True
        elif kind == "cancel":
            record.cancel_requested = True

    def append(self, event: dict[str, Any]) -> None:
        """Write one event and flush it, then apply it to :attr:`records`."""
        self._open().write(json.dumps(event, ensure_ascii=False) + "\n")
        self._open().flush()
        self._apply(event)

    def _open(self) -> IO[str]:
        if self._file is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
            if not self.token:
                self.token = uuid.uuid4().hex[:12]
                self._file.write(json.dumps({"event": "log", "token": self.token}) + "\n")
                self._file.flush()
        return self._file

    def close(self) -> None:
        """Close the log file (it reopens on the next append)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def move_aside(self) -> Path | None:
        """Start a new log (``--fresh``): the old folder becomes ``batches.bak-<time>``.

        Raises:
            ConfigurationError: A batch is still open at the vendor; collect it (run again
                without ``--fresh``) or cancel it first, so that it is not paid for twice.
        """
        open_batches = [r.id for r in self.records.values() if r.open]
        if open_batches:
            raise ConfigurationError(
                f"--fresh would forget {len(open_batches)} batch(es) still open at the vendor "
                f"({', '.join(open_batches)} in {self.folder}). Collect them first (run again "
                f"without --fresh) or cancel them (promptlab cancel {self.folder.parent})."
            )
        if not self.folder.exists():
            return None
        self.close()
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        backup = self.folder.with_name(f"{BATCHES_FOLDER}.bak-{stamp}")
        self.folder.rename(backup)
        self.records, self.token = {}, ""
        return backup

    # -- batches -----------------------------------------------------------------------

    def new_batch(self, provider: str, api: dict[str, Any]) -> tuple[str, str, Path]:
        """A fresh local id, the batch's vendor name, and where to write its requests."""
        self._open()  # creates the log and its token
        number = len(self.records) + 1
        local = f"b{number:05d}"
        while local in self.records:
            number += 1
            local = f"b{number:05d}"
        self.folder.mkdir(parents=True, exist_ok=True)
        return local, f"promptlab-{self.token}-{local}", self.requests_path(local)

    def prepared(
        self, local: str, name: str, provider: str, api: dict[str, Any], requests: int
    ) -> BatchRecord:
        """Record a written request file, before anything is sent."""
        self.append(
            {
                "event": "prepared",
                "batch": local,
                "name": name,
                "provider": provider,
                "api": api,
                "requests": requests,
                "time": time.time(),
            }
        )
        return self.records[local]

    def requests_path(self, local: str) -> Path:
        """The batch's request file."""
        return self.folder / f"{local}.requests.jsonl"

    def results_path(self, local: str) -> Path:
        """The batch's results file."""
        return self.folder / f"{local}.results.jsonl"

    def custom_ids(self, local: str) -> Iterator[str]:
        """The custom ids of the batch's requests, in file order."""
        with self.requests_path(local).open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield str(json.loads(line)["custom_id"])

    def results(self, local: str) -> Iterator[dict[str, Any]]:
        """The result lines of a collected batch."""
        path = self.results_path(local)
        if not path.is_file():
            return
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)
