"""A finished (or partly finished) run: its cells as a table, and honest statistics on them.

Errored cells count as **errors, not wrong answers**: they are left out of accuracies and
comparisons and counted in the ``errors`` column. A cell a scorer could not score (NaN,
e.g. perplexity without logprobs) is left out of that scorer's numbers and counted in
``unscored``. Repeats of a task are averaged per task before any statistic, so each task
counts once.

Example:
    >>> run = Run.load("runs/demo")                        # doctest: +SKIP
    >>> run.summary()                                      # doctest: +SKIP
    >>> run.compare("zero_shot", "cot")                    # doctest: +SKIP
    >>> run.report("runs/demo/report.html")                # doctest: +SKIP
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Hashable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptlab.errors import ConfigurationError, DataError
from promptlab.experiments.store import (
    CellEntry,
    CellRecord,
    CellScan,
    DamagedCellsWarning,
    cells_file,
    definition_filter,
    in_definition,
    parse_experiment,
    read_experiment,
    read_experiment_text,
    scan_entries,
    stream_cells,
)
from promptlab.experiments.tasks import task_clusters_of

# The table and its helpers (and pandas, NumPy and the statistics with them) are imported
# where they are used: a Run is what Experiment.run returns, and a resumed or listed run
# never asks it for data, so building one must not pay for importing them.
if TYPE_CHECKING:
    import pandas as pd

    from promptlab.experiments.analysis._cells import CellsTable
    from promptlab.experiments.analysis._comparisons import By
    from promptlab.experiments.analysis._finetuning import FineTuningExport
    from promptlab.experiments.analysis._plotting import RunPlots
    from promptlab.experiments.stats import TasksNeeded

__all__ = ["Run"]


class Run:
    """The cells of one run directory, with summaries, comparisons, views and a report.

    Build one with :meth:`Run.load`; ``Experiment.run()`` returns one too.

    Args:
        records: The cells' latest records.
        experiment: The run's ``experiment.json`` (arms, providers, scorers, seed...).
        run_dir: Where the run lives, if on disk.

    Attributes:
        experiment: The experiment's description (see the property).
        seed: Seed for bootstrap intervals (the experiment's seed), so tables reproduce.
        clusters: Task id -> cluster label when the task set named a ``cluster_field``
            (intervals are then cluster-bootstrap ones), else None.
    """

    def __init__(
        self,
        records: Iterable[CellRecord],
        experiment: Mapping[str, Any] | None = None,
        run_dir: str | Path | None = None,
    ) -> None:
        from promptlab.experiments.analysis._cells import scorer_names

        self._records: list[CellRecord] | None = list(records)
        self._setup(experiment, run_dir)
        self._scorers: list[str] | None = scorer_names(self._records, self._declared)
        self._arms = _ordered(self.experiment.get("arms"), (r.arm for r in self._records))
        self._providers = _ordered(
            self.experiment.get("providers"), (r.provider for r in self._records)
        )
        self._counts = (sum(1 for r in self._records if r.ok), len(self._records))

    def _setup(
        self,
        experiment: Mapping[str, Any] | None,
        run_dir: str | Path | None,
        text: str | None = None,
    ) -> None:
        """Keep the description: as given, or as ``text`` (the file's) when read from disk."""
        self._experiment = None if text is not None else dict(experiment or {})
        self._experiment_text = text  # None: no file, or a Run built in memory
        experiment = experiment or {}
        self.run_dir = Path(run_dir) if run_dir is not None else None
        declared = [s for s in experiment.get("scorers") or [] if isinstance(s, Mapping)]
        self._declared = [str(s["name"]) for s in declared if "name" in s]
        seed = experiment.get("seed")
        self.seed = int(seed) if isinstance(seed, (int, float)) else 0
        self.clusters = task_clusters_of(experiment)
        self._frame: pd.DataFrame | None = None
        self._summaries: dict[str, pd.DataFrame] = {}
        self._snapshot: tuple[int, int] | None = None  # cells.jsonl's (inode, size) at load
        self._superseded = True  # some cell may have several records (see _of_directory)

    @classmethod
    def load(cls, run_dir: str | Path) -> Run:
        """Read a run directory: ``cells.jsonl`` (last record per cell wins), ``experiment.json``.

        Only cells of the run's current definition are kept: cells of tasks, arms or
        providers since removed from the experiment, and repeats beyond ``repeats``, stay
        on disk but are not part of the run. Damaged lines are skipped with one warning.

        Loading reads which cells the run holds; their table (:attr:`cells`) and whole
        records (:attr:`records`, with prompts and replies) are read from ``cells.jsonl``
        when first needed, as the file was at load, so a run of any size loads quickly
        and holds in memory only what is asked for.

        Raises:
            DataError: The directory holds no ``cells.jsonl``.
        """
        path = Path(run_dir)
        cells = cells_file(path)
        status = os.stat(cells)
        scan = scan_entries(cells)
        if scan.damaged:
            warnings.warn(scan.damage_note(cells), DamagedCellsWarning, stacklevel=2)
        latest = scan.latest()
        return cls._of_directory(path, latest, status, superseded=len(latest) < len(scan.records))

    @classmethod
    def _of_directory(
        cls,
        path: Path,
        latest: list[CellEntry],
        status: os.stat_result | None = None,
        *,
        superseded: bool = True,
    ) -> Run:
        """The run of ``path`` from its cells' latest entries, already read (see :meth:`load`).

        ``status``: ``cells.jsonl``'s ``os.stat`` when the entries were read (now if None).
        ``superseded``: False when no cell had more than one record then, so the table
        needs no index of cells to let a later record replace an earlier one's row.
        """
        status = status or os.stat(cells_file(path))
        text = read_experiment_text(path)
        experiment = parse_experiment(text, path)
        keep = definition_filter(experiment)
        entries = [
            e for e in latest if keep is None or keep(e.task_id, e.arm, e.provider, e.repeat)
        ]
        run = cls.__new__(cls)
        run._records = None
        run._setup(experiment, path, text)
        run._snapshot = (status.st_ino, status.st_size)
        run._superseded = superseded
        run._scorers = None
        run._arms = _ordered(experiment.get("arms"), (e.arm for e in entries))
        run._providers = _ordered(experiment.get("providers"), (e.provider for e in entries))
        run._counts = (sum(1 for e in entries if e.ok), len(entries))
        return run

    @classmethod
    def from_records(cls, records: list[CellRecord], run_dir: str | Path) -> Run:
        """The run of ``run_dir`` from its latest records, already read (see :meth:`load`)."""
        path = Path(run_dir)
        experiment = read_experiment(path)
        return cls(in_definition(records, experiment), experiment, path)

    @property
    def experiment(self) -> dict[str, Any]:
        """The experiment's description: its arms, providers, scorers, seed, fingerprint.

        A run read from its directory keeps ``experiment.json``'s text as it was at load
        and gives a new dict of it on each access: the description of a large task set is
        mostly its tasks' hashes (about 15 MB of objects for 100,000 tasks, 3.6 MB as
        text), which the run needs only while it reads its cells.
        """
        if self._experiment is not None:
            return self._experiment
        assert self.run_dir is not None and self._experiment_text is not None
        return parse_experiment(self._experiment_text, self.run_dir)

    @property
    def records(self) -> list[CellRecord]:
        """The cells' latest records, in the order they first finished.

        Whole records, with each cell's prompt, replies and scores: for a run read from a
        directory they are read on first use (the statistics need only :attr:`cells`).
        """
        if self._records is None:
            keep = definition_filter(self.experiment)
            latest: dict[str, CellRecord] = {}
            for record in stream_cells(self._cells_path(), CellScan(), limit=self._size()):
                if keep is None or keep(
                    str(record.task_id), record.arm, record.provider, record.repeat
                ):
                    latest[record.id] = record
            self._records = list(latest.values())
        return self._records

    @property
    def scorers(self) -> list[str]:
        """Scorer names, the default (first) one used when ``scorer=None``."""
        if self._scorers is None:
            self._scorers = self._read_frame()[1]
        return list(self._scorers)

    def _cell_counts(self) -> tuple[int, int]:
        """(cells without error, cells) of the run."""
        return self._counts

    def _cells_path(self) -> Path:
        """``cells.jsonl``, checked to be the file this run was loaded from."""
        assert self.run_dir is not None and self._snapshot is not None
        path = cells_file(self.run_dir)
        if os.stat(path).st_ino != self._snapshot[0]:
            raise DataError(
                f"{path} was replaced since this Run was loaded (a --fresh run, or a "
                "rescore, rewrote it), so the cells read now would not be the ones loaded. "
                "Load the run again: Run.load(run_dir).",
                source=str(path),
            )
        return path

    def _size(self) -> int:
        assert self._snapshot is not None
        return self._snapshot[1]

    def _read_frame(self) -> tuple[pd.DataFrame, list[str]]:
        """The cells table and scorer names, from ``cells.jsonl`` in one pass."""
        from promptlab.experiments.analysis._cells import CellsBuilder

        keep = definition_filter(self.experiment)
        builder = CellsBuilder(self._declared)
        for record in stream_cells(self._cells_path(), CellScan(), limit=self._size()):
            if keep is None or keep(
                str(record.task_id), record.arm, record.provider, record.repeat
            ):
                builder.add(record, latest=self._superseded)
        self._frame = builder.frame()
        return self._frame, builder.scorers

    # -- the data ---------------------------------------------------------------------

    @property
    def cells(self) -> pd.DataFrame:
        """One row per cell, with a ``score_<name>`` column per scorer (see README, "The
        cells table"). A copy: changing it leaves the run's own table as it was."""
        from promptlab.experiments.analysis._cells import copy_of

        return copy_of(self._cells)

    @property
    def _cells(self) -> pd.DataFrame:
        if self._frame is None:
            if self._records is None:
                frame, self._scorers = self._read_frame()
                return frame
            from promptlab.experiments.analysis._cells import cells_frame

            self._frame = cells_frame(self._records, self.scorers)
        return self._frame

    @property
    def _table(self) -> CellsTable:
        """The cells table with this run's names: what the helpers of the analysis take."""
        from promptlab.experiments.analysis._cells import CellsTable

        return CellsTable(self._cells, self.arms, self.providers, self.seed, self.clusters)

    @property
    def arms(self) -> list[str]:
        """Arm names: the experiment's order, then any others found in the cells."""
        return list(self._arms)

    @property
    def providers(self) -> list[str]:
        """Provider names: the experiment's order, then any others found in the cells."""
        return list(self._providers)

    def scorer_name(self, scorer: str | None = None) -> str:
        """Check a scorer name (None means the first scorer) and return it."""
        if not self.scorers:
            raise ConfigurationError("This run has no scores yet: no cell has been scored.")
        if scorer is None:
            return self.scorers[0]
        if scorer not in self.scorers:
            raise ConfigurationError(
                f"scorer={scorer!r} is not in this run; known scorers: {self.scorers}."
            )
        return scorer

    def scored(self, scorer: str | None = None) -> pd.DataFrame:
        """Long table of usable scores: cells without error whose score is a finite number.

        Columns: ``arm, provider, task_id, repeat, score``.
        """
        return self._table.scored(self.scorer_name(scorer))

    # -- statistics -------------------------------------------------------------------

    def summary(self, scorer: str | None = None) -> pd.DataFrame:
        """Per arm x provider: accuracy with a 95% CI, n, errors, tokens, cost, latency, calls.

        The accuracy is the mean score over tasks (repeats averaged per task first), with
        a Wilson interval for right/wrong scores and a Student-t interval otherwise
        (``ci_method``). ``cost_usd`` is NaN when any successful cell's cost is unknown,
        never a silent 0. Latency percentiles leave out cache hits, which measure the
        cache rather than the model. When the tasks name clusters the interval is a
        cluster bootstrap (``ci_method="cluster_bootstrap"``). Cells the scorer could not
        score are counted in ``unscored``, with an :class:`UnscoredWarning` giving the
        count and one example.
        """
        from promptlab.experiments.analysis._summary import summarize_cells
        from promptlab.experiments.analysis._unscored import warn_unscored

        name = self.scorer_name(scorer)
        # Computed once per scorer, like the cells table it is built from (a report asks
        # for it five times; cluster-bootstrap intervals are not free). A copy goes out.
        # The warning comes with the first computation: once per run and scorer, not once
        # per table or plot that reads the summary.
        if name not in self._summaries:
            warn_unscored(self._cells, name)
            self._summaries[name] = summarize_cells(
                self._cells, name, self.arms, self.providers, clusters=self.clusters, seed=self.seed
            )
        return self._summaries[name].copy()

    def compare(
        self,
        a: str,
        b: str,
        *,
        provider: str | None = None,
        arm: str | None = None,
        by: By = "arm",
        scorer: str | None = None,
    ) -> pd.DataFrame:
        """Compare two arms, paired on task id: one row per provider.

        Right/wrong scores get McNemar's exact test (with the discordant counts
        ``a_only_correct``/``b_only_correct``); graded scores, and right/wrong scores
        averaged over repeats, get the Wilcoxon signed-rank test. Either way ``diff`` (A
        minus B) has a paired-bootstrap 95% interval, or a cluster-bootstrap one when the
        tasks name clusters (``ci_method``). ``correlation`` is the per-task Pearson
        correlation of the two arms' scores (how much pairing gained). Tasks errored or
        unscored in either arm are dropped from the pair (counted in ``n_dropped``);
        ``n_unscored`` counts the two arms' cells that had no usable score.

        Args:
            a: Arm A (or provider A with ``by="provider"``).
            b: Arm B (or provider B).
            provider: Only this provider (``by="arm"``); default: every provider.
            arm: Only this arm (``by="provider"``); default: every arm.
            by: ``"arm"`` compares arms within each provider; ``"provider"`` compares
                providers (models) within each arm.
            scorer: Which score; default: the first scorer.

        Raises:
            ConfigurationError: ``a`` or ``b`` is not in the run (the message lists the known
                names), or they are the same.
        """
        from promptlab.experiments.analysis._comparisons import compare_two

        name = self.scorer_name(scorer)
        return compare_two(self._table, a, b, provider=provider, arm=arm, by=by, scorer=name)

    def compare_all(
        self,
        *,
        by: By = "arm",
        baseline: str | None = None,
        scorer: str | None = None,
        alpha: float = 0.05,
    ) -> pd.DataFrame:
        """Every pair of arms (within each provider), with Holm-adjusted p-values.

        The Holm correction runs over the whole table, every provider's tests together,
        so ``significant`` keeps the chance of any false positive at ``alpha``.

        Args:
            by: ``"arm"`` (arms within each provider) or ``"provider"`` (providers within
                each arm).
            baseline: Compare each other arm only against this one (fewer tests, more power).
            scorer: Which score; default: the first scorer.
            alpha: Family-wise error rate for ``significant``.
        """
        from promptlab.experiments.analysis._comparisons import compare_all_within

        name = self.scorer_name(scorer)
        return compare_all_within(self._table, by=by, baseline=baseline, scorer=name, alpha=alpha)

    def tasks_needed(
        self,
        a: str | None = None,
        b: str | None = None,
        *,
        p_a: float | None = None,
        p_b: float | None = None,
        difference: float | None = None,
        discordance: float | None = None,
        provider: str | None = None,
        scorer: str | None = None,
        alpha: float = 0.05,
        power: float = 0.8,
    ) -> TasksNeeded:
        """Paired tasks needed to detect a difference between two arms (McNemar, Connor 1987).

        Whatever is not given is taken from this run, on tasks scored in both arms with
        repeats averaged per task: the observed accuracies of ``a`` and ``b`` (default: the
        first two arms) and the observed discordance, the share of tasks where exactly one
        arm is right (for graded per-task scores, such as right/wrong averaged over
        repeats: the standard deviation of the per-task differences). With ``difference``
        the target becomes ``p_a = p_b + difference`` around B's observed accuracy: "how
        many tasks to detect a 5-point gain over B?"; the observed discordance is kept, or
        replaced by the conservative bound (the largest possible, most tasks) when the
        target makes it impossible. The result is an ``int`` whose ``assumption`` (and
        ``repr``) says which case applied; see
        :func:`~promptlab.experiments.stats.tasks_needed_from_scores`.

        Raises:
            ConfigurationError: The arms scored the same and no ``difference`` was given,
                or an argument is out of range.
        """
        from promptlab.experiments.analysis._comparisons import paired_tasks_needed

        return paired_tasks_needed(
            self._table,
            a,
            b,
            p_a=p_a,
            p_b=p_b,
            difference=difference,
            discordance=discordance,
            provider=provider,
            scorer=self.scorer_name(scorer),
            alpha=alpha,
            power=power,
        )

    # -- views and report (in their own modules) ---------------------------------------

    def pareto(self, scorer: str | None = None) -> pd.DataFrame:
        """Cost per task vs accuracy per arm x provider, with ``on_pareto_front``."""
        from promptlab.experiments.analysis._views import pareto_view

        return pareto_view(self.summary(scorer))

    def model_choice(self, scorer: str | None = None) -> pd.DataFrame:
        """Quality, cost per 1k tasks, latency and setup (local vs API key) side by side."""
        from promptlab.experiments.analysis._views import model_choice_view

        return model_choice_view(self.summary(scorer), self.experiment.get("providers") or {})

    def disagreements(self, scorer: str | None = None, provider: str | None = None) -> pd.DataFrame:
        """The tasks where arms' answers (or scores) differ, one row per task x provider."""
        from promptlab.experiments.analysis._views import disagreements_view

        return disagreements_view(self._table, self.scorer_name(scorer), provider)

    def majority_at_k(
        self, arm: str, provider: str | None = None, *, normalize: Any = None
    ) -> pd.DataFrame:
        """Accuracy of a majority vote over k samples, for k = 1..N, from each cell's samples."""
        from promptlab.experiments.analysis._views import majority_at_k_view

        described = ((self.experiment.get("arms") or {}).get(arm) or {}).get("strategy")
        return majority_at_k_view(
            self._table, arm, provider, normalize=normalize, strategy=described
        )

    def self_consistency_arms(self) -> list[str]:
        """Arms whose cells hold more than one sample (self-consistency and the like)."""
        frame = self._cells
        many = frame[frame["ok"] & (frame["n_samples"] > 1)]
        return [arm for arm in self.arms if arm in set(many["arm"])]

    @property
    def plot(self) -> RunPlots:
        """The run's plots, each a matplotlib Figure: ``run.plot.accuracy()``, ...

        ``accuracy``, ``comparisons`` (a forest plot of the paired differences),
        ``cost`` (with the Pareto front), ``vote_shares``, ``majority_at_k`` and
        ``latency``; each takes ``ax=`` to draw on axes of your own.
        """
        from promptlab.experiments.analysis._plotting import RunPlots

        return RunPlots(self)

    # -- this run against another ------------------------------------------------------

    def diff(self, other: Run, *, scorer: str | None = None, alpha: float = 0.05) -> pd.DataFrame:
        """This run against ``other`` on their shared tasks: one row per arm x provider.

        Arms and providers are matched by name (a single arm, or a single provider, on
        both sides matches whatever its name). Each row counts the shared tasks that
        ``improved``, ``regressed`` or stayed the ``same`` (repeats averaged per task),
        and tests the change paired on task id as :meth:`compare` does: ``diff`` is this
        run minus the other with a paired-bootstrap 95% interval, and ``p_adjusted`` is
        Holm-corrected over the whole table. ``other_arm`` and ``other_provider`` name
        the cells of the other run; ``n_dropped`` counts tasks scored in only one of the runs.

        Example:
            >>> Run.load("runs/after").diff(Run.load("runs/before"))   # doctest: +SKIP

        Raises:
            ConfigurationError: The scorer is missing from either run, or the runs share
                no arm and provider, or no scored task.
        """
        from promptlab.experiments.analysis._run_diff import run_diff

        name = self._shared_scorer(other, scorer)
        return run_diff(self._table, other._table, name, alpha)

    def diff_tasks(self, other: Run, *, scorer: str | None = None) -> pd.DataFrame:
        """Per shared task and matched arm x provider: both runs' scores and the change.

        Columns ``arm, provider, other_arm, other_provider, task_id, score_this,
        score_other, change`` with ``change`` one of ``"improved"``, ``"regressed"``,
        ``"same"`` (see :meth:`diff`).
        """
        from promptlab.experiments.analysis._run_diff import task_changes

        return task_changes(self._table, other._table, self._shared_scorer(other, scorer))

    def _shared_scorer(self, other: Run, scorer: str | None) -> str:
        name = self.scorer_name(scorer)
        if name not in other.scorers:
            raise ConfigurationError(
                f"scorer {name!r} is not in the other run (its scorers: {other.scorers}); "
                f"pass scorer= with one that both runs have."
            )
        return name

    def report(
        self,
        path: str | Path = "report.html",
        *,
        scorer: str | None = None,
        against: Run | None = None,
    ) -> Path:
        """Write a standalone HTML report (and ``report.md`` with PNGs beside it).

        The HTML page holds the tables and plots, then an interactive explorer of every
        task and cell (filters, search, details on click). With ``against`` it also holds
        a diff of this run against that one (see :meth:`diff`), and the explorer shows
        both runs side by side.
        """
        from promptlab.experiments.report import write_report

        return write_report(self, path, scorer=scorer, against=against)

    # -- fine-tuning data (in _finetuning.py) -------------------------------------------

    def export_finetuning(
        self,
        path: str | Path | None = None,
        *,
        arm: str | None = None,
        provider: str | None = None,
        only_correct: bool | None = None,
        use: str = "completion",
        scorer: str | None = None,
        min_score: float = 1.0,
        gold_format: str = "{answer}",
        task_ids: Iterable[str] | None = None,
        format: str = "openai-chat",
        tokenizer: Any = None,
        as_dataset: bool = False,
    ) -> FineTuningExport:
        """Write an arm's prompts and good replies as chat fine-tuning data (JSONL).

        Each example is a cell's stored prompt (``CellRecord.messages``) plus one assistant
        turn, in OpenAI's chat fine-tuning format (``{"messages": [...]}`` a line). Errored
        cells, duplicates and examples that break the format are skipped and counted.

        Args:
            path: The ``.jsonl`` file to write; None writes nothing (with ``as_dataset``).
            arm: Which arm's prompts; may be left out when the run has one arm.
            provider: Which provider's cells; may be left out when the run has one.
            only_correct: Keep only cells whose score is at least ``min_score``. Default:
                True with ``use="completion"``, False with ``use="gold"``.
            use: ``"completion"`` (the cell's reply; for self-consistency the first sample
                with the winning answer) or ``"gold"`` (the task's expected answer).
            scorer: The score ``only_correct`` reads; default: the first scorer.
            min_score: The score a cell needs to count as correct.
            gold_format: How a gold answer is written, e.g. ``"Answer: {answer}"``.
            task_ids: Only these tasks (a training split).
            format: ``"openai-chat"``, the only format so far.
            tokenizer: How to count tokens: a tiktoken encoding name, a function text ->
                token ids, or None (tiktoken's ``o200k_base`` when it loads, else an
                estimate of 4 characters per token).
            as_dataset: Also return the examples as a ``datasets.Dataset``
                (``pip install "promptlab[datasets]"``).

        Returns:
            A :class:`FineTuningExport`: examples written, skipped and why, token counts,
            the tasks used, warnings, and the dataset when asked for.

        Raises:
            ConfigurationError: An unknown arm, provider or scorer, or no cell qualified.

        Example:
            >>> report = run.export_finetuning("train.jsonl", arm="rag", provider="gpt")
            >>> print(report)                              # doctest: +SKIP
        """
        from promptlab.experiments.analysis._finetuning import write_finetuning_data

        keep_correct = use != "gold" if only_correct is None else only_correct
        return write_finetuning_data(
            self.records,
            path,
            arm=_one_of(arm, self.arms, "arm"),
            provider=_one_of(provider, self.providers, "provider"),
            scorer=self.scorer_name(scorer) if keep_correct else None,
            only_correct=keep_correct,
            use=use,
            min_score=min_score,
            gold_format=gold_format,
            task_ids=task_ids,
            format=format,
            tokenizer=tokenizer,
            as_dataset=as_dataset,
        )

    # -- helpers ----------------------------------------------------------------------

    def __repr__(self) -> str:
        from promptlab.experiments.analysis._display import run_repr

        return run_repr(self)

    def _repr_html_(self) -> str:
        """A notebook's view: name, cells done/errored, the summary, the comparisons' verdicts."""
        from promptlab.experiments.analysis._display import run_card_html

        return run_card_html(self)


def _one_of(name: str | None, known: list[str], what: str) -> str:
    """``name`` if the run has it; the only one when None and there is one; else an error."""
    if name is None and len(known) == 1:
        return known[0]
    if name is None or name not in known:
        given = "not given" if name is None else f"{name!r} is not in this run"
        raise ConfigurationError(f"{what}: {given}; choose one of {known}.")
    return name


def _ordered(declared: Any, seen: Iterable[Hashable]) -> list[str]:
    names = [str(name) for name in declared or []]
    for name in seen:
        if str(name) not in names:
            names.append(str(name))
    return names
