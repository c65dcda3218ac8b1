"""A run killed (SIGKILL) at each stage of a batch never sends a request twice.

The runner is a real ``promptlab run --batch`` process; the stub server, in this test's
process, kills it at an exact step of the batch's life (through ``batch_hook``). A second
run, in this process, must then collect every result while the server sees each request
in exactly one batch.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from promptlab.experiments.execution import BatchOptions
from promptlab.experiments.experiment import Experiment
from promptlab.testing.stub_server import StubServer

ROOT = Path(__file__).resolve().parents[2]
N_TASKS = 5

# (vendor, the server event at which the runner dies, drop the request being handled)
STAGES = [
    ("openai", "upload_received", True),  # before upload: the file never arrives
    ("openai", "upload_stored", False),  # after upload, before the file id is written down
    ("openai", "batch_created", False),  # after create, before the batch id is written down
    ("openai", "batch_retrieved", False),  # while polling
    ("openai", "results_requested", False),  # while downloading the output file
    ("anthropic", "batch_received", True),  # before create
    ("anthropic", "batch_created", False),
    ("anthropic", "batch_retrieved", False),
    ("anthropic", "results_requested", False),
]

EXPERIMENT = """\
name: killed
tasks: tasks.jsonl
providers:
  p: {{provider: "{provider}", batch: true}}
scorers: [exact]
arms:
  zs: {{strategy: zero_shot}}
"""


def write_experiment(folder: Path, vendor: str, srv: StubServer) -> Path:
    provider = (
        f"openai-compatible:gpt-4o-mini@{srv.base_url}"
        if vendor == "openai"
        else f"anthropic-compatible:claude-haiku-4-5@{srv.root_url}"
    )
    rows = [
        {"id": f"t{i}", "question": f"What is {i} + 1?", "answer": "42"} for i in range(N_TASKS)
    ]
    (folder / "tasks.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    path = folder / "exp.yaml"
    path.write_text(EXPERIMENT.format(provider=provider))
    return path


@pytest.mark.parametrize(("vendor", "event", "drop"), STAGES)
def test_a_run_killed_at_any_stage_resumes_without_sending_twice(
    vendor: str, event: str, drop: bool, tmp_path: Path
) -> None:
    child: dict[str, Any] = {}

    def kill_at(name: str, info: dict[str, Any]) -> bool:
        process = child.get("process")
        if name == event and process is not None and not child.get("killed"):
            child["killed"] = True
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
            return drop
        return False

    with StubServer.in_thread(batch_seconds=0.1, batch_hook=kill_at) as srv:
        experiment_file = write_experiment(tmp_path, vendor, srv)
        out = tmp_path / "run"
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            "PROMPTLAB_CACHE_DIR": str(tmp_path / "cache"),
        }
        command = [sys.executable, "-m", "promptlab.cli", "run", str(experiment_file)]
        command += ["--out", str(out), "--batch", "--poll-interval", "0.02", "--no-progress"]
        child["process"] = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        returncode = child["process"].wait(timeout=120)
        assert child.get("killed"), child["process"].stderr.read().decode()[-2000:]
        assert returncode == -signal.SIGKILL

        experiment = Experiment.from_yaml(experiment_file)
        options = BatchOptions(poll_interval=0.02, flush_after=0.05)
        cells = experiment.run(out, cache=False, batch_options=options, progress=False).cells
        uploads = [f for f in srv.batches.files.values() if f["purpose"] == "batch"]

    assert len(cells) == N_TASKS and cells["ok"].all()
    sent = Counter(custom_id for _, custom_id in srv.batches.submitted)
    assert len(sent) == N_TASKS and max(sent.values()) == 1  # no request sent twice
    assert len(srv.batches.batches) == 1
    if vendor == "openai":
        assert len(uploads) == 1  # a file uploaded before the kill is found again by name
