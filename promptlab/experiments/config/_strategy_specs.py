"""Build strategies from experiment-file specs: plain dicts, nested through ``base``.

A spec names its ``strategy`` and the settings that strategy takes::

    zero_shot         template, extractor, system, answer_format, params
    few_shot          + examples (required), k, selection, seed (examples may also be
                        a mapping with its own k, select: similar, mmr... : see
                        promptlab.experiments.config._example_specs)
    chain_of_thought  + base
    self_consistency  base (required), n, temperature, stopping, batch_size, params
    rag               retriever (required; see promptlab.experiments.config._retriever_specs),
                      base (zero_shot when left out), k, query, template, params

``params`` at the top of an arm is the arm layer of generation parameters. Inside a
``base`` it is that strategy's defaults. Problems raise :class:`SpecError`, which
carries the key path. :mod:`promptlab.experiments.config` adds the file name
and line to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from promptlab.answers import (
    EXTRACTOR_KINDS,
    AnswerExtractor,
    ChoiceAnswer,
    RegexAnswer,
    as_extractor,
)
from promptlab.errors import ConfigurationError, DataError, ParameterError, TemplateError
from promptlab.experiments.arm import ArmSpec
from promptlab.experiments.config._example_specs import few_shot_options
from promptlab.experiments.config._retriever_specs import retriever_from_spec
from promptlab.experiments.config._spec_checks import (
    Path_,
    SpecError,
    SpecReader as _Getter,
    check_keys,
    expect_mapping,
)
from promptlab.params import GenerationParams
from promptlab.strategies import (
    RAG,
    ChainOfThought,
    FewShot,
    SelfConsistency,
    Strategy,
    ZeroShot,
)
from promptlab.templating import PromptTemplate, TemplateLibrary

_COMMON = frozenset({"strategy", "template", "extractor", "system", "answer_format", "params"})
STRATEGY_KEYS: dict[str, frozenset[str]] = {
    "zero_shot": _COMMON,
    "few_shot": _COMMON | {"examples", "k", "selection", "seed"},
    "chain_of_thought": _COMMON | {"base"},
    "self_consistency": frozenset(
        {"strategy", "base", "n", "temperature", "stopping", "batch_size", "params"}
    ),
    "rag": frozenset({"strategy", "base", "retriever", "k", "query", "template", "params"}),
}
_REQUIRED = {"few_shot": ("examples",), "self_consistency": ("base",), "rag": ("retriever",)}
_ALIASES = {"cot": "chain_of_thought", "sc": "self_consistency"}
_EXTRACTOR_KINDS = tuple(EXTRACTOR_KINDS)


def build_arm(spec: Any, path: Path_, folder: Path, library: TemplateLibrary | None) -> ArmSpec:
    """An :class:`ArmSpec` from an arm's spec; its ``params`` become the arm layer."""
    mapping = expect_mapping(spec, path, "a strategy spec such as {strategy: zero_shot}")
    arm_params = build_params(mapping.get("params"), (*path, "params"))
    strategy = build_strategy(mapping, path, folder, library, defaults_allowed=False)
    return ArmSpec(strategy, arm_params)


def build_strategy(
    spec: Any,
    path: Path_,
    folder: Path,
    library: TemplateLibrary | None,
    *,
    defaults_allowed: bool = True,
) -> Strategy:
    """A strategy from its spec (recursively through ``base``)."""
    mapping = expect_mapping(spec, path, "a strategy spec such as {strategy: zero_shot}")
    kind = _kind(mapping, path)
    check_keys(mapping, STRATEGY_KEYS[kind], _REQUIRED.get(kind, ()), path, f"strategy {kind}")
    get = _Getter(mapping, path)
    try:
        if kind == "self_consistency":
            if defaults_allowed and "params" in mapping:
                raise SpecError(
                    (*path, "params"),
                    "a nested self_consistency takes no params; put them on its base.",
                )
            base = build_strategy(mapping["base"], (*path, "base"), folder, library)
            options: dict[str, Any] = {"n": get.integer("n", 1, 10)}
            options["temperature"] = get.number("temperature", 0.0, 0.7)
            options["batch_size"] = get.integer("batch_size", 1, 2)
            if "stopping" in mapping:
                options["stopping"] = _stopping(mapping["stopping"], (*path, "stopping"))
            return SelfConsistency(base, **options)
        if kind == "rag":
            return _rag(mapping, path, folder, library, defaults_allowed=defaults_allowed)
        common: dict[str, Any] = {
            "extractor": _extractor(mapping.get("extractor"), (*path, "extractor")),
            "system": get.string("system"),
            "answer_format": get.string("answer_format"),
        }
        if "template" in mapping:
            common["template"] = _template(get.string("template"), path, folder, library)
        if defaults_allowed:
            common["params"] = build_params(mapping.get("params"), (*path, "params"))
        if "extractor" not in mapping:
            del common["extractor"]  # ChainOfThought then takes its base's extractor
        if kind == "zero_shot":
            return ZeroShot(**common)
        if kind == "few_shot":
            return FewShot(**few_shot_options(mapping, path, folder), **common)
        base_strategy = None
        if "base" in mapping:
            base_strategy = build_strategy(mapping["base"], (*path, "base"), folder, library)
        return ChainOfThought(base_strategy, **common)
    except SpecError:
        raise
    except (ConfigurationError, DataError, TemplateError) as exc:
        raise SpecError(path, str(exc)) from exc


