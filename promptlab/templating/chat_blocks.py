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

Under the hood each block wraps its rendered body in private-use Unicode markers, which
:func:`split_messages` turns back into messages. Variable values are scrubbed of those
markers, so inputs cannot forge extra turns.
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
_BLOCK = re.compile(f"{_OPEN}(\\w+){_SEP}(.*?){_CLOSE}", re.DOTALL)


class _MarkedTurn(str):
    """A rendered block; passes through :func:`scrub_markers` untouched."""


class ChatBlockExtension(Extension):
    """Jinja extension adding the ``system`` / ``user`` / ``assistant`` block tags."""

    tags = set(ROLES)  # noqa: RUF012 - Jinja's Extension declares tags this way

    def parse(self, parser: Parser) -> nodes.Node:
        token = next(parser.stream)
        role = token.value
        body = parser.parse_statements((f"name:end{role}",), drop_needle=True)
        call = self.call_method("_turn", [nodes.Const(role)])
        return nodes.CallBlock(call, [], [], body).set_lineno(token.lineno)

    def _turn(self, role: str, caller: Any) -> str:
        content = caller()
        if _OPEN in content:
            raise TemplateError(
                f"A {{% {role} %}} block contains another message block; "
                "message blocks cannot be nested."
            )
        return _MarkedTurn(f"{_OPEN}{role}{_SEP}{content}{_CLOSE}")


def scrub_markers(value: Any) -> Any:
    """Jinja ``finalize`` hook: strip marker characters from every printed value."""
    if isinstance(value, str) and not isinstance(value, _MarkedTurn):
        return _MARKERS.sub("", value)
    return value


def split_messages(rendered: str, template_name: str) -> tuple[Message, ...]:
    """Turn a rendered template into messages (see the module docstring for the rules)."""
    if _OPEN not in rendered:
        return (Message("user", rendered.strip()),)
    messages = []
    position = 0
    for match in _BLOCK.finditer(rendered):
        _check_gap(rendered[position : match.start()], template_name)
        messages.append(Message(match.group(1), match.group(2).strip()))  # type: ignore[arg-type]
        position = match.end()
    _check_gap(rendered[position:], template_name)
    return tuple(messages)


def _check_gap(text: str, template_name: str) -> None:
    if text.strip():
        snippet = text.strip()[:60]
        raise TemplateError(
            f"Template {template_name!r} has text outside a message block: {snippet!r}. "
            "Put it inside {% system %}, {% user %} or {% assistant %}, or use no blocks "
            "at all to send the whole template as one user message."
        )
