"""Write the tutorial notebooks (without outputs) from the cell lists in this folder.

The notebooks are generated so that their source stays reviewable as plain Python and
Markdown strings. Run from the repository root after editing a ``*_cells.py`` file::

    .venv/bin/python notebooks/build_notebooks.py

``tests/test_notebooks.py`` executes every notebook on the bundled local model.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent

NOTEBOOKS = {
    "01_strategies_and_parameters.ipynb": "strategies_cells.py",
    "02_ab_test.ipynb": "ab_test_cells.py",
    "03_self_consistency.ipynb": "self_consistency_cells.py",
    "04_choosing_a_model.ipynb": "choosing_a_model_cells.py",
}


def load_cells(module_file: str) -> list[tuple[str, str]]:
    """The ``CELLS`` list, ``(kind, source)`` with kind ``"md"`` or ``"code"``, of a module."""
    spec = importlib.util.spec_from_file_location(
        module_file.removesuffix(".py"), HERE / module_file
    )
    if spec is None or spec.loader is None:
        raise FileNotFoundError(HERE / module_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.CELLS)


def build(name: str, module_file: str) -> nbformat.NotebookNode:
    """A notebook with the module's cells, a Python 3 kernel, and no outputs."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.metadata["language_info"] = {"name": "python"}
    for kind, source in load_cells(module_file):
        source = source.strip("\n")
        if kind == "md":
            notebook.cells.append(nbformat.v4.new_markdown_cell(source))
        elif kind == "code":
            notebook.cells.append(nbformat.v4.new_code_cell(source))
        else:
            raise ValueError(f"{module_file}: cell kind {kind!r} is not 'md' or 'code'")
    # Stable ids keep regenerated notebooks diff-free when nothing changed.
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"{Path(name).stem[:2]}-{index:02d}"
    nbformat.validate(notebook)
    return notebook


def main(argv: list[str]) -> int:
    """Write every notebook (or only those named on the command line)."""
    wanted = set(argv) or set(NOTEBOOKS)
    for name, module_file in NOTEBOOKS.items():
        if name in wanted:
            nbformat.write(build(name, module_file), HERE / name)
            print(f"wrote notebooks/{name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
