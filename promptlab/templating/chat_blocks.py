"""The chat syntax: ``{% system %}``, ``{% user %}`` and ``{% assistant %}`` blocks.

A template marks each turn with a block::

    {% system %}You are a careful tutor.{% endsystem %}
    {% for ex in examples %}
    {% user %}{{ ex.question }}{% enduser %}
    {% assistant %}{{ ex.answer }}{% endassistant %}
    {% endfor %}
    {% user %}{{ question }}{% enduser %}

Each block renders to one :class:`~promptlab.messages.Message`; its content is stripped
of surrounding whitespace. A template with no blocks at all renders to a single user
message. Text outside the blocks, other than whitespace, is an error, as are nested blocks.

Under the hood each block compiles to its body between private-use Unicode markers, which
:func:`split_messages` turns back into messages. Every printed value is scrubbed of those
markers after it is turned into text (a ``str``, a ``UserString``, any object whose
``__str__`` prints them), so inputs cannot forge extra turns.
"""

from __future__ import annotations

import re
from typing import Any

from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.parser import Parser

from promptlab.errors import TemplateError
from promptlab.messages import ROLES, Message

_OPEN, _SEP, _CLOSE = "\ue000", "\ue001", "\ue002"
_MARKERS = re.compile(f"[{_OPEN}{_SEP}{_CLOSE}]")


class ChatBlockExtension(Extension):
    """Jinja extension adding the ``system`` / ``user`` / ``assistant`` block tags."""

    tags = set(ROLES)  # noqa: RUF012 - Jinja's Extension declares tags this way

    def parse(self, parser: Parser) -> list[nodes.Node]:
        token = next(parser.stream)
        role = token.value
        body = parser.parse_statements((f"name:end{role}",), drop_needle=True)
        # The markers are emitted as template data, inline, rather than by calling a
        # Python method with the body as a caller macro: that would cost a macro object,
        # a sandboxed call and a string copy per block on every render. Template data is
        # never passed through `finalize`, so the markers survive `scrub_markers`.
        opening = nodes.Output([nodes.TemplateData(f"{_OPEN}{role}{_SEP}")])
        closing = nodes.Output([nodes.TemplateData(_CLOSE)])
        return [
            opening.set_lineno(token.lineno),
            *body,
            closing.set_lineno(parser.stream.current.lineno),
        ]


# Values whose text cannot hold a marker, whatever they hold: printed as they are.
_PLAIN_TYPES = frozenset({int, float, bool, type(None)})


def scrub_markers(value: Any) -> Any:
    """Jinja ``finalize`` hook: strip marker characters from every printed value.

    The value is turned into text first, as Jinja would print it: a ``UserString``, a
    ``str`` subclass or any object can print the markers from ``__str__``.
    """
    kind = type(value)
    if kind is not str:
        if kind in _PLAIN_TYPES:
            return value
        value = str(value)
    # Three substring tests are ~100x cheaper than a regex pass on long values, and
    # values almost never hold a marker.
    if _OPEN in value or _SEP in value or _CLOSE in value:
        return _MARKERS.sub("", value)
    return value


def split_messages(rendered: str, template_name: str) -> tuple[Message, ...]:
    """Turn a rendered template into messages (see the module docstring for the rules)."""
    if _OPEN not in rendered:
        return (Message("user", rendered.strip()),)
    # Every block ends with a close marker, so splitting on it leaves one piece per block
    # (gap before it, open marker, role, separator, content) and the trailing gap. Plain
    # string operations, as this runs on every render.
    *blocks, tail = rendered.split(_CLOSE)
    messages = []
    for piece in blocks:
        gap, _, block = piece.partition(_OPEN)
        _check_gap(gap, template_name)
        role, _, content = block.partition(_SEP)
        if _OPEN in content:
            raise TemplateError(
                f"A {{% {role} %}} block in template {template_name!r} contains another "
                "message block; message blocks cannot be nested."
            )
        messages.append(Message(role, content.strip()))  # type: ignore[arg-type]
    _check_gap(tail, template_name)
    return tuple(messages)


def _check_gap(text: str, template_name: str) -> None:
    if text and not text.isspace():
        snippet = text.strip()[:60]
        raise TemplateError(
            f"Template {template_name!r} has text outside a message block: {snippet!r}. "
            "Put it inside {% system %}, {% user %} or {% assistant %}, or use no blocks "
            "at all to send the whole template as one user message."
        )
