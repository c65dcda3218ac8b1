# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # An A/B test of two prompting strategies, with honest statistics
#
# Question: on short arithmetic word problems, does **chain-of-thought** beat **zero-shot**
# for the bundled 135M model, and by how much?
#
# We run both strategies on the *same* tasks (a subset of `examples/arithmetic.jsonl`), then
# ask three questions of the results:
#
# 1. How accurate is each arm, with what uncertainty? (`run.summary()`)
# 2. Is the difference real or noise? (`run.compare()`: McNemar's exact test and a paired
#    bootstrap interval)
# 3. How many tasks would we need to tell? (`run.tasks_needed()`)
#
# Everything runs offline on the local model.

# %%
import tempfile
from pathlib import Path

import promptlab as pl

ROOT = Path.cwd() if (Path.cwd() / "examples").exists() else Path.cwd().parent
tasks = pl.TaskSet.load(ROOT / "examples" / "arithmetic.jsonl")[:12]
print(len(tasks), "tasks, e.g.", tasks[0])

# %% [markdown]
# ## The experiment
#
# Two **arms** (strategies with their parameters), one **provider**, one **scorer**.
# `numeric` compares the extracted number with the expected answer after normalisation.
# Every (task, arm) pair is a *cell*; each cell is written to the run directory as it
# finishes, so an interrupted run resumes where it stopped, and responses are cached, so
# re-running this notebook makes no new model calls.

# %%
experiment = pl.Experiment(
    arms={
        "zero_shot": pl.ArmSpec(
            pl.ZeroShot(extractor="numeric"), {"temperature": 0, "max_tokens": 32}
        ),
        "chain_of_thought": pl.ArmSpec(
            pl.ChainOfThought(extractor="numeric"), {"temperature": 0, "max_tokens": 96}
        ),
    },
    providers={"local": "local"},
    tasks=tasks,
    scorers=["numeric"],
    concurrency=1,  # one local model on two cores: queueing would inflate latencies
    name="ab_test",
)
run_dir = Path(tempfile.mkdtemp(prefix="promptlab-ab-"))
run = experiment.run(out=run_dir, progress=False)
run  # in a notebook a run shows a card: progress, the summary, the comparisons' verdicts

# %% [markdown]
# ## 1. Accuracy with a confidence interval
#
# `accuracy` is the share of tasks answered right. With a dozen tasks it is a rough
# estimate, so each arm gets a **Wilson 95% interval**: unlike the textbook
# `p ± 1.96·sqrt(p(1-p)/n)`, it stays inside [0, 1] and keeps its coverage for small n
# and accuracies near 0 or 1. Errored cells (none here) would be counted under `errors`,
# not as wrong answers. Local models cost nothing; latency is per cell.
#
# `run.summary()` is a DataFrame of numbers, for your own code; `pl.readable_table` shows it
# for reading (the accuracy and its interval first, as text), and `run.plot.accuracy()`
# draws it.

# %%
summary = run.summary()
pl.readable_table(summary)

# %%
run.plot.accuracy()

# %% [markdown]
# ## 2. Is the difference real? A paired comparison
#
# Both arms answered the **same** tasks, so we compare them task by task. Tasks both arms
# get right, or both get wrong, say nothing about which arm is better; only the
# *discordant* tasks do:
#
# - `a_only_correct`: tasks chain-of-thought got right and zero-shot got wrong;
# - `b_only_correct`: the reverse.
#
# **McNemar's exact test** asks: if the arms were equally good, each discordant task would
# be a fair coin flip between the two; how surprising is the split we see? Its p-value is a
# two-sided binomial test on the discordant counts.
#
# **The paired bootstrap interval** for `diff` (A minus B accuracy) resamples *tasks* with
# replacement, keeping each task's pair of scores together, and reads the 2.5% and 97.5%
# quantiles of the resampled differences. If it contains 0, the data are consistent with
# no difference.
#
# Why paired? Hard tasks are hard for both arms. Pairing cancels task difficulty out, so a
# paired test sees a difference with far fewer tasks than comparing two accuracies as if
# they came from different tasks (what an unpaired test does).

# %%
comparison = run.compare("chain_of_thought", "zero_shot")
columns = ["arm_a", "arm_b", "n_pairs", "mean_a", "mean_b", "diff", "ci_low", "ci_high"]
comparison[[*columns, "a_only_correct", "b_only_correct", "p_value", "note"]]

# %% [markdown]
# The same comparison for reading: the verdict first (which arm is better, or no clear
# difference, after the Holm correction for the number of tests), then the difference
# with its interval and the p-value. The forest plot draws every pair's difference with
# its interval (here against the baseline `zero_shot`, so the difference reads
# chain-of-thought minus zero-shot, as above); a comparison is filled red only when it is
# significant after Holm.

# %%
pl.readable_table(comparison)

# %%
run.plot.comparisons(baseline="zero_shot")

# %% [markdown]
# With 12 tasks the interval is wide and the test has little power: the `note` column says
# so when there are too few discordant tasks for any split to reach p < 0.05. That is the
# honest answer: **we cannot tell yet**. The tasks where the arms disagree are worth reading
# before trusting any number:

# %%
disagreements = run.disagreements()
disagreements[["task_id", "expected", "answer_zero_shot", "answer_chain_of_thought"]]

# %% [markdown]
# ## 3. How many tasks would we need?
#
# `tasks_needed` uses the paired sample-size formula for McNemar's test (Connor 1987) at
# α = 0.05 and power 0.8. By default it plugs in what this pilot run observed: the two
# accuracies and the *discordance* (the share of tasks where exactly one arm is right).
# Pass `difference=` to ask for the smallest gain you care about instead. The unpaired
# number is what a design that runs each arm on different tasks would need.

# %%
p_cot, p_zero = comparison.loc[0, "mean_a"], comparison.loc[0, "mean_b"]
try:
    print("paired, observed difference:", run.tasks_needed("chain_of_thought", "zero_shot"))
except pl.ConfigurationError as error:  # identical accuracies: no difference to detect
    print(error)
gain = run.tasks_needed("chain_of_thought", "zero_shot", difference=0.10)
print("paired, to detect a 10-point gain:", gain)
base = min(max(p_zero, 0.05), 0.85)
print("unpaired, same 10-point gain, per arm:", pl.tasks_needed_unpaired(base + 0.10, base))

# %% [markdown]
# ## The report
#
# `run.report()` writes one standalone HTML file (tables, plots, the per-task
# disagreements; no network needed to open it) and a Markdown twin. The command line does
# the same: `promptlab report RUN_DIR`.

# %%
report = run.report(run_dir / "report.html")
print(report, f"({report.stat().st_size // 1024} KiB)")
print(sorted(p.name for p in run_dir.iterdir()))
