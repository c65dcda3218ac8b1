"""Includes resolved at compile time render exactly as Jinja's own include would."""

import pytest

from promptlab import Message, PromptTemplate, TemplateError, TemplateLibrary
from promptlab.templating.chat_blocks import split_messages


@pytest.fixture
def library(tmp_path):
    (tmp_path / "footer.jinja").write_text(
        "{% if tone is defined %}Tone: {{ tone }}. {% endif %}Reply with {{ unit }}."
    )
    (tmp_path / "sets.jinja").write_text("{% set unit = 'inches' %}Use {{ unit }}.")
    (tmp_path / "nested.jinja").write_text("Nested: {% include 'footer.jinja' %}")
    return TemplateLibrary([tmp_path])


def jinja_render(template: PromptTemplate, inputs: dict) -> tuple[Message, ...]:
    """The same source compiled the ordinary way, with runtime includes."""
    plain = template.library.environment.from_string(template.source)
    return split_messages(plain.render(inputs), template.name)


@pytest.mark.parametrize(
    "source",
    [
        "{% user %}Q: {{ q }} {% include 'footer.jinja' %}{% enduser %}",
        "{% for x in xs %}{% user %}{{ x }} {% include 'nested.jinja' %}{% enduser %}{% endfor %}",
        "{% user %}{% include 'sets.jinja' %} Then {{ unit }}.{% enduser %}",
    ],
)
@pytest.mark.parametrize("tone", [None, "dry"])
def test_renders_like_a_runtime_include(library, source, tone):
    template = PromptTemplate(source, library=library)
    inputs = {"q": "why?", "unit": "cm", "xs": ["a", "b"]}
    if tone:
        inputs["tone"] = tone
    assert template.render(inputs) == jinja_render(template, inputs)


def test_a_set_inside_an_included_template_does_not_leak(library):
    template = PromptTemplate(
        "{% user %}{% include 'sets.jinja' %} Then {{ unit }}.{% enduser %}", library=library
    )
    assert template.render({"unit": "cm"})[0].content == "Use inches. Then cm."


def test_variables_are_the_including_templates_own(library):
    template = PromptTemplate(
        "{% user %}{{ q }} {% include 'footer.jinja' %}{% enduser %}", library=library
    )
    assert template.variables == {"q"}


def test_a_missing_include_still_fails_when_rendering_not_when_built(library):
    template = PromptTemplate(
        "{% user %}{% include 'nowhere.jinja' %}{% enduser %}", library=library
    )
    with pytest.raises(TemplateError, match="nowhere"):
        template.render({})
