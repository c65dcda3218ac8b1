"""Runs written from the hand-made records of ``run_fixtures``, shared by the view tests."""

from __future__ import annotations

import pytest

from promptlab.experiments.analysis import Run
from tests.experiments.run_fixtures import (
    lopsided_run,
    main_experiment,
    main_records,
    sc_records,
    write_run,
)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The main run (two providers, ``plain`` and ``cot``) plus a self-consistency arm."""
    directory = tmp_path_factory.mktemp("main") / "run"
    return Run.load(write_run(directory, main_records() + sc_records(), main_experiment()))


@pytest.fixture(scope="module")
def lopsided(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Three arms on one provider, every pair different after Holm (see ``lopsided_run``)."""
    return Run.load(lopsided_run(tmp_path_factory.mktemp("lopsided") / "run"))
