"""The :class:`Experiment`: arms x providers over a task set, scored, repeated, seeded.

An experiment is only a definition: :mod:`promptlab.experiments.execution` runs it and
:mod:`promptlab.experiments.config` reads it from YAML; :meth:`Experiment.run`,
:meth:`Experiment.arun` and :meth:`Experiment.from_yaml` are thin wrappers over them. Each
combination of task, arm, provider and repeat is one *cell*, written to
``<run dir>/cells.jsonl`` as it finishes.

Generation parameters stack in three layers, later ones winning field by field:
the strategy's defaults < the arm's ``params`` < per-call overrides.

Seeds: with ``seed`` set (the default is 0), a cell whose strategy and arm set no seed
gets one derived from ``(experiment seed, task id, arm name, repeat)`` by SHA-256. So a
cell samples the same way on every run, different repeats sample differently, and
results do not depend on scheduling order. The derived seed is sent only to providers
that support seeds. Pass ``seed=None`` to send no seed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptlab._checks import is_int
from promptlab._version import __version__
from promptlab.errors import ConfigurationError
from promptlab.experiments.arm import ArmSpec, derive_seed
from promptlab.experiments.scoring import Scorer
from promptlab.experiments.tasks import TaskSet, cluster_description
from promptlab.providers.base import Provider
from promptlab.providers.registry import provider as build_provider
from promptlab.strategies.base import Strategy
from promptlab.sync import run_sync

if TYPE_CHECKING:
    from promptlab.experiments.analysis import Run
    from promptlab.experiments.execution import BatchOptions, CostEstimate, ExperimentRunner
    from promptlab.providers.cache import ResponseCache

DEFAULT_RUNS_DIR = "runs"


class Experiment:
    """Strategies (arms) x providers over a task set, with scorers, repeats and a seed.

    Args:
        arms: Arm name -> a :class:`~promptlab.strategies.base.Strategy` or an
            :class:`ArmSpec` (a strategy with arm-level parameters).
        providers: Provider name -> a provider or a provider string (``"local"``);
            a single provider or string is also accepted.
        tasks: A :class:`~promptlab.experiments.tasks.TaskSet`, a ``.jsonl``/``.csv``
            path, a DataFrame, a ``datasets.Dataset`` or a list of dicts.
        scorers: Scorers, or specs for them (``"numeric"``,
            ``{"type": "numeric", "tolerance": 0.01}``); one or a list.
        repeats: Independent samples of every cell; the repeat number is the cell's
            sample index.
        seed: The experiment seed (see the module docstring), or None for no seeds.
        concurrency: Most cells running at once, over all providers.
        provider_concurrency: Provider name -> most cells running at once on it. A
            provider's own :attr:`~promptlab.providers.base.Provider.max_concurrency` is the
            default, when it sets one.
        name: The experiment's name; the default run directory is ``runs/<name>``.
        batch_providers: Names of providers to run through their vendor's batch API by
            default (``batch: true`` in YAML); ``run(batch=...)`` overrides it.

    Example:
        >>> experiment = Experiment(
        ...     arms={"zero_shot": ZeroShot(extractor="numeric"),
        ...           "cot": ArmSpec(ChainOfThought(extractor="numeric"), {"max_tokens": 160})},
        ...     providers={"local": "local"},
        ...     tasks="examples/arithmetic.jsonl",
        ...     scorers=["numeric"],
        ... )
        >>> run = experiment.run(out="runs/arithmetic")
        >>> run.summary()
    """

    def __init__(
        self,
        arms: Mapping[str, Strategy | ArmSpec],
        providers: Mapping[str, Provider | str] | Provider | str,
        tasks: Any,
        scorers: Sequence[Scorer | str | Mapping[str, Any]] | Scorer | str,
        *,
        repeats: int = 1,
        seed: int | None = 0,
        concurrency: int = 8,
        provider_concurrency: Mapping[str, int] | None = None,
        name: str = "experiment",
        batch_providers: Sequence[str] = (),
    ) -> None:
        self.name = _check_name("name", name)
        self.arms = _arms(arms)
        self.providers = _providers(providers)
        self.tasks = TaskSet.load(tasks)
        self.scorers = _scorers(scorers)
        self.repeats = _positive_int("repeats", repeats)
        if seed is not None and not is_int(seed):
            raise ConfigurationError(f"seed={seed!r} is not allowed: use an integer or None.")
        self.seed = seed
        self.concurrency = _positive_int("concurrency", concurrency)
        self.provider_concurrency = dict(provider_concurrency or {})
        for key, limit in self.provider_concurrency.items():
            if key not in self.providers:
                raise ConfigurationError(
                    f"provider_concurrency names the provider {key!r}, which is not one of "
                    f"the experiment's providers ({', '.join(self.providers)})."
                )
            _positive_int(f"provider_concurrency[{key!r}]", limit)
        self.batch_providers = frozenset(batch_providers)
        for key in self.batch_providers:
            if key not in self.providers:
                raise ConfigurationError(
                    f"batch_providers names the provider {key!r}, which is not one of the "
                    f"experiment's providers ({', '.join(self.providers)})."
                )

    @classmethod
    def from_yaml(cls, path: str | Path) -> Experiment:
        """Load an experiment file (see :mod:`promptlab.experiments.config`)."""
        from promptlab.experiments.config import load_experiment

        return load_experiment(path, cls)

    @property
    def n_cells(self) -> int:
        """Tasks x arms x providers x repeats."""
        return len(self.tasks) * len(self.arms) * len(self.providers) * self.repeats

    def provider_limit(self, name: str) -> int:
        """Most cells at once on provider ``name`` (never above ``concurrency``)."""
        limit = self.provider_concurrency.get(name)
        if limit is None:
            limit = self.providers[name].max_concurrency or self.concurrency
        return max(1, min(int(limit), self.concurrency))

    def cell_seed(self, task_id: str, arm: str, repeat: int) -> int | None:
        """The derived seed of a cell, or None when the experiment has no seed."""
        return None if self.seed is None else derive_seed(self.seed, task_id, arm, repeat)

    async def arun(
        self,
        out: str | Path | None = None,
        *,
        cache: bool | str | Path | ResponseCache = True,
        refresh_cache: bool = False,
        concurrency: int | None = None,
        progress: bool = True,
        fresh: bool = False,
        batch: bool | None = None,
        batch_options: BatchOptions | None = None,
        max_cost_usd: float | None = None,
        allow_unknown_cost: bool = False,
    ) -> Run:
        """Run every cell not already finished in ``out``, and return the :class:`Run`.

        Args:
            out: The run directory; ``runs/<name>`` by default. Re-running with the same
                directory resumes: finished cells are skipped, errored cells retried. The
                directory records this definition's fingerprint: resuming with an arm,
                provider or task of the same name defined differently (or another seed)
                raises :class:`~promptlab.errors.ConfigurationError`; a change only in
                scorers re-scores the stored outputs without calling any provider. One
                run at a time may write to a directory
                (:class:`~promptlab.errors.RunLockedError` otherwise).
            cache: True for the shared response cache, False to bypass it, or a path
                (or a :class:`~promptlab.providers.cache.ResponseCache`) to use another.
            refresh_cache: Ignore cached responses, call the providers, overwrite them.
            concurrency: Overrides the experiment's total concurrency for this run.
            progress: Show a progress bar (only on a terminal or in a notebook).
            fresh: Start over in ``out``: its old records move to a backup file
                (``cells.jsonl.bak-<time>``) and every cell runs again.
            batch: True sends every provider that has a batch API (OpenAI, Anthropic)
                through it, at batch prices; False none; None (default) the providers in
                ``batch_providers``. Batches are recorded in ``out/batches/`` before they
                are sent, so a killed run resumes them without paying twice; open batches
                there are always resumed. See :mod:`promptlab.experiments.execution`.
            batch_options: Polling interval, waiting or not (``wait=False`` submits and
                returns), and how many cells wait at once
                (:class:`~promptlab.experiments.execution.BatchOptions`).
            max_cost_usd: A budget for the run directory, in dollars: no cell starts when
                what was spent plus its projected largest cost (from a dry run, see
                :meth:`estimate`) would pass it; running cells finish, the reason goes to
                ``out/stop.json``, and a re-run with a higher budget goes on.
            allow_unknown_cost: With a budget, count cells whose cost cannot be known (no
                price, no ``max_tokens``) as free instead of raising
                :class:`~promptlab.errors.ConfigurationError`.
        """
        runner = self._runner(
            out, cache, refresh_cache, concurrency, progress, fresh, batch, batch_options,
            max_cost_usd, allow_unknown_cost,
        )  # fmt: skip
        return await runner.arun()

    def run(
        self,
        out: str | Path | None = None,
        *,
        cache: bool | str | Path | ResponseCache = True,
        refresh_cache: bool = False,
        concurrency: int | None = None,
        progress: bool = True,
        fresh: bool = False,
        batch: bool | None = None,
        batch_options: BatchOptions | None = None,
        max_cost_usd: float | None = None,
        allow_unknown_cost: bool = False,
    ) -> Run:
        """Blocking :meth:`arun`; works in scripts and notebooks.

        Ctrl-C stops the run cleanly: finished cells stay saved, and running again
        with the same ``out`` resumes. The interrupt is re-raised as
        ``KeyboardInterrupt``.
        """
        from promptlab.experiments.execution import interrupts_cancel

        runner = self._runner(
            out, cache, refresh_cache, concurrency, progress, fresh, batch, batch_options,
            max_cost_usd, allow_unknown_cost,
        )  # fmt: skip
        with interrupts_cancel(runner):
            return run_sync(runner.arun())

    def _runner(
        self,
        out: str | Path | None,
        cache: bool | str | Path | ResponseCache,
        refresh_cache: bool,
        concurrency: int | None,
        progress: bool,
        fresh: bool,
        batch: bool | None = None,
        batch_options: BatchOptions | None = None,
        max_cost_usd: float | None = None,
        allow_unknown_cost: bool = False,
    ) -> ExperimentRunner:
        """The one place :meth:`run` and :meth:`arun` build their runner."""
        from promptlab.experiments.execution import ExperimentRunner

        return ExperimentRunner(
            self,
            self.run_dir(out),
            cache=cache,
            refresh_cache=refresh_cache,
            concurrency=concurrency,
            progress=progress,
            fresh=fresh,
            batch=batch,
            batch_options=batch_options,
            max_cost_usd=max_cost_usd,
            allow_unknown_cost=allow_unknown_cost,
        )

    def estimate(self) -> CostEstimate:
        """A dry run: calls, tokens and cost range per arm x provider; no provider is called.

        Every cell's strategy runs against a stand-in that checks and counts each request
        and answers with placeholders that never agree, so adaptive arms are counted at
        their largest ``n`` (an upper bound); nothing in the cache is taken into account.
        Input tokens are counted with the provider's tokenizer where one is available (a
        llama.cpp model's; ``tiktoken`` for OpenAI models when installed), else estimated
        at one token per four characters. Costs are shown at direct and at batch prices.
        See :mod:`~promptlab.experiments.execution._estimate`.

        Example:
            >>> print(experiment.estimate())
        """
        from promptlab.experiments.execution import estimate_experiment

        return run_sync(estimate_experiment(self))

    def export_batch_file(
        self,
        provider: str,
        path: str | Path,
        *,
        cache: bool | str | Path | ResponseCache = True,
    ) -> int:
        """Write ``provider``'s requests as an OpenAI batch file, for vLLM's offline runner.

        ``vllm run-batch -i PATH -o RESULTS --model MODEL`` runs it; then
        :meth:`import_batch_results` stores the results in the cache, and :meth:`run`
        makes no calls. Requests already cached are left out. See
        :mod:`~promptlab.experiments.execution._batch_files`.

        Returns:
            How many requests were written.
        """
        from promptlab.experiments.execution import export_batch_file
        from promptlab.providers.cache import open_cache

        opened = open_cache(cache)
        try:
            return run_sync(export_batch_file(self, provider, path, opened))
        finally:
            if opened is not None and opened is not cache:
                opened.close()

    def import_batch_results(
        self,
        provider: str,
        requests: str | Path,
        results: str | Path,
        *,
        cache: bool | str | Path | ResponseCache = True,
    ) -> int:
        """Store a vLLM batch run's results (for :meth:`export_batch_file`'s file) in the cache.

        Returns:
            How many results were stored. Failed lines are reported in a warning; their
            cells call the provider when the experiment runs.
        """
        from promptlab.experiments.execution import import_batch_results
        from promptlab.providers.cache import open_cache

        opened = open_cache(cache)
        if opened is None:
            raise ConfigurationError(
                "import_batch_results needs a response cache to store the results in; "
                "pass cache=True or a path, not False."
            )
        try:
            stored, errors = import_batch_results(self, provider, requests, results, opened)
        finally:
            if opened is not cache:
                opened.close()
        if errors:
            import warnings

            warnings.warn(
                f"{len(errors)} result(s) failed and were not stored, e.g. {errors[0]}",
                stacklevel=2,
            )
        return stored

    def run_dir(self, out: str | Path | None) -> Path:
        """``out``, or ``runs/<name>`` when it is None."""
        return Path(out) if out is not None else Path(DEFAULT_RUNS_DIR) / self.name

    def describe(self) -> dict[str, Any]:
        """The resolved definition, as written to ``experiment.json`` (never an API key)."""
        return {
            "name": self.name,
            "promptlab_version": __version__,
            "tasks": {
                "name": self.tasks.name,
                "source": self.tasks.source,
                "count": len(self.tasks),
                "fingerprint": self.tasks.fingerprint,
                **cluster_description(self.tasks),
            },
            "arms": {name: arm.describe() for name, arm in self.arms.items()},
            "providers": {
                name: {
                    "provider": p.name,
                    "model": p.model,
                    "class": type(p).__name__,
                    "concurrency": self.provider_limit(name),
                }
                for name, p in self.providers.items()
            },
            "scorers": [
                {"name": s.name, "binary": bool(s.binary), "class": type(s).__name__}
                for s in self.scorers
            ],
            "repeats": self.repeats,
            "seed": self.seed,
            "concurrency": self.concurrency,
            "cells": self.n_cells,
        }

    def __repr__(self) -> str:
        return (
            f"Experiment(name={self.name!r}, arms={list(self.arms)}, "
            f"providers={list(self.providers)}, tasks={len(self.tasks)}, "
            f"scorers={[s.name for s in self.scorers]}, repeats={self.repeats})"
        )


def _arms(arms: Mapping[str, Strategy | ArmSpec]) -> dict[str, ArmSpec]:
    if not isinstance(arms, Mapping) or not arms:
        raise ConfigurationError(
            "arms must be a non-empty dict of arm name -> strategy, e.g. "
            "{'zero_shot': ZeroShot(), 'cot': ChainOfThought()}."
        )
    result = {}
    for name, arm in arms.items():
        _check_name("arm name", name)
        if isinstance(arm, ArmSpec):
            result[name] = arm
        elif isinstance(arm, Strategy):
            result[name] = ArmSpec(arm)
        else:
            raise ConfigurationError(
                f"arm {name!r} is a {type(arm).__name__}; an arm must be a Strategy or an "
                "ArmSpec(strategy, params)."
            )
    return result


def _providers(providers: Mapping[str, Provider | str] | Provider | str) -> dict[str, Provider]:
    if isinstance(providers, Provider):
        providers = {providers.name: providers}
    elif isinstance(providers, str):
        providers = {providers.partition(":")[0]: providers}
    if not isinstance(providers, Mapping) or not providers:
        raise ConfigurationError(
            "providers must be a non-empty dict of name -> provider or provider string, "
            "e.g. {'local': 'local'}."
        )
    return {
        _check_name("provider name", name): build_provider(spec) for name, spec in providers.items()
    }


def _scorers(scorers: Any) -> list[Scorer]:
    from promptlab.experiments.config import scorer_from_spec

    if isinstance(scorers, (str, Mapping)) or not isinstance(scorers, Sequence):
        scorers = [scorers]
    if not scorers:
        raise ConfigurationError("scorers is empty: give at least one, e.g. ['numeric'].")
    built = [scorer_from_spec(spec) for spec in scorers]
    names = [s.name for s in built]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigurationError(
            f"two scorers share the name {duplicates[0]!r}; give one of them another name "
            "(e.g. {type: numeric, name: numeric_loose, tolerance: 0.5})."
        )
    return built


def _check_name(what: str, name: Any) -> str:
    if not isinstance(name, str) or not name.strip() or "|" in name:
        raise ConfigurationError(
            f"{what} {name!r} is not allowed: use a non-empty string without '|'."
        )
    return name


def _positive_int(what: str, value: Any) -> int:
    if not is_int(value) or value < 1:
        raise ConfigurationError(f"{what}={value!r} is not allowed: use an integer >= 1.")
    return value
