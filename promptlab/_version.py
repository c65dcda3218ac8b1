"""The version of promptlab, in one place.

Modules inside the package import it from here, never from the package root. The build
reads it too (``[tool.hatch.version]`` in ``pyproject.toml``), so the wheel's metadata and
``promptlab.__version__`` cannot disagree. A literal rather than a lookup through
``importlib.metadata``: that lookup costs tens of milliseconds of imports, and in a source
checkout it reports whatever version happens to be installed.
"""

__version__ = "0.1.0"
