"""The cell record: one line of ``cells.jsonl`` per (task, arm, provider, repeat).

The runner appends a record as each cell finishes, so a killed run loses nothing that
finished. Analysis (``Run.summary()``, reports) reads only these records.

A cell id can appear more than once: a cell that errored is retried by the next run and
its new record is appended. Readers keep the **last record per cell id**, so a
successful retry supersedes the error. A cell with a successful record is never run
again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import Any

from promptlab.answers import stopped_for_length

CELLS_FILE = "cells.jsonl"


def cell_id(task_id: str, arm: str, provider: str, repeat: int) -> str:
    """The identity of a cell; a run has at most one successful record per id."""
    return f"{task_id}|{arm}|{provider}|{repeat}"


@dataclass
class CellRecord:
    """Everything known about one finished (or failed) cell.

    Attributes:
        task_id, arm, provider, model, repeat: Which cell this is; ``repeat`` is the
            sample index of the cell among the experiment's repeats.
        strategy, template, template_hash: What was run.
        params: The generation parameters requested (only those set).
        expected: The task's expected answer.
        expected_answer: ``expected`` in the arm's canonical form, as answers are compared
            (:func:`~promptlab.answers.expected_answer` with the arm's extractor). None when
            there is no expected answer, and in records written before this field existed.
        outputs: The raw text of every sample.
        answers: The answer extracted from each sample (None where there was none).
        finish_reasons: Why each sample's generation ended, as the provider said
            (``"stop"``, ``"length"``...; None where it did not say). Records written
            before promptlab recorded them hold an empty list.
        answer: The final answer (the vote winner for self-consistency).
        votes, confidence, no_answer, stop_reason: Self-consistency details.
        messages: The rendered prompt that was sent, as ``{"role", "content"}`` dicts
            (what :meth:`Run.export_finetuning` writes). Empty in records written before
            promptlab stored it, and in cells that failed before rendering.
        shots: The ids of the few-shot examples shown, in order (empty without examples).
        retrieved: The passages a retrieval-augmented arm (RAG) retrieved for the task,
            best first, as ``{"id", "score", "text"}`` dicts (``score`` None when the
            retriever gives none); empty without retrieval, and in records written
            before promptlab stored it.
        scores: Scorer name -> score (float; NaN where a scorer could not score).
        score_notes: Scorer name -> a note or stored detail (e.g. a judge's reasoning).
        input_tokens, output_tokens, cached_input_tokens: Token usage of the cell.
        cost_usd: Dollars, or None when unknown.
        latency_s: Wall time of the cell.
        calls: Backend calls made (0 when every call came from the cache).
        cached: True when the response came from the response cache.
        error: None, or ``{"type": ..., "message": ..., "status": ...}``.
        promptlab_version, timestamp: Provenance.
    """

    task_id: str
    arm: str
    provider: str
    model: str
    repeat: int
    strategy: str = ""
    template: str = ""
    template_hash: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    expected: Any = None
    expected_answer: str | None = None
    outputs: list[str] = field(default_factory=list)
    answers: list[str | None] = field(default_factory=list)
    finish_reasons: list[str | None] = field(default_factory=list)
    answer: str | None = None
    votes: dict[str, int] | None = None
    confidence: float | None = None
    no_answer: int = 0
    stop_reason: str | None = None
    messages: list[dict[str, str]] = field(default_factory=list)
    shots: list[str] = field(default_factory=list)
    retrieved: list[dict[str, Any]] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    score_notes: dict[str, Any] = field(default_factory=dict)
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cost_usd: float | None = None
    latency_s: float = 0.0
    calls: int = 0
    cached: bool = False
    error: dict[str, Any] | None = None
    promptlab_version: str = ""
    timestamp: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat())

    @property
    def id(self) -> str:
        """See :func:`cell_id`."""
        return cell_id(self.task_id, self.arm, self.provider, self.repeat)

    @property
    def truncated(self) -> int:
        """How many samples the token limit cut off (no answer unless an answer line was done)."""
        return sum(1 for reason in self.finish_reasons if stopped_for_length(reason))

    @property
    def ok(self) -> bool:
        """True when the cell finished without error."""
        return self.error is None

    def to_json(self) -> str:
        """One JSON line (NaN scores are written as null)."""
        # A shallow copy: every field already holds JSON-ready values, and asdict's deep
        # copy made serialising the runner's slowest step. The instance dict holds the
        # fields in declaration order (the generated __init__ sets them in that order);
        # anything else (an extra attribute) takes the field-by-field copy.
        data = self.__dict__.copy()
        if tuple(data) != _FIELD_NAMES:
            data = {name: getattr(self, name) for name in _FIELD_NAMES}
        data["scores"] = {k: (None if v != v else v) for k, v in self.scores.items()}
        return _ENCODER.encode(data)

    @classmethod
    def from_json(cls, line: str) -> CellRecord:
        """Read a record written by :meth:`to_json`."""
        data = json.loads(line)
        data["scores"] = {k: (float("nan") if v is None else v) for k, v in data["scores"].items()}
        return cls(**{k: v for k, v in data.items() if k in _KNOWN})


#: Field names in declaration order: the order of a line's keys (readers rely on it).
_FIELD_NAMES = tuple(f.name for f in fields(CellRecord))
_KNOWN = frozenset(_FIELD_NAMES)
# One encoder for every line (json.dumps with these options builds a new one per call).
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)
