"""Batch mode against the stub server's OpenAI Batch and Anthropic Message Batches APIs.

The real ``openai`` and ``anthropic`` SDKs talk to :mod:`promptlab.testing.stub_batches`
on 127.0.0.1; polling is fast (``poll_interval=0.02``) so the whole file runs in seconds.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from promptlab.errors import ConfigurationError
from promptlab.experiments.execution import BatchOptions, batch_status, cancel_batches
from promptlab.experiments.execution._batching import BatchScheduler
from promptlab.experiments.experiment import Experiment
from promptlab.experiments.store import BatchLog
from promptlab.pricing import ModelPrice
from promptlab.providers.anthropic import AnthropicProvider
from promptlab.providers.base import Provider
from promptlab.providers.batch import BATCH_LIMITS, BatchLimits, set_batch_limits
from promptlab.providers.cache import ResponseCache
from promptlab.providers.openai import OpenAIProvider
from promptlab.providers.retry import RetryPolicy
from promptlab.strategies import SelfConsistency, ZeroShot
from promptlab.testing import FakeProvider
from promptlab.testing.stub_server import StubServer
from tests.support.liveness import NewRecords

FAST = BatchOptions(poll_interval=0.02, flush_after=0.05)
# Batch prices deliberately unlike the direct ones, so a test can tell which were used.
PRICE = ModelPrice(2.0, 8.0, batch_input_per_million=1.0, batch_output_per_million=3.0)


def tasks(n: int) -> list[dict[str, Any]]:
    return [{"id": f"t{i}", "question": f"What is {i} + 1?", "expected": "42"} for i in range(n)]


def provider(vendor: str, srv: StubServer, **options: Any) -> Provider:
    if vendor == "openai":
        return OpenAIProvider("gpt-4o-mini", base_url=srv.base_url, **options)
    return AnthropicProvider("claude-haiku-4-5", base_url=srv.root_url, **options)


def run(
    prov: Provider,
    out: Path,
    n_tasks: int = 4,
    *,
    arm: Any = None,
    options: BatchOptions = FAST,
    cache: Any = False,
    batch: bool | None = True,
) -> Any:
    experiment = Experiment(
        arms={"zs": arm or ZeroShot()},
        providers={"p": prov},
        tasks=tasks(n_tasks),
        scorers=["exact"],
        name="batch",
    )
    return experiment.run(out, cache=cache, batch=batch, batch_options=options, progress=False)


def submitted(srv: StubServer) -> Counter[str]:
    return Counter(custom_id for _, custom_id in srv.batches.submitted)


@pytest.fixture
def limits() -> Iterator[None]:
    saved = dict(BATCH_LIMITS)
    yield
    BATCH_LIMITS.clear()
    BATCH_LIMITS.update(saved)


@pytest.mark.parametrize("vendor", ["openai", "anthropic"])
def test_a_batch_run_answers_every_cell_at_batch_prices(vendor: str, tmp_path: Path) -> None:
    with StubServer.in_thread() as srv:
        cells = run(provider(vendor, srv, price=PRICE), tmp_path).cells
        direct_calls = srv.stats.by_endpoint.get("/v1/chat/completions", 0)
        direct_calls += srv.stats.by_endpoint.get("/v1/messages", 0)
    assert cells["ok"].all() and len(cells) == 4
    assert direct_calls == 0
    assert len(srv.batches.batches) == 1
    assert sorted(submitted(srv).values()) == [1, 1, 1, 1]
    assert cells["answer"].tolist() == ["42"] * 4
    for _, cell in cells.iterrows():
        batch_cost = (cell["input_tokens"] * 1.0 + cell["output_tokens"] * 3.0) / 1e6
        assert cell["cost_usd"] == pytest.approx(batch_cost)
        assert cell["input_tokens"] > 0


def test_a_price_without_the_batch_column_leaves_the_cost_unknown(tmp_path: Path) -> None:
    with StubServer.in_thread() as srv:
        cells = run(provider("openai", srv, price=ModelPrice(2.0, 8.0)), tmp_path).cells
    assert cells["ok"].all()
    assert cells["cost_usd"].isna().all()


@pytest.mark.parametrize("vendor", ["openai", "anthropic"])
def test_requests_are_split_by_the_request_limit(vendor: str, tmp_path: Path, limits: None) -> None:
    set_batch_limits(vendor, BatchLimits(max_requests=4))
    with StubServer.in_thread() as srv:
        cells = run(provider(vendor, srv), tmp_path, n_tasks=10).cells
    assert cells["ok"].all() and len(cells) == 10
    sizes = sorted(len(b.lines) for b in srv.batches.batches.values())
    assert sizes == [2, 4, 4]
    assert max(submitted(srv).values()) == 1


def test_requests_are_split_by_the_byte_limit(tmp_path: Path, limits: None) -> None:
    with StubServer.in_thread() as srv:
        prov = provider("openai", srv)
        set_batch_limits("openai", BatchLimits(max_requests=1000, max_bytes=700))
        cells = run(prov, tmp_path, n_tasks=6).cells
        log = BatchLog(tmp_path)
        files = [log.requests_path(local) for local in log.records]
    assert cells["ok"].all()
    assert len(files) == 3  # six requests of about 314 bytes, two per file
    assert all(0 < path.stat().st_size <= 700 for path in files)


def test_a_request_larger_than_a_whole_batch_is_an_errored_cell(
    tmp_path: Path, limits: None
) -> None:
    set_batch_limits("openai", BatchLimits(max_requests=10, max_bytes=50))
    with StubServer.in_thread() as srv:
        cells = run(provider("openai", srv), tmp_path, n_tasks=1).cells
    assert cells["error_type"].tolist() == ["BatchRequestError"]
    assert "more than a whole batch may hold (50)" in cells["error_message"][0]


def test_a_running_batch_is_polled_until_it_ends(tmp_path: Path) -> None:
    with StubServer.in_thread(batch_seconds=0.3) as srv:
        cells = run(provider("openai", srv), tmp_path).cells
        polls = srv.stats.by_endpoint.get(f"/v1/batches/{next(iter(srv.batches.batches))}", 0)
    assert cells["ok"].all()
    assert polls >= 3
    states = [
        json.loads(line).get("state")
        for line in (tmp_path / "batches" / "log.jsonl").read_text().splitlines()
    ]
    assert "in_progress" in states and states.count("completed") == 1


@pytest.mark.parametrize("vendor", ["openai", "anthropic"])
@pytest.mark.parametrize("fault", ["batch_error_first_n", "batch_expire_first_n"])
def test_errored_and_expired_requests_are_sent_again_in_a_later_batch(
    vendor: str, fault: str, tmp_path: Path
) -> None:
    with StubServer.in_thread(**{fault: 2}) as srv:
        cells = run(provider(vendor, srv), tmp_path).cells
    assert cells["ok"].all() and len(cells) == 4
    assert len(srv.batches.batches) == 2
    assert sorted(submitted(srv).values()) == [1, 1, 2, 2]  # only the two failures again


def test_requests_that_keep_failing_become_errored_cells_with_the_vendor_error(
    tmp_path: Path,
) -> None:
    with StubServer.in_thread(batch_error_first_n=100) as srv:
        prov = provider("openai", srv, retry=RetryPolicy(max_attempts=2))
        cells = run(prov, tmp_path, n_tasks=2).cells
    assert cells["error_type"].tolist() == ["BatchRequestError"] * 2
    message = cells["error_message"][0]
    assert "(HTTP 500)" in message and "after 2 batch attempts" in message
    assert sorted(submitted(srv).values()) == [2, 2]


@pytest.mark.parametrize("vendor", ["openai", "anthropic"])
def test_a_client_error_is_not_retried(vendor: str, tmp_path: Path) -> None:
    with StubServer.in_thread() as srv:
        if vendor == "openai":
            prov: Provider = OpenAIProvider("bad-request", base_url=srv.base_url)
        else:
            prov = AnthropicProvider("bad-request", base_url=srv.root_url)
        cells = run(prov, tmp_path, n_tasks=2).cells
    assert cells["error_type"].tolist() == ["BatchRequestError"] * 2
    assert "(HTTP 400)" in cells["error_message"][0] or "invalid_request" in str(
        cells["error_message"][0]
    )
    assert sorted(submitted(srv).values()) == [1, 1]


@pytest.mark.parametrize("vendor", ["openai", "anthropic"])
def test_a_rejected_batch_is_sent_again(vendor: str, tmp_path: Path) -> None:
    with StubServer.in_thread(batch_reject_first_n=1) as srv:
        cells = run(provider(vendor, srv), tmp_path).cells
    assert cells["ok"].all()
    records = BatchLog(tmp_path).records.values()
    assert [r.stage for r in records] == ["rejected", "collected"]
    assert "rejects this batch" in str(next(iter(records)).rejected)


def test_each_result_is_taken_by_its_cell_before_the_next_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Memory stays flat only if a result's completion is let go as its line is read: the
    # whole results file arrives in one chunk here, and without a hand-over every line
    # would become a completion before any cell had finished.
    from promptlab.providers.batch._openai import OpenAIBatchAPI

    finished_when_read: list[int] = []
    stream = OpenAIBatchAPI.results

    async def watched(self: Any, batch_id: str, status: Any) -> Any:
        async for item in stream(self, batch_id, status):
            cells_file = tmp_path / "cells.jsonl"
            finished_when_read.append(
                len(cells_file.read_text().splitlines()) if cells_file.exists() else 0
            )
            yield item

    monkeypatch.setattr(OpenAIBatchAPI, "results", watched)
    with StubServer.in_thread() as srv:
        assert run(provider("openai", srv), tmp_path, n_tasks=20).cells["ok"].all()
    assert finished_when_read == list(range(20))


def test_a_batch_created_although_its_reply_was_lost_is_adopted(tmp_path: Path) -> None:
    def lose_first_reply(event: str, info: dict[str, Any]) -> None:
        if event == "batch_created" and len(srv.batches.batches) == 1:
            raise RuntimeError("reply lost")  # the server answers 500 after creating it

    with StubServer.in_thread(batch_hook=lose_first_reply) as srv:
        cells = run(provider("openai", srv), tmp_path).cells
    assert cells["ok"].all()
    assert len(srv.batches.batches) == 1
    assert max(submitted(srv).values()) == 1


@pytest.mark.parametrize("vendor", ["openai", "anthropic"])
def test_no_wait_submits_then_a_rerun_collects_without_sending_again(
    vendor: str, tmp_path: Path
) -> None:
    with StubServer.in_thread(batch_seconds=0.4) as srv:
        prov = provider(vendor, srv)
        first = run(prov, tmp_path, options=BatchOptions(flush_after=0.05, wait=False))
        reports = batch_status(tmp_path)
        second = run(prov, tmp_path)
    assert len(first.cells) == 0
    assert [r.stage for r in reports] == ["submitted"]
    assert reports[0].requests == 4
    assert second.cells["ok"].all() and len(second.cells) == 4
    assert len(srv.batches.batches) == 1 and max(submitted(srv).values()) == 1


@pytest.mark.parametrize("vendor", ["openai", "anthropic"])
def test_cancel_stops_open_batches_and_their_cells_error_as_canceled(
    vendor: str, tmp_path: Path
) -> None:
    with StubServer.in_thread(batch_seconds=60) as srv:
        prov = provider(vendor, srv)
        run(prov, tmp_path, options=BatchOptions(flush_after=0.05, wait=False))
        canceled = cancel_batches(tmp_path)
        cells = run(prov, tmp_path).cells
    assert len(canceled) == 1 and canceled[0].state in ("cancelling", "canceling")
    assert cells["error_type"].tolist() == ["BatchRequestError"] * 4
    assert "cancel" in cells["error_message"][0]
    assert len(srv.batches.batches) == 1  # canceled requests are not resent in the same run


@pytest.mark.parametrize("vendor", ["openai", "anthropic"])
def test_status_and_cancel_reach_a_server_that_needs_its_own_key(
    vendor: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUB_BATCH_KEY", "sk-stub-batch-key")
    with StubServer.in_thread(batch_seconds=60, batch_api_key="sk-stub-batch-key") as srv:
        prov = provider(vendor, srv, api_key_env="STUB_BATCH_KEY")
        run(prov, tmp_path, options=BatchOptions(flush_after=0.05, wait=False))
        reports = batch_status(tmp_path)
        canceled = cancel_batches(tmp_path)
    assert [(r.stage, r.state, r.note) for r in reports] == [("submitted", "in_progress", "")]
    assert len(canceled) == 1 and canceled[0].state in ("cancelling", "canceling")
    written = "".join(p.read_text() for p in (tmp_path / "batches").iterdir())
    assert '"api_key_env": "STUB_BATCH_KEY"' in written
    assert "sk-stub-batch-key" not in written


def test_status_of_a_run_whose_key_was_given_in_code_asks_where_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUB_BATCH_KEY", "sk-stub-batch-key")
    with StubServer.in_thread(batch_seconds=60, batch_api_key="sk-stub-batch-key") as srv:
        prov = provider("openai", srv, api_key="sk-stub-batch-key")
        run(prov, tmp_path, options=BatchOptions(flush_after=0.05, wait=False))
        unknown = batch_status(tmp_path)
        with pytest.raises(ConfigurationError, match="--api-key-env"):
            cancel_batches(tmp_path)
        told = batch_status(tmp_path, api_key_env="STUB_BATCH_KEY")
    assert "key given in code" in unknown[0].note and "--api-key-env" in unknown[0].note
    assert (told[0].state, told[0].note) == ("in_progress", "")
    assert "sk-stub-batch-key" not in (tmp_path / "batches" / "log.jsonl").read_text()


def test_the_cli_is_told_which_variable_holds_a_key_given_in_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from promptlab.cli import app

    monkeypatch.setenv("STUB_BATCH_KEY", "sk-stub-batch-key")
    cli = CliRunner()
    with StubServer.in_thread(batch_seconds=60, batch_api_key="sk-stub-batch-key") as srv:
        prov = provider("openai", srv, api_key="sk-stub-batch-key")
        run(prov, tmp_path, options=BatchOptions(flush_after=0.05, wait=False))
        refused = cli.invoke(app, ["cancel", str(tmp_path)])
        status = cli.invoke(app, ["status", str(tmp_path), "--api-key-env", "STUB_BATCH_KEY"])
        cancel = cli.invoke(app, ["cancel", str(tmp_path), "--api-key-env", "STUB_BATCH_KEY"])
    assert refused.exit_code != 0 and "--api-key-env" in refused.output
    assert status.exit_code == 0 and "submitted  in_progress  4 requests" in status.output
    assert cancel.exit_code == 0 and "cancelling  cancel requested" in cancel.output


def test_status_and_cancel_of_a_directory_without_batches_say_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="has no batches"):
        batch_status(tmp_path)
    with pytest.raises(ConfigurationError, match="has no batches"):
        cancel_batches(tmp_path)


def test_a_finished_batch_run_is_answered_from_the_cache(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache")
    with StubServer.in_thread() as srv:
        prov = provider("openai", srv)
        run(prov, tmp_path / "a", cache=cache)
        again = run(prov, tmp_path / "b", cache=cache).cells
    assert again["cached"].all() and again["ok"].all()
    assert len(srv.batches.batches) == 1


@pytest.mark.parametrize(("vendor", "lines_per_cell"), [("openai", 1), ("anthropic", 3)])
def test_self_consistency_uses_native_n_or_n_requests(
    vendor: str, lines_per_cell: int, tmp_path: Path
) -> None:
    arm = SelfConsistency(ZeroShot(), n=3, temperature=0.7)
    with StubServer.in_thread() as srv:
        cells = run(provider(vendor, srv), tmp_path, n_tasks=2, arm=arm).cells
    assert cells["ok"].all()
    assert cells["n_samples"].tolist() == [3, 3]
    assert sum(submitted(srv).values()) == 2 * lines_per_cell
    if vendor == "openai":
        bodies = [line["body"] for b in srv.batches.batches.values() for line in b.lines]
        assert [body["n"] for body in bodies] == [3, 3]


def test_a_provider_without_a_batch_api_runs_directly_with_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cells = run(FakeProvider(script=["Answer: 42"], cycle=True), tmp_path).cells
    assert cells["ok"].all()
    assert "p has no batch API" in capsys.readouterr().err
    assert not (tmp_path / "batches").exists()


def test_yaml_marks_providers_for_batch_mode(tmp_path: Path) -> None:
    (tmp_path / "tasks.jsonl").write_text(
        json.dumps({"id": "a", "question": "q", "answer": "x"}) + "\n"
    )
    text = (
        "tasks: tasks.jsonl\nscorers: [exact]\narms: {zs: {strategy: zero_shot}}\n"
        "providers:\n  f: {provider: 'fake:x', batch: BATCH}\n  g: 'fake:y'\n"
    )
    (tmp_path / "e.yaml").write_text(text.replace("BATCH", "true"))
    assert Experiment.from_yaml(tmp_path / "e.yaml").batch_providers == {"f"}
    (tmp_path / "e.yaml").write_text(text.replace("BATCH", "'yes'"))
    with pytest.raises(ConfigurationError, match=r"providers\.f\.batch: expected true or false"):
        Experiment.from_yaml(tmp_path / "e.yaml")


def test_bad_batch_settings_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="max_requests=0"):
        BatchLimits(max_requests=0)
    with pytest.raises(ConfigurationError, match="no batch API is known for 'ollama'"):
        set_batch_limits("ollama", BatchLimits(max_requests=5))
    with pytest.raises(ConfigurationError, match="poll_interval=-1"):
        BatchOptions(poll_interval=-1)
    with pytest.raises(ConfigurationError, match="max_in_flight=0"):
        BatchOptions(max_in_flight=0)
    with pytest.raises(ConfigurationError, match="batch_providers names the provider 'x'"):
        Experiment(
            arms={"a": ZeroShot()},
            providers={"f": "fake:x"},
            tasks=tasks(1),
            scorers=["exact"],
            batch_providers=["x"],
        )


def test_the_cli_submits_without_waiting_shows_status_and_cancels(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from promptlab.cli import app

    rows = "".join(
        json.dumps({"id": f"t{i}", "question": f"q{i}", "answer": "42"}) + "\n" for i in range(3)
    )
    (tmp_path / "tasks.jsonl").write_text(rows)
    cli = CliRunner()
    with StubServer.in_thread(batch_seconds=60) as srv:
        (tmp_path / "e.yaml").write_text(
            "tasks: tasks.jsonl\nscorers: [exact]\narms: {zs: {strategy: zero_shot}}\n"
            f"providers: {{p: 'openai-compatible:gpt-4o-mini@{srv.base_url}'}}\n"
        )
        out = tmp_path / "run"
        submit = cli.invoke(
            app, ["run", str(tmp_path / "e.yaml"), "-o", str(out), "--batch", "--no-wait",
                  "--no-progress", "--no-cache"],
        )  # fmt: skip
        status = cli.invoke(app, ["status", str(out)])
        cancel = cli.invoke(app, ["cancel", str(out)])
        offline = cli.invoke(app, ["status", str(out), "--offline"])
    assert submit.exit_code == 0, submit.output
    assert "Submitted: 1 batch(es) are open" in submit.output
    assert status.exit_code == 0
    assert (
        "b00001  p  batch_" in status.output
        and "submitted  in_progress  3 requests" in status.output
    )
    assert cancel.exit_code == 0 and "cancel requested" in cancel.output
    assert "b00001" in offline.output
    assert len(srv.batches.batches) == 1


def test_fresh_refuses_to_forget_open_batches_and_moves_collected_ones_aside(
    tmp_path: Path,
) -> None:
    with StubServer.in_thread(batch_seconds=0.3) as srv:
        prov = provider("openai", srv)
        run(prov, tmp_path, options=BatchOptions(flush_after=0.05, wait=False))
        experiment = Experiment(
            arms={"zs": ZeroShot()}, providers={"p": prov}, tasks=tasks(4), scorers=["exact"]
        )
        with pytest.raises(ConfigurationError, match=r"--fresh would forget 1 batch\(es\)"):
            experiment.run(tmp_path, cache=False, batch=True, fresh=True, progress=False)
        assert (tmp_path / "batches" / "log.jsonl").exists()
        run(prov, tmp_path)  # collects
        again = experiment.run(
            tmp_path, cache=False, batch=True, fresh=True, progress=False, batch_options=FAST
        )
    assert again.cells["ok"].all()
    assert len(srv.batches.batches) == 2  # fresh sends everything again
    assert len(list(tmp_path.glob("batches.bak-*"))) == 1


def test_no_api_key_or_url_credential_reaches_the_run_directory(tmp_path: Path) -> None:
    from promptlab.providers.batch import batch_api

    with StubServer.in_thread() as srv:
        with_credentials = srv.base_url.replace("http://", "http://user:url-secret@")
        prov = OpenAIProvider("gpt-4o-mini", base_url=with_credentials, api_key="sk-key-secret")
        described = batch_api(prov).describe()  # type: ignore[union-attr]
        cells = run(prov, tmp_path).cells
    assert cells["ok"].all()
    assert "url-secret" not in str(described)
    written = "".join(p.read_text() for p in tmp_path.rglob("*") if p.is_file())
    assert "sk-key-secret" not in written and "url-secret" not in written


def test_a_later_round_holds_no_record_of_an_earlier_round(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Memory stays flat over rounds: while round 2's cells wait for their batch, the
    # records of round 1 (written to cells.jsonl) are gone, not held by the workers.
    alive: list[list[str]] = []
    flush = BatchScheduler._flush
    records = NewRecords()

    async def watched(self: BatchScheduler, provider_name: str) -> None:
        alive.append(records.task_ids())
        await flush(self, provider_name)

    monkeypatch.setattr(BatchScheduler, "_flush", watched)
    options = BatchOptions(poll_interval=0.02, flush_after=0.05, max_in_flight=2)
    with StubServer.in_thread() as srv:
        cells = run(provider("openai", srv), tmp_path, options=options).cells
    assert cells["ok"].all() and len(cells) == 4
    # Each flush (one per round, or more if the cells of a round arrive apart) sees only
    # the records of its own round's waiting cells.
    rounds = ({"t0", "t1"}, {"t2", "t3"})
    assert alive[0] and alive[-1] and set(alive[-1]) <= rounds[1]
    assert all(any(set(seen) <= r for r in rounds) for seen in alive), alive
