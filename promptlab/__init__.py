"""promptlab: compare prompting strategies honestly.

Strategies (zero-shot, few-shot, chain of thought, self-consistency) render Jinja
templates into chat messages and run them on any provider: the bundled local model,
OpenAI, Anthropic or LangChain. Names are imported on first use, so ``import promptlab``
stays fast and pulls in no SDK.

The public names are listed once, in ``__init__.pyi`` next to this file: type checkers
read it as the package's stub, and the same imports are read here to build ``__all__``
and, with ``lazy_loader``, to import each name from its module on first use.

Example:
    >>> import promptlab as pl
    >>> local = pl.LlamaCppProvider()
    >>> sc = pl.SelfConsistency(pl.ChainOfThought(extractor="numeric"), n=5)
    >>> sc.run({"question": "What is 12 + 7?"}, local).answer
"""

import os as _os
import re as _re

import lazy_loader as _lazy_loader

# The stub holds only `from .module import (Name as Name, ...)` statements (a test checks
# this against Python's own parser), so a regular expression reads it: parsing it with
# `ast`, as `lazy_loader.attach_stub` does, would make `ast` a third of this import's time.
_STUB_IMPORT = _re.compile(r"^from \.([\w.]+) import (?:\(([^)]*)\)|([^\n(]+))$", _re.MULTILINE)
_STUB_NAME = _re.compile(r"(\w+)(?: as \w+)?")


def _stub_imports(stub: str) -> dict[str, list[str]]:
    """Module -> the names the stub imports from it."""
    body = stub.split('"""', 2)[2] if stub.lstrip().startswith('"""') else stub
    imports: dict[str, list[str]] = {}
    for match in _STUB_IMPORT.finditer(body):
        names = imports.setdefault(match[1], [])
        for part in (match[2] or match[3]).split(","):
            if part.strip():
                name = _STUB_NAME.fullmatch(part.strip())
                if name is None:
                    raise ImportError(f"promptlab/__init__.pyi: cannot read {part.strip()!r}")
                names.append(name[1])
    if _STUB_IMPORT.sub("", body).strip():
        raise ImportError("promptlab/__init__.pyi holds more than `from .module import` lines")
    return imports


with open(_os.path.join(_os.path.dirname(__file__), "__init__.pyi"), encoding="utf-8") as _stub:
    _import_on_first_use, _stub_dir, __all__ = _lazy_loader.attach(
        __name__, submod_attrs=_stub_imports(_stub.read())
    )
_PUBLIC = frozenset(__all__)


def __getattr__(name: str) -> object:
    if name not in _PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = _import_on_first_use(name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_stub_dir()))
