"""promptlab: compare prompting strategies honestly.

Strategies (zero-shot, few-shot, chain of thought, self-consistency) render Jinja
templates into chat messages and run them on any provider: the bundled local model,
OpenAI, Anthropic or LangChain. Names are imported on first use, so ``import promptlab``
stays fast and pulls in no SDK.

The public names are listed once, in ``__init__.pyi`` next to this file: type checkers
read it as the package's stub, and ``lazy_loader`` reads the same imports here to build
``__all__`` and to import each name from its module on first use.

Example:
    >>> import promptlab as pl
    >>> local = pl.LlamaCppProvider()
    >>> sc = pl.SelfConsistency(pl.ChainOfThought(extractor="numeric"), n=5)
    >>> sc.run({"question": "What is 12 + 7?"}, local).answer
"""

import lazy_loader as _lazy_loader

_import_on_first_use, _stub_dir, __all__ = _lazy_loader.attach_stub(__name__, __file__)
_PUBLIC = frozenset(__all__)


def __getattr__(name: str) -> object:
    if name not in _PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = _import_on_first_use(name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_stub_dir()))
