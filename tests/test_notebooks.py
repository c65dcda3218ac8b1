"""The tutorial notebooks: paired sources, stored with outputs, and runnable top to bottom.

Each notebook is a jupytext percent-format source ``notebooks/NN_name.py`` paired with
``NN_name.ipynb``, which ``notebooks/execute.py`` writes executed. Without the model, these
tests check that every stored ``.ipynb`` has exactly its source's cells, carries the outputs
of one top-to-bottom run, and uses only ``import promptlab as pl``. With the bundled model
(``local_provider``: a failure in CI when missing, a skip elsewhere), every *source* is
executed, the way ``notebooks/execute.py`` regenerates the stored notebooks.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import nbformat
import pytest

import promptlab

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def _load_runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("notebook_runner", NOTEBOOKS / "execute.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


runner = _load_runner()
SOURCES: list[Path] = runner.sources()
IDS = [source.stem for source in SOURCES]


def cells_of(notebook: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


def test_every_source_has_its_stored_notebook_and_no_notebook_lacks_a_source() -> None:
    stems = {source.stem for source in SOURCES}
    stored = {path.stem for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")}
    assert {
        "01_strategies_and_parameters",
        "02_ab_test",
        "03_self_consistency",
        "04_choosing_a_model",
    } <= stems
    assert stems == stored, "run: .venv/bin/python notebooks/execute.py NN_name.py"


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_stored_notebook_has_the_cells_of_its_source(source: Path) -> None:
    stored = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    assert cells_of(stored) == cells_of(runner.notebook_from_source(source)), (
        f"{source.name} changed since {source.stem}.ipynb was written: "
        f"run .venv/bin/python notebooks/execute.py {source.name}"
    )
    assert stored.metadata["jupytext"]["formats"] == "ipynb,py:percent"


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_stored_notebook_carries_the_outputs_of_one_clean_run(source: Path) -> None:
    stored = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    code = [cell for cell in stored.cells if cell.cell_type == "code"]
    # Executed top to bottom in one kernel, each cell once: counts 1, 2, 3, ...
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    outputs = [output for cell in code for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    # Every cell that ends on an expression shows its value, or prints/displays something.
    silent = [cell.source for cell in code if not cell.outputs and _ends_on_expression(cell)]
    assert silent == []
    # A cell that ends on a plot shows it as an image, not as "<Figure size ...>".
    plots = [cell for cell in code if cell.source.splitlines()[-1].startswith("run.plot.")]
    assert all(_shows_image(cell) for cell in plots), [c.source for c in plots]


def _shows_image(cell: nbformat.NotebookNode) -> bool:
    return any("image/png" in output.get("data", {}) for output in cell.outputs)


def _ends_on_expression(cell: nbformat.NotebookNode) -> bool:
    body = ast.parse(cell.source).body
    return bool(body) and isinstance(body[-1], ast.Expr) and not cell.source.rstrip().endswith(";")


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_notebook_uses_only_the_top_level_public_api(source: Path) -> None:
    cells = runner.notebook_from_source(source).cells
    code = "\n".join(cell.source for cell in cells if cell.cell_type == "code")
    imports = [ast.unparse(node) for node in ast.walk(ast.parse(code)) if _imports_promptlab(node)]
    assert imports == ["import promptlab as pl"], imports
    used = set(re.findall(r"\bpl\.([A-Za-z_]\w*)", code))
    assert used, "the notebook never uses promptlab"
    assert not used - set(promptlab.__all__), "not public: add it to promptlab/__init__.pyi"


def _imports_promptlab(node: ast.AST) -> bool:
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")[0] == "promptlab"
    return isinstance(node, ast.Import) and any(
        alias.name.split(".")[0] == "promptlab" for alias in node.names
    )


def test_execute_reports_the_failing_cell() -> None:
    """The runner raises on a cell error, so a broken notebook fails the test below."""
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("raise ValueError('broken cell')"),
    ]
    with pytest.raises(CellExecutionError, match="broken cell"):
        runner.execute(notebook, NOTEBOOKS)


@pytest.mark.local_model
@pytest.mark.slow
@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_notebook_source_runs_without_errors(
    source: Path, local_provider: object, tmp_path: Path
) -> None:
    from nbclient.exceptions import CellExecutionError

    notebook = runner.notebook_from_source(source)
    try:
        # A fresh response cache: the notebooks really call the model.
        runner.execute(notebook, NOTEBOOKS, {"PROMPTLAB_CACHE_DIR": str(tmp_path / "cache")})
    except CellExecutionError as error:
        pytest.fail(f"{source.name} failed:\n{error}", pytrace=False)
    executed = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in executed)
