"""Jinja templates that render to chat messages."""

from promptlab.templating.environment import builtin_template_dir
from promptlab.templating.template import PromptTemplate, TemplateLibrary

__all__ = ["PromptTemplate", "TemplateLibrary", "builtin_template_dir"]
