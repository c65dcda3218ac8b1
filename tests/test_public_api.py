"""The public API: one list of names (``promptlab/__init__.pyi``), the lazy imports built from
it, and the README's API list agree."""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

import promptlab

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PACKAGE = ROOT / "promptlab"
STUB = PACKAGE / "__init__.pyi"


def documented_names() -> set[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("<!-- api-start -->")[1].split("<!-- api-end -->")[0]
    return set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", section))


def stub_imports() -> list[tuple[str, str, str | None]]:
    """``(module, name, alias)`` of every import in the stub, in order."""
    tree = ast.parse(STUB.read_text(encoding="utf-8"))
    imports: list[tuple[str, str, str | None]] = []
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        assert isinstance(node, ast.ImportFrom) and node.level == 1 and node.module, (
            f"line {node.lineno}: the stub holds only `from .module import Name as Name`"
        )
        imports += [(node.module, alias.name, alias.asname) for alias in node.names]
    return imports


def test_readme_api_list_matches___all__():
    exported = set(promptlab.__all__) - {"__version__"}
    documented = documented_names()
    assert not exported - documented, f"exported but not in README: {sorted(exported - documented)}"
    assert not documented - exported, f"in README but not exported: {sorted(documented - exported)}"


def test___all___is_exactly_the_names_the_stub_imports():
    names = [name for _, name, _ in stub_imports()]
    assert sorted(promptlab.__all__) == sorted(names)
    assert len(names) == len(set(names)), "a name imported twice: the later one silently wins"


def test_every_stub_import_is_an_explicit_re_export():
    # In a stub, `from .m import A` is private to type checkers; only `A as A` re-exports it,
    # so a missing alias would make `promptlab.A` an error for users' mypy.
    imports = stub_imports()
    assert not [f"{module}.{name}" for module, name, alias in imports if alias != name]


def test_every_exported_name_resolves_to_the_object_in_its_module_not_a_submodule():
    # A submodule named like an export would shadow it once imported.
    for module, name, _ in stub_imports():
        value = getattr(promptlab, name)
        assert value is not None and not isinstance(value, types.ModuleType), name
        assert value is getattr(importlib.import_module(f"promptlab.{module}"), name), name


def test_unknown_name_raises_attribute_error_naming_it():
    with pytest.raises(AttributeError, match=r"module 'promptlab' has no attribute 'NoSuchName'"):
        promptlab.NoSuchName  # noqa: B018
    assert not hasattr(promptlab, "_exports")


def test_version_comes_from_the_version_module():
    from promptlab._version import __version__

    assert promptlab.__version__ == __version__
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", __version__)


def test_import_is_lazy_no_sdk_or_pandas_loaded():
    code = (
        "import sys, promptlab; "
        "heavy = [m for m in ('pandas', 'scipy', 'openai', 'anthropic', 'llama_cpp', "
        "'langchain_core', 'matplotlib', 'pydantic', 'jinja2', 'importlib.metadata') "
        "if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
