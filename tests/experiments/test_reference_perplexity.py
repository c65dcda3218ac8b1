"""ReferencePerplexity in experiments: YAML spec, the cell's provider, notes that add up.

The fast tests run an experiment file against the loopback stub server (real ``openai``
SDK, ``/v1/completions`` with echo); one test runs the bundled model with the reference
answer scored given the rendered chat prompt.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from promptlab import Experiment, PerplexityResult, ReferencePerplexity, TaskSet, ZeroShot
from promptlab.errors import ConfigurationError
from promptlab.experiments.config import scorer_from_spec
from promptlab.experiments.scoring import Perplexity, score_result
from promptlab.experiments.tasks import Task
from promptlab.testing import FakeProvider
from promptlab.testing.stub_server import StubServer
from promptlab.testing.stub_text_completions import stub_token_logprob

DOCUMENTS = ["alpha beta gamma", "delta epsilon zeta eta"]


def read_cells(run_dir: Path) -> list[dict[str, Any]]:
    lines = (run_dir / "cells.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_the_spec_builds_the_scorer_and_checks_its_fields() -> None:
    scorer = scorer_from_spec(
        {"type": "reference_perplexity", "metric": "bits_per_byte", "context": "none"}
    )
    assert isinstance(scorer, ReferencePerplexity)
    assert (scorer.metric, scorer.context, scorer.binary) == ("bits_per_byte", "none", False)
    # The sampled-reply scorer keeps its own name and meaning.
    assert isinstance(scorer_from_spec("perplexity"), Perplexity)
    with pytest.raises(ConfigurationError, match="word_perplexity"):
        scorer_from_spec({"type": "reference_perplexity", "metric": "ppl"})
    with pytest.raises(ConfigurationError, match="'prompt'"):
        scorer_from_spec({"type": "reference_perplexity", "context": "document"})
    with pytest.raises(ConfigurationError, match="rolling=True"):
        scorer_from_spec({"type": "reference_perplexity", "stride": 8})


def test_an_experiment_file_scores_each_document_on_the_cells_provider(tmp_path: Path) -> None:
    tasks = tmp_path / "docs.jsonl"
    tasks.write_text(
        "".join(
            json.dumps({"id": f"d{i}", "question": "Summarise.", "document": d, "answer": "x"})
            + "\n"
            for i, d in enumerate(DOCUMENTS)
        )
    )
    with StubServer.in_thread() as srv:
        (tmp_path / "exp.yaml").write_text(
            f"""
tasks: {{path: docs.jsonl, input_fields: [question, document]}}
providers: {{stub: "openai-compatible:stub-model@{srv.base_url}"}}
scorers:
  - {{type: reference_perplexity, reference: document, context: none,
     metric: word_perplexity}}
arms: {{zs: {{strategy: zero_shot, params: {{max_tokens: 4}}}}}}
"""
        )
        experiment = Experiment.from_yaml(tmp_path / "exp.yaml")
        experiment.run(tmp_path / "run", cache=False, progress=False)
        paths = [r.endpoint for r in srv.stats.requests]
    assert paths.count("/v1/completions") == 2
    cells = sorted(read_cells(tmp_path / "run"), key=lambda c: c["task_id"])
    totals = []
    for cell, document in zip(cells, DOCUMENTS, strict=True):
        # The stub gives the first token no logprob; the others have stub_token_logprob.
        later = [" " + word for word in document.split()[1:]]
        nll = -math.fsum(stub_token_logprob(t) for t in later)
        words = len(document.split())
        assert cell["scores"]["reference_perplexity"] == pytest.approx(math.exp(nll / words))
        note = PerplexityResult.from_dict(cell["score_notes"]["reference_perplexity"])
        assert note.nll == pytest.approx(nll) and note.unscored_tokens == 1
        totals.append(note)
    corpus = PerplexityResult.total(totals)
    assert (corpus.words, corpus.texts) == (7, 2)
    assert corpus.word_perplexity == pytest.approx(math.exp(corpus.nll / 7))


def test_a_chat_only_provider_leaves_the_score_nan_with_the_reason(tmp_path: Path) -> None:
    run = tmp_path / "run"
    Experiment(
        arms={"zs": ZeroShot()},
        providers={"fake": FakeProvider(["4"], cycle=True)},
        tasks=TaskSet.from_records([{"question": "2+2?", "answer": "4"}]),
        scorers=["exact", {"type": "reference_perplexity"}],
    ).run(run, cache=False, progress=False)
    (cell,) = read_cells(run)
    assert cell["error"] is None and cell["scores"]["exact"] == 1.0
    assert cell["scores"]["reference_perplexity"] is None  # NaN, written as null
    assert (
        "does not support the parameter 'prompt_logprobs'"
        in (cell["score_notes"]["reference_perplexity"])
    )


async def test_without_a_provider_or_a_stored_prompt_the_score_is_nan_with_a_note() -> None:
    task = Task("t", {"question": "2+2?"}, expected="4")
    result = await ZeroShot().arun(task.inputs, FakeProvider(["4"]))
    scorer = ReferencePerplexity()
    # Rescoring stored cells passes no provider: the scorer says what to do.
    scores, notes = await score_result([scorer], task, result)
    assert math.isnan(scores["reference_perplexity"]) and "--fresh" in notes["reference_perplexity"]
    listed = Task("t", {"question": "q"}, expected=["4", "four"])
    score = await scorer.score_with_provider(listed, result, FakeProvider(["x"]))
    assert math.isnan(score.value) and "no reference text" in score.note


@pytest.mark.local_model
async def test_the_reference_answer_is_scored_given_the_rendered_prompt_on_the_real_model(
    local_provider: Any, tmp_path: Path
) -> None:
    tasks = TaskSet.from_records(
        [
            {"question": "What is the capital of France?", "answer": "Paris"},
            {"question": "What colour is the sky on a clear day?", "answer": "Blue"},
        ]
    )
    strategy = ZeroShot(params={"max_tokens": 2, "temperature": 0})
    experiment = Experiment(
        arms={"zs": strategy},
        providers={"local": local_provider},
        tasks=tasks,
        scorers=[ReferencePerplexity(metric="token_perplexity")],
    )
    await experiment.arun(tmp_path / "run", cache=False, progress=False)
    cells = {c["task_id"]: c for c in read_cells(tmp_path / "run")}
    for task in tasks:
        expected = await local_provider.prompt_logprobs(
            (strategy.render(task.inputs), task.expected)
        )
        value = cells[task.id]["scores"]["reference_perplexity"]
        assert value == pytest.approx(expected.result().token_perplexity, rel=1e-9)
        assert math.isfinite(value) and value > 1.0
