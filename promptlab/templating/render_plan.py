"""A direct route for the plainest templates: fixed text, printed names, ``is defined`` tests.

Most prompt templates, the built-in ``zero_shot`` and ``chain_of_thought`` among them, print
variables into fixed text and pick optional parts with ``{% if name is defined %}``. For
those, Jinja's per-render machinery (a context, a generator, an undefined check per name)
and splitting the text back into messages cost more than the work itself: about two thirds
of a render. A :class:`RenderPlan` is built once from a template's syntax tree (after
:func:`~promptlab.templating.include_inlining.inline_includes`). Per render it decides the
``is defined`` tests, takes the message layout for that outcome (worked out once per
outcome, by the rules of :func:`~promptlab.templating.chat_blocks.split_messages`), and
joins each message's text, each value printed as Jinja prints it.

A plan gives exactly what Jinja and ``split_messages`` give, and leaves every other case to
them: a template with any other node (filters, loops, attributes, ``set``, constants...)
gets no plan, and :meth:`RenderPlan.render` returns None, so Jinja renders, when the
variables are not a plain ``dict`` with ``str`` keys, when a printed value is missing or is
not a ``str``, ``int``, ``float``, ``bool`` or ``None``, and when the outcome's message
split depends on a value or is an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias, cast

from jinja2 import Environment, Undefined, nodes
from jinja2.tests import test_defined

from promptlab.messages import ROLES, Message, Role
from promptlab.templating.chat_blocks import _CLOSE, _OPEN, _SEP, scrub_markers

__all__ = ["RenderPlan"]

# Names Jinja gives a meaning of its own in a template (``self`` is the template), never
# a plain lookup in the variables.
_RESERVED = frozenset({"self", "loop", "caller", "varargs", "kwargs", "super"})
# Values printed as ``str(value)`` with no side effect; anything else goes through Jinja.
_PLAIN = frozenset({int, float, bool, type(None)})
_MISSING = object()


class _Name:
    """A printed variable, ``{{ name }}``."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class _Branch:
    """``{% if a is defined %}...{% elif b is not defined %}...{% else %}...{% endif %}``."""

    __slots__ = ("arms", "otherwise")

    def __init__(self, arms: list[tuple[str, bool, list[Item]]], otherwise: list[Item]) -> None:
        self.arms = arms  # (name, True for "is defined" / False for "is not defined", body)
        self.otherwise = otherwise


Item: TypeAlias = "str | _Name | _Branch"
# A message of a layout: a finished Message when its text is fixed, else its role and pieces.
Entry: TypeAlias = "Message | tuple[Role, tuple[str | _Name, ...]]"


class _Unplannable(Exception):
    """The syntax tree holds something a plan does not reproduce."""


class RenderPlan:
    """A template's fixed text, printed names and ``is defined`` choices, ready to render.

    Build one with :meth:`of`; :meth:`render` returns the messages, or None to let Jinja
    render.
    """

    __slots__ = ("_items", "_layouts", "_tested")

    def __init__(self, items: list[Item]) -> None:
        self._items = items
        self._tested = tuple(dict.fromkeys(_names(items, printed=False)))
        self._layouts: dict[tuple[bool, ...], tuple[Entry, ...] | None] = {}

    @classmethod
    def of(cls, ast: nodes.Template, environment: Environment) -> RenderPlan | None:
        """The plan of a parsed template compiled in ``environment``, or None if it has none.

        ``ast`` is read, never changed. The environment must print values through
        :func:`~promptlab.templating.chat_blocks.scrub_markers` without autoescaping, and
        no name in the template may be one of the template's globals (``range``...).
        """
        if (
            environment.is_async
            or environment.finalize is not scrub_markers
            or environment.autoescape is not False
            or environment.tests.get("defined") is not test_defined
        ):
            return None
        try:
            items = _items(ast.body)
        except _Unplannable:
            return None
        names = set(_names(items))
        if names & _RESERVED or not names.isdisjoint(environment.make_globals(None)):
            return None
        return cls(items)

    def render(self, variables: Any) -> tuple[Message, ...] | None:
        """The messages Jinja and ``split_messages`` would give, or None to let them decide."""
        if type(variables) is not dict:
            return None
        for key in variables:
            if type(key) is not str:  # Jinja's context refuses these: let it say so
                return None
        outcome = tuple(
            [
                name in variables and not isinstance(variables[name], Undefined)
                for name in self._tested
            ]
        )
        try:
            layout = self._layouts[outcome]
        except KeyError:
            layout = self._layouts[outcome] = _layout(_flatten(self._items, outcome, self._tested))
        if layout is None:
            return None
        messages = []
        for entry in layout:
            if isinstance(entry, Message):
                messages.append(entry)
                continue
            role, pieces = entry
            parts = []
            for piece in pieces:
                if isinstance(piece, str):
                    parts.append(piece)
                    continue
                value = variables.get(piece.name, _MISSING)
                kind = type(value)
                if kind is str:
                    parts.append(scrub_markers(value))
                elif kind in _PLAIN:
                    parts.append(str(value))
                else:  # missing, or a value whose printing is Jinja's business
                    return None
            messages.append(Message(role, "".join(parts).strip()))
        return tuple(messages)


