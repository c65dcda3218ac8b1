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
# # Climbing the ladder: few-shot, similar examples, RAG
#
# A common recipe for improving what an existing model answers is a ladder, climbed only as
# far as needed:
#
# 1. **Prompt engineering**: zero-shot, then few-shot examples. This helps when the model
#    already has the knowledge and only needs to be shown the task and the answer format.
# 2. **Retrieval-augmented generation (RAG)** when few-shot prompts still give bad answers:
#    search a corpus for each question and put the passages found into the prompt.
# 3. **Fine-tuning**, last: more time, and a large data set.
#
# This notebook climbs the first two rungs with the bundled SmolLM2-135M model, on
# questions it *cannot* know: they are about Brindlecombe, a lakeside town invented for
# this example (`examples/ladder/`: 74 short passages, 52 questions with gold answers and
# the ids of the passages that answer them, and 18 worked examples about other facts of
# the town). Each rung is an arm of one experiment, so the comparison is paired on the
# same questions.
#
# To keep the notebook to a couple of minutes on two CPU cores it runs **the first 15 of
# the 52 questions and four arms**. `make demo` runs all 52 questions and adds a fifth arm,
# RAG + chain of thought (`examples/ladder.yaml`; its measured table is in the README).

# %%
import json
import tempfile
from pathlib import Path

import pandas as pd

import promptlab as pl

ROOT = Path.cwd() if (Path.cwd() / "examples").exists() else Path.cwd().parent
LADDER = ROOT / "examples" / "ladder"
tasks = pl.TaskSet.load(LADDER / "questions.jsonl")[:15]
corpus = [json.loads(line) for line in (LADDER / "corpus.jsonl").read_text().splitlines()]
print(len(corpus), "passages, e.g.", corpus[2])
print(len(tasks), "questions, e.g.", tasks[2])

# %% [markdown]
# ## The retriever
#
# `BM25Retriever` is keyword search (no model, no network). Each passage is short, so it is
# indexed whole (`chunk_size=None`). For a question it returns the best passages with their
# scores; the gold passage for the mayor question is `p03`.

# %%
passages = pl.BM25Retriever(LADDER / "corpus.jsonl", chunk_size=None)
pd.DataFrame(
    [
        {"id": doc.id, "score": round(doc.score, 2), "text": doc.text}
        for doc in passages.retrieve_sync("Who is the mayor of Brindlecombe?", k=2)
    ]
)

# %% [markdown]
# ## Four rungs, one experiment
#
# - `zero_shot`: the question alone.
# - `few_shot`: the same three worked examples before every question.
# - `similar_examples`: the three examples most similar to each question (BM25 over the
#   example questions), like DSPy's `KNNFewShot` or LangChain's
#   `SemanticSimilarityExampleSelector`.
# - `rag`: the two best passages, then the question (`RAG` wraps `ZeroShot`).
#
# Greedy decoding (`temperature: 0`) and short replies. Two answer scorers:
# `contains` (the gold answer occurs in the extracted answer, ignoring case: the model often
# answers with a whole sentence) and the stricter `normalized` exact match; and one
# retrieval scorer, `recall@2`, the share of questions whose gold passage was among the two
# retrieved.

# %%
shots = LADDER / "shots.jsonl"
greedy = {"temperature": 0, "max_tokens": 32}
experiment = pl.Experiment(
    arms={
        "zero_shot": pl.ArmSpec(pl.ZeroShot(), greedy),
        "few_shot": pl.ArmSpec(pl.FewShot(shots, k=3), greedy),
        "similar_examples": pl.ArmSpec(pl.FewShot(shots, selection=pl.SimilarExamples(3)), greedy),
        "rag": pl.ArmSpec(pl.RAG(pl.ZeroShot(), passages, k=2), greedy),
    },
    providers={"local": "local"},
    tasks=tasks,
    scorers=["contains", "normalized", pl.RecallAtK(k=2)],
    concurrency=1,
    seed=0,
    name="ladder",
)
run = experiment.run(out=Path(tempfile.mkdtemp(prefix="promptlab-ladder-")), progress=False)
run.summary()[["arm", "accuracy", "ci_low", "ci_high", "n", "truncated", "latency_p50_s"]]

# %%
run.plot.accuracy()

# %% [markdown]
# ## Which differences are real?
#
# `compare_all` tests every pair of arms, paired on question (McNemar's exact test on the
# questions where exactly one arm is right), and adjusts the p-values for the number of
# pairs (Holm). The forest plot shows each arm's difference from zero-shot with its paired
# bootstrap 95% interval.

# %%
run.compare_all()[["arm_a", "arm_b", "diff", "ci_low", "ci_high", "a_only_correct",
                   "b_only_correct", "p_adjusted", "significant"]]  # fmt: skip

# %%
run.plot.comparisons(baseline="zero_shot")

# %% [markdown]
# ## What the model said
#
# One question, every arm: the extracted answer, and what the model was shown before the
# question (the example questions for the few-shot arms, the retrieved passages for RAG).


# %%
def shown(record: pl.CellRecord) -> list[str]:
    if record.retrieved:
        return [f"{doc['id']}: {doc['text']}" for doc in record.retrieved]
    turns = [m["content"] for m in record.messages[:-1] if m["role"] == "user"]
    return [turn.splitlines()[0] for turn in turns]


pd.DataFrame(
    [
        {"arm": r.arm, "answer": r.answer, "contains": r.scores["contains"], "shown": shown(r)}
        for r in run.records
        if r.task_id == "q03"
    ]
)

# %% [markdown]
# The retriever itself: `recall@2` is scored for the RAG arm only (the other arms retrieve
# nothing, so their cells are left out as unscored, and a warning says so).

# %%
run.summary("recall@2")[["arm", "accuracy", "n", "unscored"]]

# %% [markdown]
# ## Reading the ladder
#
# - Without the facts, examples do not help: the few-shot arms copy the examples' short
#   `Answer: ...` format, but what they answer is invented, or repeats the question.
# - Choosing examples similar to the question changes which examples are shown, not what
#   the model knows.
# - Retrieval supplies the facts, and the small model can copy an answer out of a short
#   passage: RAG is the rung that moves accuracy here, by a margin that survives the
#   correction for multiple comparisons.
#
# The next rung, fine-tuning, starts from runs like this one:
# `run.export_finetuning(path, arm="rag", provider="local")` writes the prompts with their
# correct replies in the chat fine-tuning format.
