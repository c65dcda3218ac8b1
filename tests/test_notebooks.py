"""Every tutorial notebook runs top to bottom on the bundled local model without an error.

Each notebook is executed with nbclient in a kernel running this test's Python (the
project's venv), with the repository on ``PYTHONPATH`` and the notebooks folder as the
working directory. They need the local model, so they depend on the ``local_provider``
fixture: in CI a missing model is a failure, elsewhere a skip.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CELL_TIMEOUT_S = 600

pytestmark = [pytest.mark.local_model, pytest.mark.slow]


def test_every_tutorial_notebook_is_collected() -> None:
    names = [path.name for path in NOTEBOOKS]
    assert names == [
        "01_strategies_and_parameters.ipynb",
        "02_ab_test.ipynb",
        "03_self_consistency.ipynb",
        "04_choosing_a_model.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, path.name


@pytest.fixture(scope="module")
def kernel_environment(
    tmp_path_factory: pytest.TempPathFactory, local_provider: object
) -> dict[str, str]:
    """A kernelspec that runs this interpreter, so the notebooks see the project's venv.

    Depends on ``local_provider`` only for its rule: without the model, fail in CI and
    skip elsewhere, before starting any kernel.
    """
    kernels = tmp_path_factory.mktemp("jupyter") / "kernels" / "promptlab-test"
    kernels.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "promptlab test",
        "language": "python",
    }
    (kernels / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    python_path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return {
        "JUPYTER_PATH": str(kernels.parent.parent),
        "PYTHONPATH": python_path,
        # A fresh response cache: the notebooks really call the model, and leave the
        # user's cache alone.
        "PROMPTLAB_CACHE_DIR": str(tmp_path_factory.mktemp("cache")),
    }


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_runs_without_errors(
    path: Path, kernel_environment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    for key, value in kernel_environment.items():
        monkeypatch.setenv(key, value)
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name="promptlab-test",
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute()
    except CellExecutionError as error:
        pytest.fail(f"{path.name} failed:\n{error}", pytrace=False)
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert errors == []
