"""The ``context`` template variable: the passages a retrieval step found for a task.

:class:`~promptlab.strategies.rag.RAG` retrieves passages for each task and hands them to
the template as ``context``, a list of :class:`~promptlab.retrieval.Document` objects,
best first, each with ``id``, ``text``, ``score`` (``None`` when the retriever gives none)
and ``metadata``. A user template shows them however it likes::

    {% user %}
    {% for doc in context %}[{{ doc.id }}] {{ doc.text }}
    {% endfor %}
    Question: {{ question }}
    {% enduser %}

The built-in templates each have a context variant (``zero_shot`` ->
``zero_shot_context``...), chosen by :func:`context_template` when a strategy that uses a
built-in template is wrapped in RAG. ``context`` can be an empty list, when the retriever
found nothing; the built-in variants then show the question alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from promptlab.errors import ConfigurationError
from promptlab.retrieval import Document
from promptlab.templating.template import PromptTemplate, default_library

#: The template variable holding the retrieved passages.
CONTEXT_VARIABLE = "context"

#: Each built-in template and its variant that shows the retrieved passages.
CONTEXT_VARIANTS = {
    "zero_shot": "zero_shot_context",
    "chain_of_thought": "chain_of_thought_context",
    "few_shot": "few_shot_context",
    "chain_of_thought_few_shot": "chain_of_thought_few_shot_context",
}


def uses_context(template: PromptTemplate) -> bool:
    """True when ``template`` shows the ``context`` variable (or is a built-in context variant)."""
    return CONTEXT_VARIABLE in template.variables or template.name in CONTEXT_VARIANTS.values()


def context_template(template: PromptTemplate) -> PromptTemplate:
    """The template to render when retrieved passages are shown.

    A template that already uses ``context`` is kept. A built-in template (by name and
    unchanged source) becomes its context variant, found in the same library (so a
    template folder may override the variant too).

    Raises:
        ConfigurationError: A user template that never mentions ``context``: the passages
            would be retrieved and then silently left out of the prompt.
    """
    if uses_context(template):
        return template
    variant = CONTEXT_VARIANTS.get(template.name)
    if variant is not None and _is_builtin(template):
        return template.library.get(variant)
    raise ConfigurationError(
        f"The template {template.name!r} does not use the variable {CONTEXT_VARIABLE!r}, so "
        "the retrieved passages would never reach the model. Show them in the template, "
        "e.g. {% for doc in context %}{{ doc.text }}\n{% endfor %}, or use a built-in "
        f"template ({', '.join(CONTEXT_VARIANTS)}), which has a context variant."
    )


def retrieved_passages(variables: Mapping[str, Any]) -> tuple[Document, ...]:
    """The retrieved documents among a template's variables (``context``)."""
    passages = variables.get(CONTEXT_VARIABLE)
    if not isinstance(passages, (list, tuple)):
        return ()
    return tuple(doc for doc in passages if isinstance(doc, Document))


def request_key_part(passages: tuple[Document, ...]) -> tuple[tuple[str, float | None], ...]:
    """``(id, score)`` of each passage: what a request's cache key holds about them."""
    return tuple((doc.id, doc.score) for doc in passages)


def _is_builtin(template: PromptTemplate) -> bool:
    # By source, not name alone: a template folder may hold its own "zero_shot".
    return default_library().get(template.name).source == template.source
