"""``stop.json``: why a run stopped before every cell was done (e.g. its budget).

Written when a run stops on purpose with cells left; removed when a run starts, so it
only ever describes the latest run.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

STOP_FILE = "stop.json"


def write_stop(run_dir: str | Path, reason: dict[str, Any]) -> Path:
    """Record why the run stopped (atomically: a temporary file, then a rename)."""
    path = Path(run_dir) / STOP_FILE
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(reason, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path


def read_stop(run_dir: str | Path) -> dict[str, Any] | None:
    """Why the latest run stopped early, or None when it did not."""
    path = Path(run_dir) / STOP_FILE
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def clear_stop(run_dir: str | Path) -> None:
    """Forget the previous run's reason (a new run is starting)."""
    with contextlib.suppress(FileNotFoundError):
        (Path(run_dir) / STOP_FILE).unlink()
