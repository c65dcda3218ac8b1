"""Prompt templates: one compiled template (chat messages out), and the library that finds them."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import TemplateNotFound, TemplateSyntaxError, UndefinedError, meta
from jinja2.exceptions import SecurityError

from promptlab.errors import (
    MissingVariableError,
    TemplateError,
    TemplateNotFoundError,
    TemplateSecurityError,
)
from promptlab.messages import Message
from promptlab.templating.chat_blocks import split_messages
from promptlab.templating.environment import TEMPLATE_SUFFIX, builtin_template_dir, make_environment
from promptlab.templating.include_inlining import inline_includes
from promptlab.templating.render_plan import RenderPlan

_UNDEFINED_NAME = re.compile(r"'([^']+)' is undefined")


class PromptTemplate:
    """A Jinja template, compiled once, that renders to chat messages.

    Build one from a template name (searched in the library's folders, then the built-ins)
    or from source text.

    Args:
        source: The Jinja source.
        name: A name for error messages and result records.
        library: Where ``{% include %}`` and ``{% import %}`` look; the built-ins by default.

    Example:
        >>> t = PromptTemplate("{% user %}What is {{ a }} + {{ b }}?{% enduser %}")
        >>> t.render({"a": 2, "b": 3})
        (Message(role='user', content='What is 2 + 3?'),)
    """

    def __init__(
        self, source: str, *, name: str = "<string>", library: TemplateLibrary | None = None
    ) -> None:
        self.library = library or default_library()
        self.name = name
        self.source = source
        environment = self.library.environment
        try:
            ast = environment.parse(source, name=name)
            # Variables are read before inlining: they are this template's own inputs.
            self.variables: frozenset[str] = frozenset(meta.find_undeclared_variables(ast))
            inline_includes(ast, environment)
            # Planned before compiling: compiling may fold constants in the tree in place.
            self._plan = RenderPlan.of(ast, environment)
            self._template = environment.from_string(ast)
        except TemplateSyntaxError as exc:
            raise TemplateError(
                f"Template {name!r} has a syntax error on line {exc.lineno}: {exc.message}"
            ) from exc
        self.hash = hashlib.sha256(source.encode()).hexdigest()[:16]

    @classmethod
    def from_name(cls, name: str, *, library: TemplateLibrary | None = None) -> PromptTemplate:
        """Load a template by name, e.g. ``"chain_of_thought"``."""
        library = library or default_library()
        filename = name if name.endswith(TEMPLATE_SUFFIX) else name + TEMPLATE_SUFFIX
        loader = library.environment.loader
        if loader is None:  # pragma: no cover - our environments always have one
            raise TemplateNotFoundError(f"No template loader to find {name!r}.")
        try:
            source, _, _ = loader.get_source(library.environment, filename)
        except TemplateNotFound:
            known = ", ".join(library.names())
            folders = ", ".join(repr(str(f)) for f in library.folders)
            raise TemplateNotFoundError(
                f"No template named {name!r} in {folders}. Known templates: {known}. "
                "Add your own folder with TemplateLibrary([...]) or pass the source text."
            ) from None
        return cls(source, name=name.removesuffix(TEMPLATE_SUFFIX), library=library)

    @classmethod
    def coerce(
        cls, template: str | PromptTemplate, *, library: TemplateLibrary | None = None
    ) -> PromptTemplate:
        """Accept a template object, a template name, or Jinja source text."""
        if isinstance(template, PromptTemplate):
            return template
        if "{" in template or "\n" in template:
            return cls(template, library=library)
        return cls.from_name(template, library=library)

    def render(self, inputs: Mapping[str, Any]) -> tuple[Message, ...]:
        """Render to chat messages.

        Raises:
            MissingVariableError: A variable the template needs is not in ``inputs``.
            TemplateNotFoundError: An ``{% include %}``, ``{% extends %}`` or
                ``{% import %}`` names a template that is in none of the library's folders.
            TemplateSecurityError: The template tried something the sandbox forbids.
            TemplateError: Any other rendering problem.
        """
        try:
            # The plainest templates skip Jinja's render (see render_plan); the plan gives
            # Jinja's messages, or None where Jinja must decide, errors included.
            if self._plan is not None:
                messages = self._plan.render(inputs)
                if messages is not None:
                    return messages
            rendered = self._template.render(inputs)
        except UndefinedError as exc:
            raise self._missing_error(inputs, exc) from None
        except TemplateNotFound as exc:
            raise self._not_found_error(exc) from None
        except SecurityError as exc:
            raise TemplateSecurityError(
                f"Template {self.name!r} tried an unsafe operation and was stopped by the "
                f"sandbox: {str(exc).rstrip('.')}. Templates may not reach Python internals."
            ) from None
        except TemplateError:
            raise
        except Exception as exc:
            raise TemplateError(f"Template {self.name!r} failed to render: {exc}") from exc
        return split_messages(rendered, self.name)

    def _not_found_error(self, exc: TemplateNotFound) -> TemplateNotFoundError:
        # TemplatesNotFound (a list of candidates) is a TemplateNotFound with .templates.
        names = [str(n) for n in getattr(exc, "templates", None) or [exc.name]]
        wanted = " or ".join(repr(n) for n in names)
        folders = ", ".join(repr(str(f)) for f in self.library.folders)
        return TemplateNotFoundError(
            f"Template {self.name!r} includes, extends or imports {wanted}, which is in none "
            f"of the template folders searched: {folders}. Fix the name (with its .jinja "
            "suffix), or add its folder with TemplateLibrary([...]) and build the template "
            "from that library."
        )

    def _missing_error(self, inputs: Mapping[str, Any], exc: UndefinedError) -> TemplateError:
        match = _UNDEFINED_NAME.search(str(exc))
        if match is None:
            # An attribute or key of a given variable is missing, e.g. ex.rationale.
            return TemplateError(
                f"Template {self.name!r} could not render: {exc.message}. "
                "Check the fields of the values you passed."
            )
        return MissingVariableError(self.name, [match.group(1)], sorted(inputs))

    def __repr__(self) -> str:
        return f"PromptTemplate(name={self.name!r}, variables={sorted(self.variables)})"


class TemplateLibrary:
    """A set of template folders searched before the built-ins.

    Example:
        >>> library = TemplateLibrary(["my_templates"])
        >>> template = library.get("zero_shot")  # my_templates/zero_shot.jinja if present
    """

    def __init__(self, search_path: Sequence[str | Path] = ()) -> None:
        self.search_path = tuple(Path(p) for p in search_path)
        self.environment = make_environment(self.search_path)

    @property
    def folders(self) -> tuple[Path, ...]:
        """Every folder searched for a template, in order: ``search_path``, then the built-ins."""
        return (*self.search_path, builtin_template_dir())

    def get(self, name: str) -> PromptTemplate:
        """Load the template called ``name`` (the ``.jinja`` suffix may be left out)."""
        return PromptTemplate.from_name(name, library=self)

    def names(self) -> list[str]:
        """Every template name this library can find."""
        return sorted(
            name.removesuffix(TEMPLATE_SUFFIX)
            for name in self.environment.list_templates()
            if name.endswith(TEMPLATE_SUFFIX)
        )


@lru_cache(maxsize=1)
def default_library() -> TemplateLibrary:
    """The library with only the built-in templates."""
    return TemplateLibrary()
