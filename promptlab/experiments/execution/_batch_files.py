"""Batch files for vLLM's offline runner: export a provider's requests, import the results.

A user with a GPU cluster can run an experiment's requests there instead of through an
API: :func:`export_batch_file` writes them in the OpenAI batch input format, which
``vllm run-batch -i requests.jsonl -o results.jsonl --model MODEL`` reads, and
:func:`import_batch_results` stores its output in the response cache. The run that
follows (``Experiment.run``, same provider, same cache) then makes no calls: every
request is a cache hit.

Each line's ``custom_id`` is the request's response-cache key, so results match requests
whatever their order. A sidecar file (``<requests>.promptlab.jsonl``) keeps each request
in promptlab's own form, for the cache's record of what was asked. Requests already in
the cache are not exported. Strategies whose later requests depend on earlier replies
would need several rounds; promptlab's built-in ones do not, except adaptive stopping,
whose repeated draws are all exported up to its largest ``n`` (more than it may use).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptlab.completion import Choice, Completion, CompletionRequest, Usage
from promptlab.errors import ConfigurationError, DataError
from promptlab.experiments.execution._cell import iter_cells
from promptlab.jsonl import iter_jsonl
from promptlab.messages import Message
from promptlab.params import GenerationParams
from promptlab.providers.batch import batch_api
from promptlab.providers.cache import CachedProvider, ResponseCache
from promptlab.providers.openai import OpenAIProvider

if TYPE_CHECKING:
    from promptlab.experiments.experiment import Experiment

SIDECAR_SUFFIX = ".promptlab.jsonl"


class _Exporter(CachedProvider):
    """A cell's provider that writes each cache miss to the batch file instead of sending."""

    stores = False  # its replies are placeholders

    def __init__(self, provider: OpenAIProvider, cache: ResponseCache | None, repeat: int,
                 lines: Any, sidecar: Any, written: set[str]) -> None:  # fmt: skip
        super().__init__(provider, cache, repeat)
        self.lines, self.sidecar, self.written = lines, sidecar, written
        self.api = batch_api(provider)
        self._replies = itertools.count()

    async def _fetch(self, request: CompletionRequest, key: str) -> Completion:
        if key not in self.written and self.api is not None:
            self.written.add(key)
            self.lines.write(json.dumps(self.api.request_line(key, request)) + "\n")
            promptlab_form = {
                "custom_id": key,
                "messages": [m.to_dict() for m in request.messages],
                "params": request.params.given_values(),
            }
            self.sidecar.write(json.dumps(promptlab_form) + "\n")
        n = request.params.n or 1
        # Placeholders that never agree: adaptive stopping draws (and exports) its largest n.
        choices = tuple(Choice(f"Answer: {next(self._replies)}", "stop", None, i) for i in range(n))
        return Completion(choices, Usage(), model=self.model, provider=self.name, cost_usd=0.0)


def _openai_provider(experiment: Experiment, provider: str) -> OpenAIProvider:
    if provider not in experiment.providers:
        raise ConfigurationError(
            f"provider={provider!r} is not one of the experiment's providers "
            f"({', '.join(experiment.providers)})."
        )
    found = experiment.providers[provider]
    if not isinstance(found, OpenAIProvider):
        raise ConfigurationError(
            f"provider {provider!r} is a {type(found).__name__}; batch files are in the OpenAI "
            "format, for an OpenAI-compatible provider (e.g. 'vllm:MODEL@URL')."
        )
    return found


async def export_batch_file(
    experiment: Experiment, provider: str, path: str | Path, cache: ResponseCache | None
) -> int:
    """Write the requests of ``provider``'s cells not in ``cache``; return how many."""
    real = _openai_provider(experiment, provider)
    target = Path(path)
    written: set[str] = set()
    with (
        target.open("w", encoding="utf-8") as lines,
        Path(str(target) + SIDECAR_SUFFIX).open("w", encoding="utf-8") as sidecar,
    ):
        for cell in iter_cells(experiment, provider, set()):
            exporter = _Exporter(real, cache, cell.repeat, lines, sidecar, written)
            seed = experiment.cell_seed(cell.task.id, cell.arm_name, cell.repeat)
            params = cell.arm.cell_params(seed, real)
            await cell.arm.strategy.arun(cell.task.inputs, exporter, params=params)
    return len(written)


def import_batch_results(
    experiment: Experiment,
    provider: str,
    requests: str | Path,
    results: str | Path,
    cache: ResponseCache,
) -> tuple[int, list[str]]:
    """Store the successful results in ``cache``; return their count and the errors.

    Raises:
        DataError: A result names a request that is not in the exported file.
    """
    real = _openai_provider(experiment, provider)
    sidecar = Path(str(requests) + SIDECAR_SUFFIX)
    asked: dict[str, CompletionRequest] = {}
    for _, row in iter_jsonl(sidecar.read_text(encoding="utf-8"), str(sidecar)):
        messages = tuple(Message(m["role"], m["content"]) for m in row["messages"])
        asked[row["custom_id"]] = CompletionRequest(messages, GenerationParams(**row["params"]))
    from openai.types.chat import ChatCompletion

    fingerprint = real.fingerprint()
    stored, errors = 0, []
    source = str(results)
    for line, row in iter_jsonl(Path(results).read_text(encoding="utf-8"), source):
        key = str(row.get("custom_id"))
        if key not in asked:
            raise DataError(
                f"custom_id {key!r} is not a request of {requests}: import the results of "
                "the file exported for this experiment and provider.",
                source=source,
                line=line,
            )
        response = row.get("response") or {}
        if response.get("status_code") != 200:
            errors.append(f"{key}: {row.get('error') or response.get('body')}")
            continue
        completion = real._completion(ChatCompletion.model_validate(response["body"]))
        cache.put(key, fingerprint, asked[key], completion)
        stored += 1
    return stored, errors
