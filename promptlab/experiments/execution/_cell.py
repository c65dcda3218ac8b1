"""One cell: run an arm's strategy on one task with one provider, score it, make its record."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from promptlab._frozen import fast_init
from promptlab._version import __version__
from promptlab.answers import expected_answer
from promptlab.experiments.arm import ArmSpec
from promptlab.experiments.execution._batch_cell import BatchCellProvider
from promptlab.experiments.scoring import score_result
from promptlab.experiments.store import CellRecord, cell_id
from promptlab.experiments.tasks import Task
from promptlab.providers.base import Provider
from promptlab.providers.cache import CachedProvider, ResponseCache
from promptlab.strategies.base import StrategyResult
from promptlab.strategies.examples import running_task
from promptlab.tracing import mark_error, set_attributes, span

if TYPE_CHECKING:
    from promptlab.experiments.execution._batching import BatchScheduler
    from promptlab.experiments.experiment import Experiment


@fast_init  # one is built per cell: a frozen dataclass's own __init__ costs several times more
@dataclass(frozen=True, slots=True)
class Cell:
    """Which task, arm, provider and repeat a cell is."""

    task: Task
    arm_name: str
    arm: ArmSpec
    provider_name: str
    provider: Provider
    repeat: int

    @property
    def id(self) -> str:
        """See :func:`~promptlab.experiments.store.cell_id`."""
        return cell_id(self.task.id, self.arm_name, self.provider_name, self.repeat)


def iter_cells(experiment: Experiment, provider_name: str, skip: set[str]) -> Iterator[Cell]:
    """The provider's cells not in ``skip``: repeat-major, then task, then arm.

    Arms vary fastest so that, when a run stops early, its finished cells hold complete
    pairs of arms on the same tasks.
    """
    provider = experiment.providers[provider_name]
    for repeat in range(experiment.repeats):
        for task in experiment.tasks:
            for arm_name, arm in experiment.arms.items():
                if skip and cell_id(task.id, arm_name, provider_name, repeat) in skip:
                    continue
                yield Cell(task, arm_name, arm, provider_name, provider, repeat)


async def run_cell(
    cell: Cell,
    experiment: Experiment,
    cache: ResponseCache | None,
    *,
    refresh_cache: bool = False,
    batch: BatchScheduler | None = None,
) -> CellRecord:
    """Run one cell and return its record; any failure becomes the record's ``error``.

    With ``batch``, the cell's cache misses go to that scheduler (batch mode). When
    tracing is on (:mod:`promptlab.tracing`) the cell is one span, its provider calls
    inside it.
    """

    def attributes() -> dict[str, Any]:  # built only when a span records (tracing is on)
        return {
            "promptlab.arm": cell.arm_name,
            "promptlab.task_id": cell.task.id,
            "promptlab.provider": cell.provider_name,
            "promptlab.repeat": cell.repeat,
            "gen_ai.request.model": cell.provider.model,
        }

    with span(f"cell {cell.arm_name} {cell.task.id}", attributes) as current:
        record = await _run_cell(cell, experiment, cache, refresh_cache=refresh_cache, batch=batch)
        if current is not None:
            set_attributes(current, cell_attributes(record))
            if record.error is not None:  # a failed cell is recorded, not raised
                mark_error(current, f"{record.error.get('type')}: {record.error.get('message')}")
    return record


def cell_attributes(record: CellRecord) -> dict[str, Any]:
    """What a finished cell adds to its span."""
    return {
        "promptlab.cache_hit": record.cached,
        "promptlab.cost_usd": record.cost_usd,
        "promptlab.calls": record.calls,
        "promptlab.answer_extracted": record.answer is not None,
        "gen_ai.usage.input_tokens": record.input_tokens,
        "gen_ai.usage.output_tokens": record.output_tokens,
        "error.type": (record.error or {}).get("type"),
    }


async def _run_cell(
    cell: Cell,
    experiment: Experiment,
    cache: ResponseCache | None,
    *,
    refresh_cache: bool,
    batch: BatchScheduler | None,
) -> CellRecord:
    record = CellRecord(
        task_id=cell.task.id,
        arm=cell.arm_name,
        provider=cell.provider_name,
        model=cell.provider.model,
        repeat=cell.repeat,
        strategy=cell.arm.strategy.name,
        template=cell.arm.strategy.template.name,
        template_hash=cell.arm.strategy.template.hash,
        expected=cell.task.expected,
        expected_answer=expected_answer(cell.arm.strategy.extractor, cell.task.expected),
        promptlab_version=__version__,
    )
    seed = experiment.cell_seed(cell.task.id, cell.arm_name, cell.repeat)
    params = cell.arm.cell_params(seed, cell.provider)
    provider: Provider = cell.provider
    if batch is not None:
        provider = BatchCellProvider(
            cell.provider,
            cache,
            cell.repeat,
            scheduler=batch,
            provider_name=cell.provider_name,
            refresh=refresh_cache,
        )
    elif cache is not None:
        provider = CachedProvider(cell.provider, cache, cell.repeat, refresh=refresh_cache)
    start = time.perf_counter()
    filled = False
    try:
        with running_task(cell.task.id):  # so few-shot selection leaves out the task's own
            result = await cell.arm.strategy.arun(cell.task.inputs, provider, params=params)
        _fill_from_result(record, result)
        filled = True
        if isinstance(provider, CachedProvider):
            record.cached = provider.hits > 0 and provider.misses == 0
        # The real provider, not the cache wrapper: a scorer that measures the model
        # (reference perplexity) calls it directly.
        scores, notes = await score_result(
            experiment.scorers, cell.task, result, provider=cell.provider
        )
        record.scores.update(scores)
        record.score_notes.update(notes)
    except Exception as exc:  # a failed cell is recorded, never fatal to the run
        record.error = error_dict(exc)
        if not filled:  # it failed before its result filled in the parameters used
            record.params = params.given_values()
        if not record.latency_s:
            record.latency_s = time.perf_counter() - start
    return record


def error_dict(exc: BaseException) -> dict[str, Any]:
    """``{"type", "message", "status"}`` for a cell record."""
    return {
        "type": type(exc).__name__,
        "message": str(exc),
        "status": getattr(exc, "status", None),
    }


def _fill_from_result(record: CellRecord, result: StrategyResult) -> None:
    record.strategy = result.strategy
    record.template = result.template
    record.template_hash = result.template_hash
    record.params = result.params.given_values()
    record.outputs = [sample.text for sample in result.samples]
    record.answers = [sample.answer for sample in result.samples]
    record.finish_reasons = [sample.finish_reason for sample in result.samples]
    record.answer = result.answer
    record.votes = result.votes
    record.confidence = result.confidence
    record.no_answer = result.no_answer
    record.stop_reason = result.stop_reason
    record.messages = [message.to_dict() for message in result.messages]
    record.shots = list(result.shots)
    record.retrieved = [
        {"id": doc.id, "score": doc.score, "text": doc.text} for doc in result.retrieved
    ]
    record.input_tokens = result.usage.input_tokens
    record.output_tokens = result.usage.output_tokens
    record.cached_input_tokens = result.usage.cached_input_tokens
    record.cost_usd = result.cost_usd
    record.latency_s = result.latency_s
    record.calls = result.calls
