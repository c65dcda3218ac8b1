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
# # A tour of strategies and generation parameters
#
# This notebook runs entirely offline on the small model bundled with promptlab
# (SmolLM2-135M-Instruct, run in-process by llama.cpp). A 135M model is weak, which makes it
# a good teacher: the effect of each strategy and parameter is easy to see.
#
# You will see
#
# 1. the four strategies: **zero-shot**, **few-shot**, **chain-of-thought** and
#    **self-consistency**, and what each one actually sends to the model;
# 2. the generation parameters **temperature**, **stop sequences**, **max_tokens** and
#    **frequency/presence penalties**, each on real outputs.
#
# Every generation is kept short (`max_tokens`) so the notebook runs in about a minute on
# two CPU cores.

# %%
from pathlib import Path

import promptlab as pl

ROOT = Path.cwd() if (Path.cwd() / "examples").exists() else Path.cwd().parent
local = pl.provider("local")  # the bundled model; no API key, no network
question = {"question": "Tom has 3 apples. He buys 2 more. How many apples does Tom have now?"}
print(local.name, local.model)

# %% [markdown]
# ## Zero-shot
#
# The simplest strategy: the question, plus an instruction on how to format the answer so
# an *extractor* can read it. `extractor="numeric"` reads a number and normalises it
# (`"$1,000.00"` and `"1000"` are the same answer). `render` shows the exact chat messages,
# before anything is sent.

# %%
zero_shot = pl.ZeroShot(extractor="numeric")
for message in zero_shot.render(question):
    print(f"[{message.role}]\n{message.content}\n")

result = zero_shot.run(question, local, temperature=0, max_tokens=32)
print("reply :", repr(result.text))
print("answer:", result.answer, "| tokens:", result.usage.total_tokens)

# %% [markdown]
# ## Few-shot
#
# Few-shot puts worked examples in front of the question as earlier chat turns, so the
# model imitates their form. Here the examples come from `examples/arithmetic_shots.jsonl`;
# `k=2` keeps the first two.

# %%
few_shot = pl.FewShot(ROOT / "examples" / "arithmetic_shots.jsonl", k=2, extractor="numeric")
messages = few_shot.render(question)
print([m.role for m in messages])
result = few_shot.run(question, local, temperature=0, max_tokens=32)
print("reply :", repr(result.text))
print("answer:", result.answer)

# %% [markdown]
# ## Chain-of-thought
#
# Chain-of-thought asks for step-by-step reasoning *before* the final answer. It is a
# template plus the same extractor: the extractor looks for the final `Answer:` line, so the
# numbers in the reasoning do not confuse it. It costs more output tokens.

# %%
cot = pl.ChainOfThought(extractor="numeric")
result = cot.run(question, local, temperature=0, max_tokens=96)
print(result.text)
print("\nanswer:", result.answer, "| output tokens:", result.usage.output_tokens)

# %% [markdown]
# ## Self-consistency
#
# Self-consistency wraps any strategy: it samples several replies at a non-zero
# temperature and takes a **majority vote** over their answers. `votes` counts the answers,
# `confidence` is the winner's share. It costs about `n` times the output tokens of its
# base strategy, and at a sampling temperature a 135M model's samples often disagree, or
# agree on a wrong answer: notebook 03 measures what the votes buy on a whole task set.

# %%
sc = pl.SelfConsistency(pl.ChainOfThought(extractor="numeric"), n=4, temperature=0.8)
result = sc.run(question, local, max_tokens=80, seed=1)
print("sample answers:", [s.answer for s in result.samples])
print("votes:", result.votes, "| winner:", result.answer, "| confidence:", result.confidence)
print("tokens:", result.usage.total_tokens, "over", result.calls, "call(s)")

# %% [markdown]
# ## Temperature
#
# For the parameter demos we use a bare chat template (a strategy accepts any Jinja source
# with chat blocks), without the "Answer:" instruction of the built-in templates.
#
# Temperature rescales the model's next-token probabilities. At `temperature=0` decoding is
# greedy and repeatable; higher temperatures sample more varied text. With a `seed` a sample
# is reproducible even at a high temperature.

# %%
chat = pl.ZeroShot("{% user %}{{ question }}{% enduser %}")
prompt = {"question": "Write one short sentence about the sea."}
for temperature in (0.0, 0.0, 1.2, 1.2):
    text = chat.run(prompt, local, temperature=temperature, max_tokens=24).text
    print(f"T={temperature}: {text.strip()[:100]!r}")

# %% [markdown]
# ## Stop sequences and max_tokens
#
# A **stop sequence** ends generation as soon as the model writes it; the stop text itself
# is not returned, and `finish_reason` is `"stop"`. **max_tokens** cuts generation off
# after that many tokens, with `finish_reason == "length"`: a reply cut this way may have
# lost its final answer, which is why chain-of-thought needs a larger budget.

# %%
days = {"question": "List the days of the week."}
for params in (
    pl.GenerationParams(temperature=0, max_tokens=40),
    pl.GenerationParams(temperature=0, max_tokens=40, stop=["Thursday"]),
    pl.GenerationParams(temperature=0, max_tokens=6),
):
    result = chat.run(days, local, params=params)
    finish = result.samples[0].finish_reason
    print(f"{params.set_fields()}\n  -> {result.text.strip()!r} (finish_reason={finish})\n")

# %% [markdown]
# ## Frequency and presence penalties
#
# Both discourage repetition by lowering the scores of tokens already generated:
#
# - the **presence penalty** subtracts a fixed amount from any token that has appeared at
#   least once (it pushes towards new topics);
# - the **frequency penalty** subtracts an amount proportional to how many times a token
#   has appeared (it damps loops).
#
# Small models loop easily: asked for animals, this one soon repeats the same one. Below,
# the same greedy request with and without penalties; the share of distinct words measures
# the repetition.

# %%
loop = {"question": "Name as many animals as you can."}


def distinct_share(text: str) -> float:
    words = text.lower().split()
    return len(set(words)) / max(len(words), 1)


for penalties in ({}, {"frequency_penalty": 1.5}, {"presence_penalty": 1.5}):
    result = chat.run(loop, local, temperature=0, max_tokens=60, **penalties)
    lines = [line for line in result.text.splitlines() if line.strip()]
    print(f"{penalties or 'no penalty'}: distinct words {distinct_share(result.text):.2f}")
    print("   ", " | ".join(lines[:8])[:160])

# %% [markdown]
# ## What next
#
# - `02_ab_test.ipynb` compares two strategies on a task set **with statistics**: is the
#   difference real, or noise?
# - `03_self_consistency.ipynb` measures accuracy as a function of the number of votes.
# - `04_choosing_a_model.ipynb` puts quality, cost and latency side by side.
