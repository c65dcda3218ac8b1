"""Experiments: run tasks x arms x providers, score the results, and compare arms honestly.

The definition is three public modules: :mod:`~promptlab.experiments.experiment`
(``Experiment``, with ``run``/``arun``/``from_yaml``), :mod:`~promptlab.experiments.arm`
(``ArmSpec``, the per-cell seed, the strategy's description) and
:mod:`~promptlab.experiments.tasks` (``TaskSet``). Each stage of the work has its own room,
a sub-package whose ``__init__`` names what it offers (its modules are private). From the
top down; an import only runs downwards, and rooms on one line never import each other
(``lint-imports`` checks this against ``pyproject.toml``):

- ``experiment``;
- ``config`` (experiment files and scorer specs into objects) and ``execution``
  (scheduling cells, running and scoring each one, resuming, rescoring);
- ``analysis``: ``Run``, the cells table and the summaries, comparisons and views on it;
- ``report``: the HTML and Markdown report of a run (it reads the ``Run`` it is given);
- ``arm``;
- ``scoring`` (the scorer contract and the built-in scorers) and ``store`` (the run
  directory: ``cells.jsonl``, ``experiment.json``, the lock, the definition fingerprint;
  the one owner of its format);
- ``stats`` (pure statistics on arrays of scores, no ``Run``) and ``tasks``.

This ``__init__`` imports nothing, so importing one room does not load the others; the
public names are ``promptlab.*`` (e.g. ``promptlab.Experiment``).
"""
