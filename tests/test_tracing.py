"""OpenTelemetry tracing: spans per experiment, cell and provider call, read back in memory."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from promptlab import tracing
from promptlab.completion import CompletionRequest
from promptlab.experiments.experiment import Experiment
from promptlab.messages import Message
from promptlab.params import GenerationParams
from promptlab.strategies import ChainOfThought, SelfConsistency, ZeroShot
from promptlab.testing import FakeProvider

SECRET = "sk-never-in-a-span-0123456789"


@pytest.fixture
def exporter(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """An SDK tracer provider with an in-memory exporter, for this test only."""
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    # The API allows setting the global provider once per process: patch it instead.
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    yield memory
    tracing.capture_content(None)
    provider.shutdown()


def by_name(spans: Any, prefix: str) -> list[Any]:
    return [s for s in spans if s.name.startswith(prefix)]


def test_no_sdk_means_no_span_and_no_cost() -> None:
    # The default global provider is the API's proxy: nothing is recorded.
    with tracing.span("x", lambda: pytest.fail("attributes built without tracing")) as current:
        assert current is None


def run_script(body: str) -> list[str]:
    """Run a script in a fresh interpreter (the global tracer provider is set once per
    process) after a first untraced ZeroShot run; return its printed lines."""
    prelude = """
        from opentelemetry import trace
        from promptlab import ZeroShot, tracing
        from promptlab.testing import FakeProvider

        fake = FakeProvider(["Answer: 4"], cycle=True)
        strategy = ZeroShot(extractor="numeric")
        for _ in range(3):
            strategy.run({"question": "2 + 2?"}, fake)
        print(tracing.active())
    """
    script = textwrap.dedent(prelude) + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_a_tracer_provider_set_after_first_use_records_spans() -> None:
    lines = run_script(
        """
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
            InMemorySpanExporter,
        )

        memory = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(memory))
        trace.set_tracer_provider(provider)
        print(tracing.active())
        strategy.run({"question": "2 + 2?"}, fake)
        print(*[span.name for span in memory.get_finished_spans()])
        """
    )
    assert lines == ["False", "True", "chat fake-model"]


def test_a_tracer_provider_named_in_the_environment_after_first_use_is_used() -> None:
    lines = run_script(
        """
        import os

        os.environ["OTEL_PYTHON_TRACER_PROVIDER"] = "sdk_tracer_provider"
        print(tracing.active())
        print(type(trace.get_tracer_provider()).__module__)
        """
    )
    assert lines == ["False", "True", "opentelemetry.sdk.trace"]


def test_a_replaced_provider_getter_is_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not tracing.active()
    monkeypatch.setattr(trace, "get_tracer_provider", TracerProvider)
    assert tracing.active()
    monkeypatch.undo()
    assert not tracing.active()


def test_provider_call_span_has_genai_attributes(exporter: InMemorySpanExporter) -> None:
    fake = FakeProvider(["Answer: 42", "Answer: 41"], model="fake-7b", cost_per_call=0.5)
    params = GenerationParams(temperature=0.3, max_tokens=20, seed=5, n=2, stop=["\n\n"])
    request = CompletionRequest.of([Message("user", "What is 6*7?")], params)
    fake.complete_sync(request)
    (span,) = exporter.get_finished_spans()
    assert span.name == "chat fake-7b"
    assert span.kind == trace.SpanKind.CLIENT
    attributes = dict(span.attributes or {})
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.system"] == "fake"
    assert attributes["gen_ai.request.model"] == "fake-7b"
    assert attributes["gen_ai.request.temperature"] == 0.3
    assert attributes["gen_ai.request.max_tokens"] == 20
    assert attributes["gen_ai.request.seed"] == 5
    assert attributes["gen_ai.request.choice.count"] == 2
    assert attributes["gen_ai.request.stop_sequences"] == ("\n\n",)
    assert attributes["gen_ai.response.model"] == "fake-7b"
    assert attributes["gen_ai.usage.input_tokens"] == 3  # the fake counts words
    assert attributes["gen_ai.usage.output_tokens"] == 4
    assert attributes["gen_ai.response.finish_reasons"] == ("stop", "stop")
    assert attributes["promptlab.cost_usd"] == 1.0
    # Off by default: no prompt or completion text.
    assert "gen_ai.input.messages" not in attributes
    assert "gen_ai.output.messages" not in attributes


def test_content_is_recorded_only_when_turned_on(
    exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeProvider(["Answer: 42"], cycle=True)
    request = CompletionRequest.of([Message("user", "What is 6*7?")])
    monkeypatch.setenv(tracing.CAPTURE_CONTENT_ENV, "true")
    fake.complete_sync(request)
    attributes = dict(exporter.get_finished_spans()[-1].attributes or {})
    assert json.loads(attributes["gen_ai.input.messages"]) == [
        {"role": "user", "content": "What is 6*7?"}
    ]
    assert json.loads(attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "content": "Answer: 42"}
    ]
    tracing.capture_content(False)  # the explicit switch wins over the environment
    fake.complete_sync(request)
    assert "gen_ai.input.messages" not in dict(exporter.get_finished_spans()[-1].attributes or {})


def test_a_failing_call_records_the_error(exporter: InMemorySpanExporter) -> None:
    fake = FakeProvider([RuntimeError("backend down")])
    with pytest.raises(RuntimeError):
        fake.complete_sync(CompletionRequest.of([Message("user", "Hi")]))
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code == trace.StatusCode.ERROR
    assert any(event.name == "exception" for event in span.events)


def test_an_experiment_is_one_span_with_a_span_per_cell_and_per_call(
    exporter: InMemorySpanExporter, tmp_path: Path
) -> None:
    tracing.capture_content(True)  # even with content on, no key may appear
    fake = FakeProvider(
        lambda request: (
            "Step by step. Answer: 3"
            if "boom" not in request.messages[-1].content
            else RuntimeError("boom")
        ),
        model="fake-model",
    )
    experiment = Experiment(
        arms={
            "plain": ZeroShot(extractor="numeric"),
            "sc": SelfConsistency(ChainOfThought(extractor="numeric"), n=3),
        },
        providers={"fake": fake},
        tasks=[
            {"id": "t1", "question": "1+2?", "answer": 3},
            {"id": "t2", "question": "boom", "answer": 3},
        ],
        scorers=["numeric"],
        name="traced",
    )
    experiment.run(tmp_path / "run", cache=tmp_path / "cache", progress=False)
    spans = exporter.get_finished_spans()
    (root,) = by_name(spans, "experiment traced")
    cells = by_name(spans, "cell ")
    calls = by_name(spans, "chat ")
    assert len(cells) == 4
    assert {(c.attributes["promptlab.arm"], c.attributes["promptlab.task_id"]) for c in cells} == {
        ("plain", "t1"),
        ("plain", "t2"),
        ("sc", "t1"),
        ("sc", "t2"),
    }
    assert all(c.parent is not None and c.parent.span_id == root.context.span_id for c in cells)
    cell_ids = {c.context.span_id for c in cells}
    assert calls and all(c.parent is not None and c.parent.span_id in cell_ids for c in calls)
    assert root.attributes["promptlab.cells"] == 4
    ok = next(c for c in cells if c.attributes["promptlab.task_id"] == "t1")
    assert ok.attributes["promptlab.cache_hit"] is False
    assert ok.attributes["promptlab.repeat"] == 0
    assert ok.attributes["gen_ai.usage.output_tokens"] > 0
    failed = [c for c in cells if c.attributes["promptlab.task_id"] == "t2"]
    assert all(c.status.status_code == trace.StatusCode.ERROR for c in failed)
    assert all(c.attributes["error.type"] == "RuntimeError" for c in failed)

    # Run again: every response comes from the cache, so cells are hits and no call is made.
    exporter.clear()
    experiment.run(tmp_path / "again", cache=tmp_path / "cache", progress=False)
    spans = exporter.get_finished_spans()
    hits = [c for c in by_name(spans, "cell ") if c.attributes["promptlab.task_id"] == "t1"]
    assert hits and all(c.attributes["promptlab.cache_hit"] is True for c in hits)
    assert not [c for c in by_name(spans, "chat ") if "1+2?" in str(c.attributes)]


async def test_an_api_key_never_reaches_a_span(exporter: InMemorySpanExporter) -> None:
    from promptlab.providers.openai import OpenAIProvider
    from promptlab.testing.stub_server import StubServer

    tracing.capture_content(True)
    async with StubServer() as server:
        provider = OpenAIProvider("stub-model", api_key=SECRET, base_url=server.base_url)
        await provider.complete(CompletionRequest.of([Message("user", "What is 6*7?")]))
        await provider.aclose()
    assert server.stats.total_requests == 1
    spans = exporter.get_finished_spans()
    assert spans
    for span in spans:
        text = json.dumps(
            {"name": span.name, "attributes": dict(span.attributes or {})}, default=str
        )
        assert SECRET not in text
        assert "api_key" not in text.lower()
