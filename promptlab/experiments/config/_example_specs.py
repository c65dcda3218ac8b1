"""Few-shot example specs: where the examples are, and how each task's are chosen.

``examples`` under a ``few_shot`` strategy is a file, a list, or a mapping::

    examples: shots.jsonl            # a .jsonl/.json/.yaml file, relative to the experiment file
    examples: [{question: ..., answer: ...}, ...]
    examples:
      path: shots.jsonl              # or items: [{question: ..., answer: ...}, ...]
      select: similar                # fixed (the first k, the default), random, similar
      k: 4
      seed: 0                        # random only
      input_keys: [question]         # similar only, as are the keys below: the fields compared
      mmr: true                      # a diverse set, by maximal marginal relevance
      lambda_mult: 0.5               # MMR: 1 = most similar, 0 = most diverse
      fetch_k: 20                    # MMR: candidates to pick from
      retriever: {type: bm25}        # the default; stopwords, k1, b, method as for RAG
      retriever:                     # or embeddings (see retriever_from_spec)
        type: embedding
        embedder: {type: openai, model: nomic-embed, base_url: http://127.0.0.1:8080/v1}

The strategy-level ``k``, ``selection`` and ``seed`` keys still work with the file and list
forms; giving one both there and under ``examples`` is an error. A retriever spec here
has no ``corpus`` (the examples are the corpus, each indexed whole), no ``chunk_size``
or ``chunk_overlap``, and no ``k`` (it goes under ``examples``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from promptlab.experiments.config._retriever_specs import retriever_from_spec
from promptlab.experiments.config._spec_checks import (
    Path_,
    SpecError,
    SpecReader,
    check_keys,
    expect_mapping,
    shown,
)
from promptlab.retrieval import Document, Retriever
from promptlab.strategies.similar_examples import SimilarExamples

SELECTIONS = ("fixed", "random", "similar")
_EXAMPLES_KEYS = frozenset(
    {"path", "items", "select", "k", "seed", "input_keys", "mmr", "lambda_mult", "fetch_k"}
    | {"retriever"}
)
_SIMILAR_ONLY = ("input_keys", "mmr", "lambda_mult", "fetch_k", "retriever")
_NOT_FOR_EXAMPLES = {
    "corpus": "the examples are the corpus; leave corpus out",
    "k": "k goes under examples, not under its retriever",
    "chunk_size": "each example is indexed whole",
    "chunk_overlap": "each example is indexed whole",
}


def few_shot_options(mapping: Mapping[str, Any], path: Path_, folder: Path) -> dict[str, Any]:
    """``FewShot``'s keyword arguments (``examples``, ``k``, ``selection``, ``seed``) from a
    ``few_shot`` spec, whose ``examples`` may be a file, a list or a mapping."""
    get = SpecReader(mapping, path)
    top = {
        "k": get.integer("k", 1, None),
        "selection": get.choice("selection", SELECTIONS, "fixed"),
        "seed": get.integer("seed", None, 0),
    }
    where = (*path, "examples")
    value = mapping["examples"]
    if not isinstance(value, Mapping):
        return {"examples": _source(value, where, folder), **top}
    for key in ("k", "selection", "seed"):
        if key in mapping:
            raise SpecError(
                (*path, key),
                f"{key} is set both here and under examples; give it once, under examples"
                + (" (as select)." if key == "selection" else "."),
            )
    check_keys(value, _EXAMPLES_KEYS, (), where, "few-shot examples")
    if ("path" in value) == ("items" in value):
        raise SpecError(where, "give the examples as path: <file> or as items: [...], not both.")
    source = value["path"] if "path" in value else value["items"]
    examples = _source(source, (*where, "path" if "path" in value else "items"), folder)
    get = SpecReader(value, where)
    select = get.choice("select", SELECTIONS, "fixed")
    options = {"examples": examples, "k": get.integer("k", 1, None), "selection": select}
    options["seed"] = get.integer("seed", None, 0)
    if select != "similar":
        for key in _SIMILAR_ONLY:
            if key in value:
                raise SpecError((*where, key), "only for select: similar.")
        return options
    options["selection"] = SimilarExamples(
        retriever=_retriever(value.get("retriever"), (*where, "retriever"), folder),
        mmr=_flag(value.get("mmr", False), (*where, "mmr")),
        lambda_mult=_fraction(value.get("lambda_mult", 0.5), (*where, "lambda_mult")),
        fetch_k=get.integer("fetch_k", 1, 20),
        input_keys=_keys(value.get("input_keys", ["question"]), (*where, "input_keys")),
    )
    return options


def _source(value: Any, where: Path_, folder: Path) -> Any:
    if isinstance(value, str):
        file = folder / value
        if not file.is_file():
            raise SpecError(
                where,
                f"no examples file {str(file)!r} (paths are relative to the "
                "experiment file's folder).",
            )
        return file
    if isinstance(value, list) and all(isinstance(item, Mapping) for item in value):
        return value
    raise SpecError(where, f"expected a file path or a list of examples, got {shown(value)}.")


def _retriever(spec: Any, where: Path_, folder: Path) -> Any:
    if spec is None:
        return None  # SimilarExamples' default: BM25 over the examples
    mapping = expect_mapping(spec, where, "a retriever spec such as {type: bm25}")
    for key, reason in _NOT_FOR_EXAMPLES.items():
        if key in mapping:
            raise SpecError((*where, key), f"not allowed here: {reason}.")
    # A partial of plain data, so the selector's description names the spec it came from.
    return functools.partial(_examples_retriever, dict(mapping), where, folder)


def _examples_retriever(
    spec: dict[str, Any], where: Path_, folder: Path, documents: list[Document]
) -> Retriever:
    corpus = [{"id": doc.id, "text": doc.text} for doc in documents]
    return retriever_from_spec({**spec, "corpus": corpus, "chunk_size": None}, where, folder)


def _flag(value: Any, where: Path_) -> bool:
    if not isinstance(value, bool):
        raise SpecError(where, f"expected true or false, got {shown(value)}.")
    return value


def _fraction(value: Any, where: Path_) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise SpecError(where, f"expected a number from 0 to 1, got {shown(value)}.")
    return float(value)


def _keys(value: Any, where: Path_) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise SpecError(where, f"expected a list of field names, got {shown(value)}.")
    return value
