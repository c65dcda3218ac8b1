"""Jinja templates that render to chat messages."""

from promptlab.templating.environment import TemplateLibrary, builtin_template_dir
from promptlab.templating.template import PromptTemplate

__all__ = ["PromptTemplate", "TemplateLibrary", "builtin_template_dir"]
