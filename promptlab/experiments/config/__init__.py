"""YAML to objects: experiment files, strategy, retriever and scorer specs.

Every problem raises :class:`~promptlab.errors.ConfigurationError` naming the file, the
line and the key path (``arms.cot.params.temperature``). ``Experiment.from_yaml`` and
``Experiment(scorers=[...])`` are the public ways in.
"""

from promptlab.experiments.config._experiment_file import load_experiment
from promptlab.experiments.config._retriever_specs import retriever_from_spec
from promptlab.experiments.config._scorer_specs import SCORER_TYPES, scorer_from_spec
from promptlab.experiments.config._strategy_specs import (
    STRATEGY_KEYS,
    SpecError,
    build_arm,
    build_params,
    build_strategy,
)

__all__ = [
    "SCORER_TYPES",
    "STRATEGY_KEYS",
    "SpecError",
    "build_arm",
    "build_params",
    "build_strategy",
    "load_experiment",
    "retriever_from_spec",
    "scorer_from_spec",
]
