"""The public API: ``promptlab.__all__``, the lazy imports, and the README's API list agree."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import types
from pathlib import Path

import promptlab
from promptlab._exports import EXPORTS

README = Path(__file__).resolve().parent.parent / "README.md"


def documented_names() -> set[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("<!-- api-start -->")[1].split("<!-- api-end -->")[0]
    return set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", section))


def test_readme_api_list_matches___all__():
    exported = set(promptlab.__all__) - {"__version__"}
    documented = documented_names()
    assert not exported - documented, f"exported but not in README: {sorted(exported - documented)}"
    assert not documented - exported, f"in README but not exported: {sorted(documented - exported)}"


def test_every_exported_name_resolves_to_the_object_not_a_submodule():
    # A submodule named like an export would shadow it once imported.
    for name in promptlab.__all__:
        value = getattr(promptlab, name)
        assert value is not None and not isinstance(value, types.ModuleType), name


def type_checking_imports() -> dict[str, str]:
    """Name -> module of every ``from M import N`` inside ``if TYPE_CHECKING:``."""
    tree = ast.parse(Path(promptlab.__file__).read_text(encoding="utf-8"))
    blocks = [
        node
        for node in tree.body
        if isinstance(node, ast.If)
        and isinstance(node.test, ast.Name)
        and node.test.id == "TYPE_CHECKING"
    ]
    assert len(blocks) == 1, "promptlab/__init__.py needs exactly one TYPE_CHECKING block"
    return {
        alias.asname or alias.name: node.module or ""
        for node in blocks[0].body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def test_type_checking_block_imports_each_export_from_its_module():
    # Names are compared whole, so `Task` is not "found" inside `TaskSet`.
    assert type_checking_imports() == EXPORTS


def test_import_is_lazy_no_sdk_or_pandas_loaded():
    code = (
        "import sys, promptlab; "
        "heavy = [m for m in ('pandas', 'scipy', 'openai', 'anthropic', 'llama_cpp', "
        "'langchain_core', 'matplotlib', 'pydantic', 'jinja2') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
