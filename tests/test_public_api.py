"""The public API: ``promptlab.__all__``, the lazy imports, and the README's API list agree."""

from __future__ import annotations

import re
import subprocess
import sys
import types
from pathlib import Path

import promptlab

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


def test_type_checking_block_lists_every_export():
    source = Path(promptlab.__file__).read_text(encoding="utf-8")
    block = source.split("if TYPE_CHECKING:")[1]
    missing = [n for n in promptlab.__all__ if n != "__version__" and n not in block]
    assert not missing


def test_import_is_lazy_no_sdk_or_pandas_loaded():
    code = (
        "import sys, promptlab; "
        "heavy = [m for m in ('pandas', 'scipy', 'openai', 'anthropic', 'llama_cpp', "
        "'langchain_core', 'matplotlib', 'pydantic', 'jinja2') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
