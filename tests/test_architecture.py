"""The package keeps its layering: the import-linter contracts in pyproject.toml hold.

The contracts say that no import runs from a lower layer to a higher one (templating <
providers < testing < strategies < experiments < cli, and the rooms of the experiment
layer likewise), that no modules import each other in a circle, and that no module imports
the package root. Imports under ``if TYPE_CHECKING:`` never run and are not counted.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# `lint-imports`, run by this interpreter (the console script does exactly this).
LINT_IMPORTS = [
    sys.executable,
    "-c",
    "import sys; from importlinter.cli import lint_imports_command as lint; sys.exit(lint())",
    "--no-cache",
    "--no-logo",
]


def lint_imports(folder: Path, **options: object) -> subprocess.CompletedProcess[str]:
    """Run ``lint-imports`` with the ``pyproject.toml`` of ``folder``."""
    return subprocess.run(
        LINT_IMPORTS, cwd=folder, capture_output=True, text=True, timeout=120, **options
    )


def test_the_import_contracts_hold() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_broken_layer_is_caught(tmp_path: Path) -> None:
    """The check can fail: an upward import in a throwaway copy of the package breaks it."""
    copy = tmp_path / "promptlab"
    shutil.copytree(ROOT / "promptlab", copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "experiments" / "stats" / "_upward.py").write_text(
        "from promptlab.experiments.analysis import Run\n"
    )
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    result = lint_imports(tmp_path, env={"PYTHONPATH": str(tmp_path)})
    assert result.returncode != 0
    assert "promptlab.experiments.stats._upward -> promptlab.experiments.analysis" in result.stdout


def test_no_contract_has_exceptions() -> None:
    """The contracts hold with no ``ignore_imports``: an exception would hide a circle."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    contracts = text[text.index("[tool.importlinter]") :]
    assert "ignore_imports" not in contracts
