"""Cells of 02_ab_test.ipynb (see build_notebooks.py)."""

CELLS = [
    (
        "md",
        r"""
# An A/B test of two prompting strategies, with honest statistics

Question: on short arithmetic word problems, does **chain-of-thought** beat **zero-shot**
for the bundled 135M model, and by how much?

We run both strategies on the *same* tasks (a subset of `examples/arithmetic.jsonl`), then
ask three questions of the results:

1. How accurate is each arm, with what uncertainty? (`run.summary()`)
2. Is the difference real or noise? (`run.compare()`: McNemar's exact test and a paired
   bootstrap interval)
3. How many tasks would we need to tell? (`run.tasks_needed()`)

Everything runs offline on the local model.
""",
    ),
    (
        "code",
        r"""
import tempfile
from pathlib import Path

from promptlab import ChainOfThought, ZeroShot
from promptlab import ArmSpec, Experiment
from promptlab.experiments.tasks import TaskSet

ROOT = Path.cwd() if (Path.cwd() / "examples").exists() else Path.cwd().parent
tasks = TaskSet.load(ROOT / "examples" / "arithmetic.jsonl")[:12]
print(len(tasks), "tasks, e.g.", tasks[0])
""",
    ),
    (
        "md",
        r"""
## The experiment

Two **arms** (strategies with their parameters), one **provider**, one **scorer**.
`numeric` compares the extracted number with the expected answer after normalisation.
Every (task, arm) pair is a *cell*; each cell is written to the run directory as it
finishes, so an interrupted run resumes where it stopped, and responses are cached, so
re-running this notebook makes no new model calls.
""",
    ),
    (
        "code",
        r"""
experiment = Experiment(
    arms={
        "zero_shot": ArmSpec(ZeroShot(extractor="numeric"), {"temperature": 0, "max_tokens": 32}),
        "chain_of_thought": ArmSpec(
            ChainOfThought(extractor="numeric"), {"temperature": 0, "max_tokens": 96}
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
run
""",
    ),
    (
        "md",
        r"""
## 1. Accuracy with a confidence interval

`accuracy` is the share of tasks answered right. With a dozen tasks it is a rough
estimate, so each arm gets a **Wilson 95% interval**: unlike the textbook
`p ± 1.96·sqrt(p(1-p)/n)`, it stays inside [0, 1] and keeps its coverage for small n
and accuracies near 0 or 1. Errored cells (none here) would be counted under `errors`,
not as wrong answers. Local models cost nothing; latency is per cell.
""",
    ),
    (
        "code",
        r"""
summary = run.summary()
columns = ["arm", "accuracy", "ci_low", "ci_high", "n", "errors", "mean_tokens", "cost_usd"]
summary[[*columns, "latency_p50_s"]]
""",
    ),
    (
        "md",
        r"""
## 2. Is the difference real? A paired comparison

Both arms answered the **same** tasks, so we compare them task by task. Tasks both arms
get right, or both get wrong, say nothing about which arm is better; only the
*discordant* tasks do:

- `a_only_correct`: tasks chain-of-thought got right and zero-shot got wrong;
- `b_only_correct`: the reverse.

**McNemar's exact test** asks: if the arms were equally good, each discordant task would
be a fair coin flip between the two; how surprising is the split we see? Its p-value is a
two-sided binomial test on the discordant counts.

**The paired bootstrap interval** for `diff` (A minus B accuracy) resamples *tasks* with
replacement, keeping each task's pair of scores together, and reads the 2.5% and 97.5%
quantiles of the resampled differences. If it contains 0, the data are consistent with
no difference.

Why paired? Hard tasks are hard for both arms. Pairing cancels task difficulty out, so a
paired test sees a difference with far fewer tasks than comparing two accuracies as if
they came from different tasks (what an unpaired test does).
""",
    ),
    (
        "code",
        r"""
comparison = run.compare("chain_of_thought", "zero_shot")
columns = ["arm_a", "arm_b", "n_pairs", "mean_a", "mean_b", "diff", "ci_low", "ci_high"]
comparison[[*columns, "a_only_correct", "b_only_correct", "p_value", "note"]]
""",
    ),
    (
        "md",
        r"""
With 12 tasks the interval is wide and the test has little power: the `note` column says
so when there are too few discordant tasks for any split to reach p < 0.05. That is the
honest answer: **we cannot tell yet**. The tasks where the arms disagree are worth reading
before trusting any number:
""",
    ),
    (
        "code",
        r"""
disagreements = run.disagreements()
disagreements[["task_id", "expected", "answer_zero_shot", "answer_chain_of_thought"]]
""",
    ),
    (
        "md",
        r"""
## 3. How many tasks would we need?

`tasks_needed` uses the paired sample-size formula for McNemar's test (Connor 1987) at
α = 0.05 and power 0.8. By default it plugs in what this pilot run observed: the two
accuracies and the *discordance* (the share of tasks where exactly one arm is right).
Pass `difference=` to ask for the smallest gain you care about instead. The unpaired
number is what a design that runs each arm on different tasks would need.
""",
    ),
    (
        "code",
        r"""
from promptlab.errors import ConfigurationError
from promptlab.experiments.stats import tasks_needed_unpaired

p_cot, p_zero = comparison.loc[0, "mean_a"], comparison.loc[0, "mean_b"]
try:
    print("paired, observed difference:", run.tasks_needed("chain_of_thought", "zero_shot"))
except ConfigurationError as error:  # identical accuracies: no difference to detect
    print(error)
gain = run.tasks_needed("chain_of_thought", "zero_shot", difference=0.10)
print("paired, to detect a 10-point gain:", gain)
base = min(max(p_zero, 0.05), 0.85)
print("unpaired, same 10-point gain, per arm:", tasks_needed_unpaired(base + 0.10, base))
""",
    ),
    (
        "md",
        r"""
## The report

`run.report()` writes one standalone HTML file (tables, plots, the per-task
disagreements; no network needed to open it) and a Markdown twin. The command line does
the same: `promptlab report RUN_DIR`.
""",
    ),
    (
        "code",
        r"""
report = run.report(run_dir / "report.html")
print(report, f"({report.stat().st_size // 1024} KiB)")
print(sorted(p.name for p in run_dir.iterdir()))
""",
    ),
]
