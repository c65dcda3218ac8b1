"""What ``import promptlab; promptlab.ZeroShot`` loads: Jinja, and none of the heavy
libraries that only other features need (issue 13). Timing is in ``bench/imports.py``;
these tests check which modules end up in ``sys.modules``, in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Loaded only by the features that need them: vector search and analysis (NumPy, SciPy,
# pandas), vendor providers (SDKs, httpx, tenacity), parameter coercion (pydantic), and
# running a request (asyncio).
NOT_FOR_A_STRATEGY = (
    "numpy",
    "scipy",
    "pandas",
    "matplotlib",
    "openai",
    "anthropic",
    "langchain_core",
    "httpx",
    "tenacity",
    "pydantic",
    "asyncio",
)


def printed_by(code: str) -> str:
    """What ``code`` prints, run in a new interpreter from the repository's root."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return done.stdout


def json_printed_by(code: str) -> Any:
    """The JSON value on the last line ``code`` prints in a new interpreter."""
    return json.loads(printed_by(code).strip().splitlines()[-1])


def loaded_after(statement: str) -> list[str]:
    """The modules of ``NOT_FOR_A_STRATEGY`` that ``statement`` loads in a new interpreter."""
    code = (
        f"import json, sys\n{statement}\n"
        f"print(json.dumps([m for m in {NOT_FOR_A_STRATEGY!r} if m in sys.modules]))"
    )
    loaded: list[str] = json_printed_by(code)
    return loaded


@pytest.mark.parametrize(
    "statement",
    [
        "import promptlab; promptlab.ZeroShot",
        "import promptlab; promptlab.ChainOfThought; promptlab.FewShot; promptlab.RAG",
        "import promptlab; promptlab.ZeroShot().render({'question': 'What is 2 + 2?'})",
    ],
)
def test_defining_and_rendering_a_strategy_loads_no_heavy_library(statement):
    assert loaded_after(statement) == []


def test_jinja_is_the_one_library_a_render_needs():
    code = (
        "import sys, promptlab\n"
        "messages = promptlab.ZeroShot().render({'question': 'What is 2 + 2?'})\n"
        "print(messages[0].content.splitlines()[0], 'jinja2' in sys.modules)"
    )
    assert printed_by(code).split() == ["What", "is", "2", "+", "2?", "True"]


def test_features_that_need_a_library_still_load_it_on_first_use():
    # Deferred, not dropped: the lazy names resolve to the real classes.
    statement = (
        "import promptlab\n"
        "from promptlab.retrieval import EmbeddingRetriever\n"
        "promptlab.SimilarExamples\n"
        "promptlab.GenerationParams(temperature='0.5')"
    )
    loaded = loaded_after(statement)
    assert "numpy" in loaded and "pydantic" in loaded


def test_a_run_and_its_analysis_package_load_no_scipy_until_a_statistic_is_asked_for():
    # Experiment.run returns a Run; building one (a cached re-run, a resume) must not pay
    # for SciPy and statsmodels, which only the statistics use.
    code = (
        "import json, sys\n"
        "import promptlab.experiments.experiment, promptlab.experiments.analysis\n"
        "before = [m for m in ('scipy', 'statsmodels') if m in sys.modules]\n"
        "from promptlab.experiments.stats import wilson_interval\n"
        "low, high = wilson_interval(3, 10)\n"
        "print(json.dumps([before, 'statsmodels' in sys.modules, round(low, 4)]))"
    )
    before, loaded_on_use, low = json_printed_by(code)
    assert before == [] and loaded_on_use and low == pytest.approx(0.1078, abs=1e-4)


def test_the_run_an_experiment_returns_loads_no_pandas_until_it_is_asked_for_data(tmp_path):
    # Experiment.run ends by building a Run (issue 11): resuming a finished run, or listing
    # one, must not pay for importing pandas, which only the cells table needs.
    from promptlab.experiments.store import CELLS_FILE, CellRecord

    record = CellRecord("t1", "a", "p", "m", 0, outputs=["4"], answers=["4"], answer="4")
    (tmp_path / CELLS_FILE).write_text(record.to_json() + "\n", encoding="utf-8")
    code = (
        "import json, sys\n"
        "from promptlab.experiments.analysis import Run\n"
        f"run = Run.load({str(tmp_path)!r})\n"
        "before = [m for m in ('pandas', 'numpy') if m in sys.modules]\n"
        "answers = run.cells['answer'].tolist()\n"
        "print(json.dumps([before, 'pandas' in sys.modules, answers]))"
    )
    before, loaded_on_use, answers = json_printed_by(code)
    assert before == [] and loaded_on_use and answers == ["4"]


def test_every_name_of_the_analysis_package_resolves_to_its_module():
    # The package imports Run at once and the other names on first use (see its __init__).
    import promptlab.experiments.analysis as analysis

    for name in analysis.__all__:
        value = getattr(analysis, name)
        assert getattr(value, "__module__", analysis.__name__).startswith(analysis.__name__)
    with pytest.raises(
        AttributeError, match=r"^No promptlab\.experiments\.analysis attribute Nope$"
    ):
        analysis.Nope  # noqa: B018
