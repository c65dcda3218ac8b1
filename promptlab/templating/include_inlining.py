"""Resolve static ``{% include %}`` tags once, when a template is compiled.

Jinja resolves an include on every render: it looks the included template up in the
environment's cache and builds a fresh context for it from a copy of every variable.
For the built-in templates, which all include ``final_answer.jinja``, that was about a
third of the render time. A template is compiled once and rendered many times, so
:func:`inline_includes` splices the included template's nodes into the including one's
syntax tree instead, and the compiled code renders it in place.

Only includes that render identically when spliced are inlined: a constant template name,
with context (Jinja's default), not ``ignore missing``, and an included template that
defines nothing that could leak into or clash with the including scope (no ``set``,
macros, blocks, ``extends`` or imports). Anything else is left to Jinja at render time, as
is an include whose template cannot be found now (it fails at render time as before).
"""

from __future__ import annotations

from jinja2 import Environment, TemplateNotFound, TemplateSyntaxError, nodes
from jinja2.visitor import NodeTransformer

# Node types whose meaning depends on being in their own template or scope.
_SCOPED = (
    nodes.Extends,
    nodes.Block,
    nodes.Assign,
    nodes.AssignBlock,
    nodes.Macro,
    nodes.Import,
    nodes.FromImport,
)


def inline_includes(ast: nodes.Template, environment: Environment) -> nodes.Template:
    """Replace each inlinable ``{% include "name" %}`` in ``ast`` by the included body.

    Args:
        ast: A parsed template; it is modified in place.
        environment: Where included templates are looked up (its loader).

    Returns:
        The same tree, for chaining.
    """
    _Inliner(environment, frozenset()).visit(ast)
    return ast


class _Inliner(NodeTransformer):
    def __init__(self, environment: Environment, including: frozenset[str]) -> None:
        self.environment = environment
        self.including = including  # names on the current include chain, to stop cycles

    def visit_Include(self, node: nodes.Include) -> nodes.Node | list[nodes.Node]:
        target = node.template
        if (
            not isinstance(target, nodes.Const)
            or not isinstance(target.value, str)
            or not node.with_context
            or node.ignore_missing
            or target.value in self.including
            or self.environment.loader is None
        ):
            return node
        name = target.value
        try:
            source, filename, _ = self.environment.loader.get_source(self.environment, name)
            included = self.environment.parse(source, name=name, filename=filename)
        except (TemplateNotFound, TemplateSyntaxError):
            return node  # Jinja reports it at render time, as without inlining.
        if any(included.find(kind) for kind in _SCOPED):
            return node
        inner = _Inliner(self.environment, self.including | {name})
        return list(inner.visit(included).body)
