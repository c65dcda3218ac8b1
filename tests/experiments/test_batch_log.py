"""The batch log of a run directory: stages, a line cut off by a kill, --fresh."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptlab.errors import ConfigurationError
from promptlab.experiments.store import BatchLog

API = {"vendor": "openai", "model": "m", "name": "openai", "base_url": None}


def test_each_event_moves_a_batch_to_its_next_stage(tmp_path: Path) -> None:
    log = BatchLog(tmp_path)
    local, name, path = log.new_batch("p", API)
    path.write_text('{"custom_id": "k1"}\n{"custom_id": "k2"}\n')
    record = log.prepared(local, name, "p", API, 2)
    assert (record.stage, record.open, name) == ("prepared", True, f"promptlab-{log.token}-b00001")
    log.append({"event": "uploaded", "batch": local, "upload_id": "file-1"})
    assert record.stage == "uploaded"
    log.append({"event": "submitted", "batch": local, "vendor_id": "batch_1"})
    log.append({"event": "collected", "batch": local})
    log.close()
    again = BatchLog(tmp_path).records[local]
    assert (again.stage, again.vendor_id, again.upload_id, again.open) == (
        "collected", "batch_1", "file-1", False,
    )  # fmt: skip
    assert list(BatchLog(tmp_path).custom_ids(local)) == ["k1", "k2"]
    assert BatchLog(tmp_path).token == log.token


def test_a_line_cut_off_by_a_kill_is_a_step_not_taken(tmp_path: Path) -> None:
    log = BatchLog(tmp_path)
    local, name, _ = log.new_batch("p", API)
    log.prepared(local, name, "p", API, 1)
    log.close()
    with log.path.open("a") as handle:
        handle.write('{"event": "submitted", "batch": "b00001", "vendor_')
    assert BatchLog(tmp_path).records[local].stage == "prepared"


def test_fresh_moves_a_closed_log_aside_and_refuses_an_open_one(tmp_path: Path) -> None:
    log = BatchLog(tmp_path)
    local, name, _ = log.new_batch("p", API)
    log.prepared(local, name, "p", API, 1)
    with pytest.raises(ConfigurationError, match=r"--fresh would forget 1 batch\(es\)"):
        log.move_aside()
    log.append({"event": "rejected", "batch": local, "reason": "bad"})
    backup = log.move_aside()
    assert backup is not None and backup.name.startswith("batches.bak-")
    assert BatchLog(tmp_path).records == {}