def _items(body: Sequence[nodes.Node]) -> list[Item]:
    items: list[Item] = []
    for node in body:
        if type(node) is nodes.Output:
            for child in node.nodes:
                if type(child) is nodes.TemplateData:
                    items.append(child.data)
                elif type(child) is nodes.Name and child.ctx == "load":
                    items.append(_Name(child.name))
                else:
                    raise _Unplannable
        elif type(node) is nodes.If:
            arms = [(*_defined_test(node.test), _items(node.body))]
            for arm in node.elif_:
                arms.append((*_defined_test(arm.test), _items(arm.body)))
            items.append(_Branch(arms, _items(node.else_)))
        else:
            raise _Unplannable
    return items


def _defined_test(test: nodes.Node) -> tuple[str, bool]:
    """``name is defined`` as (name, True), ``name is not defined`` as (name, False)."""
    wanted = True
    if type(test) is nodes.Not:
        test, wanted = test.node, False
    if (
        type(test) is not nodes.Test
        or test.name != "defined"
        or test.args
        or test.kwargs
        or test.dyn_args is not None
        or test.dyn_kwargs is not None
        or type(test.node) is not nodes.Name
        or test.node.ctx != "load"
    ):
        raise _Unplannable
    return test.node.name, wanted


def _names(items: list[Item], *, printed: bool = True) -> list[str]:
    """The names the items test in their conditions and, with ``printed``, print."""
    names = []
    for item in items:
        if printed and type(item) is _Name:
            names.append(item.name)
        elif type(item) is _Branch:
            for name, _, body in item.arms:
                names.append(name)
                names.extend(_names(body, printed=printed))
            names.extend(_names(item.otherwise, printed=printed))
    return names


def _flatten(
    items: list[Item], outcome: tuple[bool, ...], tested: tuple[str, ...]
) -> list[str | _Name]:
    """The text and names printed for this outcome of the tests, adjacent text joined."""
    defined = dict(zip(tested, outcome, strict=True))
    flat: list[str | _Name] = []

    def walk(part: list[Item]) -> None:
        for item in part:
            if type(item) is _Branch:
                chosen = next(
                    (body for name, wanted, body in item.arms if defined[name] is wanted),
                    item.otherwise,
                )
                walk(chosen)
            elif type(item) is str and flat and type(flat[-1]) is str:
                flat[-1] += item
            else:
                flat.append(item)  # type: ignore[arg-type]

    walk(items)
    return [item for item in flat if item != ""]


def _layout(items: list[str | _Name]) -> tuple[Entry, ...] | None:
    """The messages ``split_messages`` makes of these pieces, or None if values decide.

    Values never hold a marker (they are scrubbed), so every marker is in the fixed text.
    None covers what only the values can settle (a name in a gap between blocks, where
    blank text is allowed, or in a role) and every split that is an error.
    """
    if not any(type(item) is str and _OPEN in item for item in items):
        return (_entry("user", items),)
    *blocks, tail = _split(items, _CLOSE)
    entries = []
    for piece in blocks:
        gap, block = _partition(piece, _OPEN)
        role_pieces, content = _partition(block, _SEP)
        if not _blank(gap) or any(type(p) is not str for p in role_pieces):
            return None
        role = "".join(role_pieces)  # type: ignore[arg-type]
        if role not in ROLES or any(type(p) is str and _OPEN in p for p in content):
            return None  # an unknown role or a nested block: the error is Jinja's route's
        entries.append(_entry(cast(Role, role), content))
    return tuple(entries) if _blank(tail) else None


def _entry(role: Role, pieces: list[str | _Name]) -> Entry:
    if all(type(piece) is str for piece in pieces):
        return Message(role, "".join(pieces).strip())  # type: ignore[arg-type]
    return (role, tuple(pieces))


def _split(items: list[str | _Name], marker: str) -> list[list[str | _Name]]:
    """``items`` cut at every ``marker`` in their text, as ``str.split`` cuts a string."""
    parts: list[list[str | _Name]] = [[]]
    for item in items:
        if type(item) is not str:
            parts[-1].append(item)
            continue
        first, *rest = item.split(marker)
        parts[-1].append(first)
        parts.extend([text] for text in rest)
    return [[item for item in part if item != ""] for part in parts]


def _partition(
    items: list[str | _Name], marker: str
) -> tuple[list[str | _Name], list[str | _Name]]:
    """The pieces before and after the first ``marker``, as ``str.partition`` splits."""
    for index, item in enumerate(items):
        if type(item) is str and marker in item:
            before, _, after = item.partition(marker)
            head = [*items[:index], before]
            tail = [after, *items[index + 1 :]]
            return [i for i in head if i != ""], [i for i in tail if i != ""]
    return items, []


def _blank(items: list[str | _Name]) -> bool:
    """True when these pieces are fixed text that is empty or only whitespace."""
    if any(type(item) is not str for item in items):
        return False
    text = "".join(items)  # type: ignore[arg-type]
    return not text or text.isspace()
