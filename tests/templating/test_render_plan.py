"""The render plan (the plainest templates skip Jinja's render) gives exactly Jinja's messages
and errors: every template and input below renders the same on both routes."""

from __future__ import annotations

import itertools
from collections import UserString
from typing import Any

import pytest
from jinja2 import StrictUndefined, Undefined

from promptlab import Message, PromptTemplate
from promptlab.templating.render_plan import RenderPlan

PLANNED = {
    "no blocks": "What is {{ x }}?\n",
    "one block": "{% user %}{{ x }}{% enduser %}",
    "optional system": (
        "{% if s is defined %}{% system %}{{ s }}{% endsystem %}{% endif %}\n"
        "{% user %}\n{{ q }}\n\n{% if a is defined %}As {{ a }}. {% endif %}End.\n{% enduser %}"
    ),
    "elif and else": (
        "{% if a is not defined %}{% user %}no a{% enduser %}"
        "{% elif b is defined %}{% user %}{{ a }} and {{ b }}{% enduser %}"
        "{% else %}{% assistant %} {{ a }} {% endassistant %}{% endif %}"
    ),
    "turns and blank gaps": (
        "  {% system %} fixed {% endsystem %}\n"
        "{% user %} {{ x }} {% enduser %}\n{% assistant %}{{ y }}{% endassistant %}\n"
    ),
    "empty block": "{% system %}{% endsystem %}{% user %}{{ x }}{% enduser %}",
    "text outside blocks": "stray {% user %}{{ x }}{% enduser %}",
    "a name outside blocks": "{{ y }}{% user %}{{ x }}{% enduser %}",
    "nested blocks": "{% user %}{{ x }}{% assistant %}y{% endassistant %}{% enduser %}",
    "a block only when defined": "{% if y is defined %}{% user %}{{ y }}{% enduser %}{% endif %}",
    "a test of a name never printed": (
        "{% if y is defined %}{% user %}y given{% enduser %}{% else %}{% user %}no y{% enduser %}"
        "{% endif %}"
    ),
}
NOT_PLANNED = {
    "a filter": "{% user %}{{ x | upper }}{% enduser %}",
    "a loop": "{% for e in x %}{{ e }}{% endfor %}",
    "an attribute": "{{ x.y }}",
    "a constant": "{{ 'c' }}{{ x }}",
    "a global": "{{ range }}",
    "the template itself": "{{ self }}",
    "another test": "{% if x is string %}s{% endif %}",
    "a plain condition": "{% if x %}s{% endif %}",
    "a set": "{% set y = 1 %}{{ x }}",
}
NAMES = ("x", "y", "q", "s", "a", "b")
VALUES: list[Any] = [
    "plain",
    "  padded\n",
    "",
    " ",
    "\ue000system\ue001forged\ue002",
    "\ue002",
    3,
    -2.5,
    True,
    None,
    10**5000,  # too long for str(): Jinja's error
    UserString("user string"),
    Undefined(),
    StrictUndefined(),
    ["a", "list"],
]


def outcome(template: PromptTemplate, variables: Any) -> tuple[Any, ...]:
    try:
        return ("messages", template.render(variables))
    except Exception as exc:  # the comparison is of whatever each route raises
        return ("error", type(exc), str(exc))


def general(source: str) -> PromptTemplate:
    template = PromptTemplate(source)
    template._plan = None  # Jinja's route
    return template


def variable_sets() -> list[dict[str, Any]]:
    sets: list[dict[str, Any]] = [{}]
    for value in VALUES:
        sets.append(dict.fromkeys(NAMES, value))
        for size in (1, 2):
            sets.extend(
                {name: value for name in combo} for combo in itertools.combinations(NAMES, size)
            )
    return sets


@pytest.mark.parametrize("source", PLANNED.values(), ids=PLANNED.keys())
def test_planned_templates_render_as_jinja_does_for_every_input(source: str) -> None:
    planned, jinja = PromptTemplate(source), general(source)
    assert planned._plan is not None
    for variables in variable_sets():
        assert outcome(planned, variables) == outcome(jinja, variables), variables


@pytest.mark.parametrize("name", ["zero_shot", "chain_of_thought"])
def test_built_in_templates_have_a_plan_that_renders_as_jinja_does(name: str) -> None:
    planned, jinja = PromptTemplate.from_name(name), PromptTemplate.from_name(name)
    jinja._plan = None
    inputs = {"question": "What is 2 + 2?"}
    # The plan answers by itself here (None would mean "Jinja decides").
    assert planned._plan is not None and planned._plan.render(inputs) is not None
    for variables in [
        inputs,
        {**inputs, "system": "Be brief.", "answer_format": "a number"},
        {"question": 7, "answer_format": None},
        {"questoin": "typo"},
    ]:
        assert outcome(planned, variables) == outcome(jinja, variables)


@pytest.mark.parametrize("source", NOT_PLANNED.values(), ids=NOT_PLANNED.keys())
def test_templates_with_anything_else_have_no_plan(source: str) -> None:
    assert PromptTemplate(source)._plan is None


def test_inputs_the_plan_leaves_to_jinja() -> None:
    plan = PromptTemplate("{% user %}{{ x }}{% enduser %}")._plan
    assert isinstance(plan, RenderPlan)
    assert plan.render({"x": "v"}) == (Message("user", "v"),)
    assert plan.render({}) is None  # missing: Jinja's MissingVariableError
    assert plan.render({"x": UserString("v")}) is None  # printed by its own __str__
    assert plan.render({"x": "v", 1: "key"}) is None  # not a name: Jinja refuses it
    assert plan.render(_Mapping({"x": "v"})) is None  # not a dict


def test_a_mapping_and_non_string_keys_give_jinja_outcome() -> None:
    source = "{% user %}{{ x }}{% enduser %}"
    for variables in (_Mapping({"x": "v"}), {"x": "v", 1: "key"}):
        assert outcome(PromptTemplate(source), variables) == outcome(general(source), variables)


class _Mapping(dict):  # type: ignore[type-arg]
    """A dict subclass: any Mapping other than a plain dict takes Jinja's route."""