def _rag(
    mapping: Mapping[str, Any],
    path: Path_,
    folder: Path,
    library: TemplateLibrary | None,
    *,
    defaults_allowed: bool,
) -> Strategy:
    if defaults_allowed and "params" in mapping:
        raise SpecError((*path, "params"), "a nested rag takes no params; put them on its base.")
    get = _Getter(mapping, path)
    base_spec = mapping.get("base", {"strategy": "zero_shot"})
    base = build_strategy(base_spec, (*path, "base"), folder, library)
    retriever = retriever_from_spec(mapping["retriever"], (*path, "retriever"), folder)
    options: dict[str, Any] = {"k": get.integer("k", 1, None)}  # None: the retriever's k
    if "query" in mapping:
        options["query"] = get.string("query")
    if "template" in mapping:
        options["template"] = _template(get.string("template"), path, folder, library)
    return RAG(base, retriever, **options)


def build_params(value: Any, path: Path_) -> GenerationParams:
    """Generation parameters, each checked on its own so errors name the key."""
    if value is None:
        return GenerationParams()
    mapping = expect_mapping(value, path, "a mapping of generation parameters")
    for key, item in mapping.items():
        if key not in GenerationParams.model_fields:
            known = ", ".join(GenerationParams.model_fields)
            raise SpecError((*path, str(key)), f"unknown generation parameter; known: {known}.")
        try:
            GenerationParams(**{key: item})
        except ParameterError as exc:
            raise SpecError((*path, key), str(exc)) from None
    return GenerationParams(**mapping)


def _kind(mapping: Mapping[str, Any], path: Path_) -> str:
    if "strategy" not in mapping:
        raise SpecError(
            (*path, "strategy"),
            f"missing required key; name the strategy, one of {', '.join(STRATEGY_KEYS)}.",
        )
    raw = mapping["strategy"]
    kind = _ALIASES.get(str(raw).strip().lower(), str(raw).strip().lower()).replace("-", "_")
    if not isinstance(raw, str) or kind not in STRATEGY_KEYS:
        raise SpecError(
            (*path, "strategy"),
            f"unknown strategy {raw!r}; expected one of {', '.join(STRATEGY_KEYS)}.",
        )
    return kind


def _extractor(value: Any, path: Path_) -> AnswerExtractor | None:
    if value is None:
        return None
    if isinstance(value, str):
        if value not in _EXTRACTOR_KINDS:
            raise SpecError(
                path,
                f"unknown extractor {value!r}; expected one of {', '.join(_EXTRACTOR_KINDS)}, "
                "or {type: regex, pattern: ...} / {type: choice, letters: ABCDE}.",
            )
        return as_extractor(value)
    mapping = expect_mapping(value, path, "an extractor name or {type: ..., ...}")
    kind = mapping.get("type")
    if kind == "regex":
        check_keys(mapping, {"type", "pattern", "group"}, ("pattern",), path, "a regex extractor")
        try:
            return RegexAnswer(str(mapping["pattern"]), group=mapping.get("group"))
        except Exception as exc:  # re.error and friends
            raise SpecError((*path, "pattern"), f"not a valid regular expression: {exc}.") from None
    if kind == "choice":
        check_keys(mapping, {"type", "letters"}, (), path, "a choice extractor")
        return ChoiceAnswer(str(mapping.get("letters", "ABCD")))
    if kind in _EXTRACTOR_KINDS:
        check_keys(mapping, {"type"}, (), path, f"a {kind} extractor")
        return as_extractor(kind)
    raise SpecError((*path, "type"), f"expected one of regex, {', '.join(_EXTRACTOR_KINDS)}.")


def _template(
    value: str | None, path: Path_, folder: Path, library: TemplateLibrary | None
) -> PromptTemplate:
    if not value:
        raise SpecError((*path, "template"), "expected a template name, file or Jinja source.")
    if value.endswith(".jinja") and "\n" not in value and "{" not in value:
        file = folder / value
        if file.is_file():
            return PromptTemplate(file.read_text(encoding="utf-8"), name=file.stem, library=library)
    try:
        return PromptTemplate.coerce(value, library=library)
    except TemplateError as exc:
        raise SpecError((*path, "template"), str(exc)) from None


def _stopping(value: Any, path: Path_) -> Any:
    from promptlab.strategies.stopping import (
        AnyStop,
        BetaStop,
        DirichletStop,
        FinalVoteStop,
        FixedN,
        PredictiveStop,
        UnbeatableStop,
        WindowStop,
    )

    rules: dict[str, Any] = {
        "beta": BetaStop,
        "dirichlet": DirichletStop,
        "window": WindowStop,
        "fixed": FixedN,
        "unbeatable": UnbeatableStop,
        "predictive": PredictiveStop,
        "final_vote": FinalVoteStop,
        "any": AnyStop,
    }
    options: dict[str, Any] = {}
    if isinstance(value, Mapping):
        options = {k: v for k, v in value.items() if k != "rule"}
        value = value.get("rule")
    if not isinstance(value, str) or value not in rules:
        raise SpecError(
            path,
            f"expected a stopping rule: one of {', '.join(rules)} (or "
            "{rule: beta, threshold: 0.95} / {rule: window, window: 4} / "
            "{rule: any, rules: [unbeatable, {rule: beta, threshold: 0.95}]}).",
        )
    if value == "any":
        inner = options.pop("rules", None)
        if not isinstance(inner, list) or not inner or options:
            raise SpecError(
                path,
                "the any rule takes one key, rules: a non-empty list of stopping rules, "
                "e.g. {rule: any, rules: [unbeatable, {rule: beta, threshold: 0.95}]}.",
            )
        return AnyStop(*(_stopping(item, (*path, "rules", i)) for i, item in enumerate(inner)))
    try:
        return rules[value](**options)
    except TypeError as exc:
        raise SpecError(path, f"bad options for the {value} rule: {exc}.") from None
    except ConfigurationError as exc:
        raise SpecError(path, str(exc)) from None
