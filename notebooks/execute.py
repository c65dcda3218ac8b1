"""Execute the tutorial notebooks from their paired sources and store them with outputs.

Each notebook is kept as a jupytext percent-format source, ``NN_name.py`` (the file to edit
and review), paired with ``NN_name.ipynb`` (generated from it, stored *executed* so that a
reader browsing the repository sees the results). After editing a source, run from the
repository root::

    .venv/bin/python notebooks/execute.py                      # every notebook
    .venv/bin/python notebooks/execute.py 02_ab_test.py        # only the named ones

``tests/test_notebooks.py`` uses the same functions: it executes every source (and fails
on an error) and checks that each stored ``.ipynb`` has outputs and the source's cells.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

import jupytext
import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SOURCE_PATTERN = "[0-9][0-9]_*.py"
CELL_TIMEOUT_S = 600


def sources() -> list[Path]:
    """The paired sources of the tutorial notebooks, in reading order."""
    return sorted(HERE.glob(SOURCE_PATTERN))


def notebook_from_source(source: Path) -> nbformat.NotebookNode:
    """The notebook jupytext reads from a percent-format source, with stable cell ids.

    jupytext gives cells random ids; numbered ones keep a regenerated notebook's diff to
    what changed.
    """
    notebook = jupytext.read(source)
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"{source.stem[:2]}-{index:02d}"
    return notebook


def execute(
    notebook: nbformat.NotebookNode, cwd: Path, env: Mapping[str, str] | None = None
) -> None:
    """Run every cell of ``notebook`` in place, in a kernel on this interpreter.

    The kernel is ipykernel's own spec for ``sys.executable`` (no kernelspec folder is
    searched, so a user's ``python3`` kernel of another environment is never picked), run in
    ``cwd``, with the repository on ``PYTHONPATH`` and ``env`` added to the environment.

    Raises:
        nbclient.exceptions.CellExecutionError: A cell raised; the message shows the cell
            and the traceback.
    """
    python_path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    kernel_env = {**os.environ, "PYTHONPATH": python_path, **(env or {})}
    manager = KernelManager(
        kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[])
    )
    client = NotebookClient(
        notebook,
        km=manager,
        timeout=CELL_TIMEOUT_S,
        # Timestamps in every cell's metadata would make each regeneration a full diff.
        record_timing=False,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute(env=kernel_env)


def main(argv: list[str]) -> int:
    """Execute the named sources (default: all) and write each ``.ipynb`` with its outputs."""
    chosen = [HERE / Path(name).name for name in argv] or sources()
    missing = [path.name for path in chosen if not path.is_file()]
    if missing:
        print(f"no such notebook source in notebooks/: {', '.join(missing)}", file=sys.stderr)
        return 2
    # A fresh response cache: the stored outputs are what a first run prints, and the
    # user's own cache is left alone.
    with tempfile.TemporaryDirectory(prefix="promptlab-notebook-cache-") as cache:
        for source in chosen:
            notebook = notebook_from_source(source)
            execute(notebook, HERE, {"PROMPTLAB_CACHE_DIR": cache})
            target = source.with_suffix(".ipynb")
            jupytext.write(notebook, target, fmt="ipynb")
            print(f"executed {source.name} -> {target.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
