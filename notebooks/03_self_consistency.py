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
# # Self-consistency: accuracy as a function of the number of votes
#
# Self-consistency samples `n` reasoning paths at a non-zero temperature and takes a
# majority vote over their answers. More votes cost more tokens; how much accuracy does
# each extra vote buy?
#
# The naive way to draw that curve re-runs the model for every `k`. We do better: draw
# **one pool of N samples per task**, then compute, for every `k ≤ N`, the *exact* expected
# accuracy of a majority vote over `k` samples drawn from the pool, averaging over **every**
# k-subset (`pl.majority_at_k_curve`). No re-sampling, no extra calls, and less noise
# than lm-eval's "first k samples" estimate, which looks at one subset only.

# %%
import tempfile
from pathlib import Path

import promptlab as pl

ROOT = Path.cwd() if (Path.cwd() / "examples").exists() else Path.cwd().parent
tasks = pl.TaskSet.load(ROOT / "examples" / "arithmetic.jsonl")[:6]
N = 5  # samples per task: the pool

# %% [markdown]
# ## One pool of N samples per task
#
# A single self-consistency arm with `n = N`. Each cell keeps every sample's extracted
# answer (`answers`), the vote counts and the winner's vote share (`confidence`).

# %%
experiment = pl.Experiment(
    arms={
        "sc": pl.ArmSpec(
            pl.SelfConsistency(pl.ChainOfThought(extractor="numeric"), n=N, temperature=0.8),
            {"max_tokens": 72},
        )
    },
    providers={"local": "local"},
    tasks=tasks,
    scorers=["numeric"],
    concurrency=1,  # one local model on two cores: queueing would inflate latencies
    name="self_consistency",
)
run = experiment.run(out=Path(tempfile.mkdtemp(prefix="promptlab-sc-")), progress=False)
run.cells[["task_id", "expected", "answers", "answer", "confidence", "score_numeric"]]

# %% [markdown]
# ## maj@k for one task, by hand
#
# Take a pool like `["5", "5", "6", None]` with correct answer `"5"`. A single sample is
# right with probability 2/4. Two samples: of the 6 pairs, one is `{5, 5}` (right), four mix
# a 5 with a 6 or None, and `{6, None}` is wrong. A 5 beats None outright, and a 5-vs-6 tie
# is broken at random (worth 1/2), so maj@2 = (1 + 2·½ + 2·1 + 0) / 6 = 2/3.
# `majority_at_k_curve` does this exactly for every k:

# %%
pl.majority_at_k_curve(["5", "5", "6", None], "5")

# %% [markdown]
# ## Accuracy vs k over the task set
#
# `run.majority_at_k("sc")` averages each task's exact curve. `k = 1` is the accuracy of a
# single sample at this temperature; `k = N` is the full vote.
#
# The estimator credits a tie between the right answer and r wrong ones with 1/(r + 1),
# the expected accuracy of breaking ties at random. The strategy's own vote breaks ties by
# taking the answer sampled first, so on a task whose vote tied, maj@N and the cell's
# score can differ; over many tasks they agree on average.

# %%
curve = run.majority_at_k("sc")
curve

# %%
run.plot.majority_at_k()

# %% [markdown]
# ## How settled were the votes?
#
# The winner's vote share is a cheap confidence signal: a share near 1 means the samples
# agreed, near 1/N that the vote was a scramble. Adaptive stopping
# (`SelfConsistency(..., stopping=BetaStop())`) uses exactly this to stop sampling early
# once the vote is settled.

# %%
cells = run.cells
for share, right in sorted(zip(cells["confidence"], cells["score_numeric"], strict=True)):
    print(f"vote share {share:.2f}  ->  {'right' if right == 1 else 'wrong'}")

# %%
run.plot.vote_shares()

# %% [markdown]
# With a 135M model and a handful of tasks the curve is noisy; on a larger task set (or a
# stronger model) it typically rises and then flattens. The point where it flattens is
# where extra votes stop paying for their tokens. The HTML report of any run with a
# self-consistency arm draws the same two plots (`run.report(...)`).
