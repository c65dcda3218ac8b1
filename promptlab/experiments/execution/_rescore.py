"""Rescore: score stored outputs again when only the scorers of an experiment changed.

No provider of the experiment is called: each successful cell's saved replies and answers
are scored by the scorers that were added or changed; scores of unchanged scorers are
kept and those of removed scorers dropped. (A judge scorer still calls its judge.)

What a record does not store cannot be scored again: token log-probabilities are not
saved, so a newly added or changed ``perplexity`` scorer gives NaN with a note; so does a
``reference_perplexity`` scorer, which needs the cell's model and rendered prompt (unless
it has a provider of its own and scores a task field with ``context: none``).
Records of tasks no longer in the task set cannot be scored (their inputs are gone); they
move to a backup file, so they never come back with stale scores.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from promptlab.completion import Usage
from promptlab.experiments.scoring import Scorer, score_result
from promptlab.experiments.store import CellRecord
from promptlab.experiments.tasks import Task
from promptlab.params import GenerationParams
from promptlab.retrieval import Document
from promptlab.strategies.base import Sample, StrategyResult

if TYPE_CHECKING:
    from promptlab.experiments.experiment import Experiment


def stored_result(record: CellRecord) -> StrategyResult:
    """The :class:`StrategyResult` a record was made from, as far as the record keeps it."""
    answers = list(record.answers) + [None] * (len(record.outputs) - len(record.answers))
    reasons = list(record.finish_reasons)
    reasons += [None] * (len(record.outputs) - len(reasons))
    samples = tuple(
        Sample(text, answer, reason)
        for text, answer, reason in zip(record.outputs, answers, reasons, strict=False)
    )
    return StrategyResult(
        answer=record.answer,
        samples=samples,
        messages=(),
        usage=Usage(
            input_tokens=record.input_tokens,
            output_tokens=record.output_tokens,
            cached_input_tokens=record.cached_input_tokens,
        ),
        latency_s=record.latency_s,
        cost_usd=record.cost_usd,
        calls=record.calls,
        strategy=record.strategy,
        template=record.template,
        template_hash=record.template_hash,
        params=_params(record.params),
        votes=record.votes,
        confidence=record.confidence,
        no_answer=record.no_answer,
        stop_reason=record.stop_reason,
        shots=tuple(record.shots),
        retrieved=tuple(
            Document(str(row["id"]), str(row.get("text", "")), score=row.get("score"))
            for row in record.retrieved
            if isinstance(row, dict) and "id" in row
        ),
    )


async def rescore_records(
    records: Sequence[CellRecord],
    experiment: Experiment,
    changed: Sequence[str],
    removed: Sequence[str],
) -> tuple[list[CellRecord], list[CellRecord]]:
    """Score stored records again with the scorers named in ``changed``.

    Args:
        records: Every cell's latest record.
        experiment: The experiment (its tasks and scorers).
        changed: Scorers added or defined differently: their scores are recomputed.
        removed: Scorers no longer in the experiment: their scores are dropped.

    Returns:
        ``(kept, orphaned)``: the records to keep, rescored, and those of tasks no longer
        in the task set (to move to a backup).
    """
    tasks = {task.id: task for task in experiment.tasks}
    scorers = [s for s in experiment.scorers if s.name in set(changed)]
    slots = asyncio.Semaphore(experiment.concurrency)
    kept: list[CellRecord] = []
    orphaned: list[CellRecord] = []
    jobs = []
    for record in records:
        task = tasks.get(str(record.task_id))
        if task is None:
            orphaned.append(record)
            continue
        for name in removed:
            record.scores.pop(name, None)
            record.score_notes.pop(name, None)
        kept.append(record)
        if record.error is None:
            jobs.append(_rescore_one(record, task, scorers, slots))
    await asyncio.gather(*jobs)
    return kept, orphaned


async def _rescore_one(
    record: CellRecord, task: Task, scorers: Sequence[Scorer], slots: asyncio.Semaphore
) -> None:
    # The same per-scorer rule as a live run (score_result): a failure or non-finite
    # score is NaN with a note, and the other scorers' values stand.
    async with slots:
        scores, notes = await score_result(scorers, task, stored_result(record))
    for name, value in scores.items():
        record.scores[name] = value
        record.score_notes.pop(name, None)
        if name in notes:
            record.score_notes[name] = notes[name]


def _params(stored: dict[str, Any]) -> GenerationParams:
    try:
        return GenerationParams(**stored)
    except (TypeError, ValueError):  # written by another version: scorers rarely need them
        return GenerationParams()
