"""Fine-tuning data from a run: the prompts one arm sent, with the replies to learn from.

Each exported example is the cell's rendered prompt, as stored in its record
(``CellRecord.messages``: exactly what was sent, few-shot examples and retrieved passages
included), followed by one assistant turn: the cell's own reply (``use="completion"``) or
the task's expected answer (``use="gold"``). The file is OpenAI's chat fine-tuning format,
one JSON object a line, ``{"messages": [{"role": ..., "content": ...}, ...]}``, which
Hugging Face TRL's ``SFTTrainer`` also reads as conversational data.

Token counts follow OpenAI's cookbook: per message 3 tokens, plus the tokens of its role
and content, plus 3 per example. Texts are tokenised with ``tiktoken`` (encoding
``o200k_base`` by default) when it is installed and its encoding loads, with a function
you give, or else estimated at one token per 4 characters (OpenAI's rule of thumb for
English; the report says which).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptlab._checks import is_number
from promptlab.errors import ConfigurationError, MissingDependencyError
from promptlab.experiments.store import CellRecord
from promptlab.messages import ROLES
from promptlab.providers.tokens import (
    CHARS_PER_TOKEN,
    DEFAULT_ENCODING,
    chat_tokens,
    estimated_tokens,
    load_encoding,
    tiktoken_module,
)

FORMATS = ("openai-chat",)
USES = ("completion", "gold")
#: OpenAI's fine-tuning API refuses a training file with fewer examples.
OPENAI_MIN_EXAMPLES = 10

Tokenizer = Callable[[str], "Sequence[int] | int"]


@dataclass(frozen=True)
class FineTuningExport:
    """What :meth:`Run.export_finetuning` wrote.

    Attributes:
        path: The JSONL file written, or None when none was asked for.
        examples: Examples written.
        skipped: Why cells were left out, and how many for each reason.
        tokens: Tokens over all examples (see ``tokenizer`` for how they were counted).
        max_tokens: Tokens of the longest example (check it against the model's limit).
        tokenizer: How tokens were counted: ``"tiktoken:<encoding>"``, ``"custom"``, or an
            estimate (and why).
        task_ids: The tasks the examples came from, in file order; keep them out of the
            tasks you evaluate the fine-tuned model on.
        warnings: Things to check before uploading (too few examples for OpenAI...).
        dataset: The examples as a ``datasets.Dataset`` (a ``messages`` column), when
            asked for with ``as_dataset=True``.
    """

    path: Path | None
    examples: int
    skipped: dict[str, int]
    tokens: int
    max_tokens: int
    tokenizer: str
    task_ids: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    dataset: Any = field(default=None, repr=False)

    def __str__(self) -> str:
        lines = [
            f"{self.examples} example(s)" + (f" written to {self.path}" if self.path else ""),
            f"tokens: {self.tokens} in all, {self.max_tokens} in the longest ({self.tokenizer})",
        ]
        if self.skipped:
            reasons = ", ".join(f"{reason}: {count}" for reason, count in self.skipped.items())
            lines.append(f"skipped: {reasons}")
        lines += [f"warning: {warning}" for warning in self.warnings]
        return "\n".join(lines)


def write_finetuning_data(
    records: Sequence[CellRecord],
    path: str | Path | None,
    *,
    arm: str,
    provider: str,
    scorer: str | None,
    only_correct: bool,
    use: str,
    min_score: float = 1.0,
    gold_format: str = "{answer}",
    task_ids: Iterable[str] | None = None,
    format: str = "openai-chat",
    tokenizer: Tokenizer | str | None = None,
    as_dataset: bool = False,
) -> FineTuningExport:
    """Write one arm x provider's cells as chat fine-tuning examples (see the module doc).

    ``records`` are a run's cells, and ``arm``, ``provider`` and ``scorer`` names already
    checked against the run (``scorer`` is needed only with ``only_correct``).
    :meth:`Run.export_finetuning` documents the arguments.
    """
    if format not in FORMATS:
        raise ConfigurationError(f"format={format!r} is not allowed: use {', '.join(FORMATS)}.")
    if use not in USES:
        raise ConfigurationError(f"use={use!r} is not allowed: use 'completion' or 'gold'.")
    if not is_number(min_score):
        raise ConfigurationError(f"min_score={min_score!r} is not allowed: give a number.")
    if use == "gold":
        _check_gold_format(gold_format)
    wanted = None if task_ids is None else {str(task) for task in task_ids}
    count = _token_counter(tokenizer)
    cells = [r for r in records if r.arm == arm and r.provider == provider]
    cells.sort(key=lambda r: (r.task_id, r.repeat))
    skipped: Counter[str] = Counter()
    rows: list[dict[str, Any]] = []
    sources: list[str] = []
    seen: set[str] = set()
    for record in cells:
        if wanted is not None and record.task_id not in wanted:
            continue
        reason = _reason_to_skip(record, scorer if only_correct else None, min_score)
        reply = None
        if reason is None:
            reply, reason = _reply(record, use, gold_format)
        messages: list[dict[str, str]] = []
        if reason is None and reply is not None:
            messages = [*record.messages, {"role": "assistant", "content": reply}]
            reason = format_problem(messages)
        key = json.dumps(messages, ensure_ascii=False)
        if reason is None and key in seen:
            reason = "duplicate example"
        if reason is not None:
            skipped[reason] += 1
            continue
        seen.add(key)
        rows.append({"messages": messages})
        sources.append(record.task_id)
    if not rows:
        raise ConfigurationError(_nothing_to_export(arm, provider, len(cells), skipped, use))
    sizes = [count.example(row["messages"]) for row in rows]
    written = None
    if path is not None:
        written = Path(path)
        written.parent.mkdir(parents=True, exist_ok=True)
        lines = (json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        written.write_text("".join(lines), encoding="utf-8")
    return FineTuningExport(
        path=written,
        examples=len(rows),
        skipped=dict(skipped),
        tokens=sum(sizes),
        max_tokens=max(sizes),
        tokenizer=count.name,
        task_ids=tuple(dict.fromkeys(sources)),
        warnings=_warnings(len(rows), use, only_correct),
        dataset=_dataset(rows) if as_dataset else None,
    )


def format_problem(messages: Sequence[Any]) -> str | None:
    """What breaks OpenAI's chat fine-tuning format in one example, or None when it is fine.

    The rules: at least one message; each a ``{"role", "content"}`` object with a known
    role and non-empty text; a system message only first; the last message from the
    assistant, right after a user turn.
    """
    if not messages:
        return "no messages"
    for position, message in enumerate(messages):
        if not isinstance(message, dict) or set(message) != {"role", "content"}:
            return "a message is not a {role, content} object"
        if message["role"] not in ROLES:
            return f"unknown role {message['role']!r}"
        if not isinstance(message["content"], str) or not message["content"].strip():
            return f"empty {message['role']} turn"
        if message["role"] == "system" and position > 0:
            return "a system message after the first"
    if messages[-1]["role"] != "assistant":
        return "the last turn is not the assistant's"
    if len(messages) < 2 or messages[-2]["role"] != "user":
        return "the assistant's turn does not follow a user turn"
    return None


def _reason_to_skip(record: CellRecord, scorer: str | None, min_score: float) -> str | None:
    if not record.ok:
        return "error"
    if not record.messages:
        return "no stored prompt (recorded before promptlab kept prompts; rerun with --fresh)"
    if scorer is None:
        return None
    score = record.scores.get(scorer)
    if score is None or not math.isfinite(score):
        return "unscored"
    return None if score >= min_score else "incorrect"


def _reply(record: CellRecord, use: str, gold_format: str) -> tuple[str | None, str | None]:
    """The assistant turn to learn, or the reason there is none."""
    if use == "gold":
        expected = record.expected
        if expected is None or expected == "":
            return None, "no gold answer"
        if isinstance(expected, (list, dict)):
            return None, "gold answer is not a single value"
        return gold_format.format(answer=expected), None
    if not record.outputs:
        return None, "no completion"
    # Self-consistency: the first sample that gave the winning answer speaks for the cell.
    for text, answer in zip(record.outputs, record.answers, strict=False):
        if record.answer is not None and answer == record.answer:
            return text, None
    return record.outputs[0], None


def _check_gold_format(gold_format: str) -> None:
    try:
        gold_format.format(answer="x")
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigurationError(
            f"gold_format={gold_format!r} is not allowed ({exc!r}): give a text with "
            "{answer} where the gold answer goes, e.g. 'Answer: {answer}'."
        ) from None


class _TokenCounter:
    def __init__(self, name: str, tokens: Callable[[str], int]) -> None:
        self.name, self.tokens = name, tokens

    def example(self, messages: Sequence[dict[str, str]]) -> int:
        return chat_tokens(((m["role"], m["content"]) for m in messages), self.tokens)


def _token_counter(tokenizer: Tokenizer | str | None) -> _TokenCounter:
    if callable(tokenizer):
        custom = tokenizer

        def tokens(text: str) -> int:
            result = custom(text)
            return result if isinstance(result, int) else len(result)

        return _TokenCounter("custom", tokens)
    if tokenizer is not None and not isinstance(tokenizer, str):
        raise ConfigurationError(
            f"tokenizer={tokenizer!r} is not allowed: give a tiktoken encoding name, a "
            "function text -> token ids (or a count), or None."
        )
    encoding_name = tokenizer or DEFAULT_ENCODING
    tiktoken = _tiktoken()
    if tiktoken is None:
        if tokenizer is not None:  # asked for by name: an estimate would not be what was asked
            raise MissingDependencyError("tiktoken", "finetuning", f"tokenizer={tokenizer!r}")
        return _estimate("tiktoken is not installed")
    encoding = load_encoding(tiktoken, encoding_name)
    if isinstance(encoding, Exception):  # an unknown name, or no network to fetch its file
        if tokenizer is not None:
            raise ConfigurationError(
                f"tiktoken cannot load the encoding {encoding_name!r}: {encoding}"
            ) from encoding
        return _estimate(f"tiktoken could not load {encoding_name}: {type(encoding).__name__}")
    return _TokenCounter(
        f"tiktoken:{encoding_name}",
        lambda text: len(encoding.encode(text, disallowed_special=())),
    )


# The seam the tests replace to act as if tiktoken were missing, offline or present.
_tiktoken = tiktoken_module


def _estimate(why: str) -> _TokenCounter:
    return _TokenCounter(
        f"estimate: 1 token per {CHARS_PER_TOKEN} characters ({why})",
        estimated_tokens,
    )


def _warnings(examples: int, use: str, only_correct: bool) -> tuple[str, ...]:
    notes = []
    if examples < OPENAI_MIN_EXAMPLES:
        notes.append(
            f"{examples} example(s): OpenAI's fine-tuning API needs at least "
            f"{OPENAI_MIN_EXAMPLES}; improvements usually take 50 to 100 or more."
        )
    if use == "completion" and not only_correct:
        notes.append("wrong replies are included (only_correct=False): the model learns them too.")
    return tuple(notes)


def _nothing_to_export(arm: str, provider: str, cells: int, skipped: Counter[str], use: str) -> str:
    reasons = ", ".join(f"{reason}: {count}" for reason, count in skipped.most_common())
    hint = (
        " With use='completion' and only_correct=True only cells scored correct count; "
        "use='gold' exports the expected answers instead."
        if use == "completion"
        else ""
    )
    return (
        f"No examples to export for arm {arm!r} on provider {provider!r}: of its {cells} "
        f"cell(s), none qualified ({reasons or 'no cells'}).{hint}"
    )


def _dataset(rows: list[dict[str, Any]]) -> Any:
    try:
        import datasets
    except ImportError:
        raise MissingDependencyError(
            "datasets", "datasets", "export_finetuning(as_dataset=True)"
        ) from None
    return datasets.Dataset.from_list(rows)
