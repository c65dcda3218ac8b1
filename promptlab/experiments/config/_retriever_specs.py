"""Build retrievers from experiment-file specs: :func:`retriever_from_spec`.

A retriever spec is a mapping with a ``type``::

    type: bm25                    # keyword search (the default retriever)
    corpus: passages.jsonl        # a .jsonl/.csv file or a folder of .txt/.md files,
                                  # relative to the experiment file; or a list of
                                  # strings or {id, text, ...} rows
    k: 4                          # passages per query when the user does not say
    chunk_size: 200               # words per chunk; null indexes each document whole
    chunk_overlap: 20             # words shared by neighbouring chunks (a tenth by default)
    index_dir: .index/passages    # save/load the index here (relative to the file)
    text_field: text              # the text and id fields of JSONL/CSV rows
    id_field: id
    stopwords: en                 # bm25 only: a language code, a list of words, or null
    k1: 1.5                       # bm25 only
    b: 0.75                       # bm25 only
    method: lucene                # bm25 only

    type: embedding               # exact cosine search over embedding vectors
    corpus: ..., k, chunk_size, chunk_overlap, index_dir, text_field, id_field
    cache: true                   # cache the vectors in the shared response cache
                                  # (false: no cache; a path: that cache file)
    embedder:
      type: openai                # an OpenAI-compatible /v1/embeddings endpoint
      model: text-embedding-3-small
      base_url: http://127.0.0.1:8080/v1    # llama-server --embeddings, vLLM, ...
      api_key_env: MY_KEY_VAR     # never the key itself
      dimensions: 256, batch_size: 128, timeout: 60, max_retries: 3
    embedder:
      type: llama_cpp             # in-process llama.cpp
      model_path: models/bge-small.gguf     # the bundled SmolLM2 when left out
      pooling: mean, n_ctx: 512, n_threads: 2, batch_size: 32

    type: deeplake                # Activeloop Deep Lake (pip install "promptlab[deeplake]")
    path: .index/town             # a folder, mem://, s3://, gcs://, azure:// or al:// URL
    corpus: passages.jsonl        # optional: build (or resume building) the dataset
    embedder: {...}               # as for type: embedding
    k, chunk_size, chunk_overlap, text_field, id_field    # as above (with a corpus)
    text_column: text, id_column: id, embedding_column: embedding   # an existing dataset
    filter: {source: manual}      # only rows whose column / metadata key matches
    vector_index: false           # Deep Lake's approximate index (builds only)
    creds: ENV                    # cloud credentials from the environment (never in files)
    token_env: ACTIVELOOP_TOKEN   # the name of the variable holding an al:// token

Every problem raises :class:`~promptlab.experiments.config.SpecError` naming the key path,
e.g. ``arms.rag.retriever.embedder.model``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from promptlab.errors import ConfigurationError, DataError
from promptlab.experiments.config._spec_checks import (
    Path_,
    SpecError,
    SpecReader,
    check_keys,
    expect_mapping,
    shown,
)
from promptlab.retrieval import (
    BM25Retriever,
    Embedder,
    EmbeddingRetriever,
    LlamaCppEmbedder,
    OpenAIEmbedder,
    Retriever,
)

_COMMON = frozenset(
    {"type", "corpus", "k", "chunk_size", "chunk_overlap", "index_dir", "text_field", "id_field"}
)
#: The keys each retriever type takes.
RETRIEVER_KEYS: dict[str, frozenset[str]] = {
    "bm25": _COMMON | {"stopwords", "k1", "b", "method"},
    "embedding": _COMMON | {"embedder", "cache"},
}
_DEEPLAKE = frozenset(
    {
        "type", "path", "corpus", "embedder", "k", "chunk_size", "chunk_overlap",
        "text_field", "id_field", "text_column", "id_column", "embedding_column",
        "filter", "vector_index", "creds", "token_env",
    }
)  # fmt: skip
RETRIEVER_KEYS["deeplake"] = _DEEPLAKE
_REQUIRED = {
    "bm25": ("corpus",),
    "embedding": ("corpus", "embedder"),
    "deeplake": ("path", "embedder"),
}
#: The keys each embedder type takes.
EMBEDDER_KEYS: dict[str, frozenset[str]] = {
    "openai": frozenset(
        {
            "type",
            "model",
            "base_url",
            "api_key_env",
            "dimensions",
            "batch_size",
            "timeout",
            "max_retries",
        }
    ),
    "llama_cpp": frozenset({"type", "model_path", "pooling", "n_ctx", "n_threads", "batch_size"}),
}
_EMBEDDER_ALIASES = {
    "openai_compatible": "openai",
    "llama_server": "openai",
    "llamacpp": "llama_cpp",
}


def retriever_from_spec(spec: Any, where: Path_, base_dir: Path) -> Retriever:
    """A :class:`~promptlab.retrieval.Retriever` from its experiment-file spec.

    Args:
        spec: The mapping under a ``retriever:`` key (see the module docstring).
        where: The key path of ``spec`` in the file, for error messages, e.g.
            ``("arms", "rag", "retriever")``.
        base_dir: The experiment file's folder: relative ``corpus``, ``index_dir`` and
            ``model_path`` values start there.

    Raises:
        SpecError: An unknown or missing key, a value of the wrong type, or a retriever
            that cannot be built (missing corpus file, empty corpus...), with the key path.

    Example:
        >>> retriever_from_spec({"type": "bm25", "corpus": "town.jsonl"}, ("retriever",), folder)
    """
    mapping = expect_mapping(
        spec, where, "a retriever spec such as {type: bm25, corpus: passages.jsonl}"
    )
    kind = _kind(mapping, where, RETRIEVER_KEYS, {}, "retriever")
    check_keys(mapping, RETRIEVER_KEYS[kind], _REQUIRED[kind], where, f"a {kind} retriever")
    if kind == "deeplake":
        return _deeplake(mapping, where, base_dir)
    get = SpecReader(mapping, where)
    options: dict[str, Any] = {
        "k": get.integer("k", 1, 4),
        "chunk_size": _chunk_size(mapping, where),
        "chunk_overlap": get.integer("chunk_overlap", 0, None),
        "text_field": get.string("text_field") or "text",
        "id_field": get.string("id_field") or "id",
    }
    if "index_dir" in mapping:
        options["index_dir"] = _path(get.string("index_dir"), (*where, "index_dir"), base_dir)
    corpus = _corpus(mapping["corpus"], (*where, "corpus"), base_dir)
    try:
        if kind == "bm25":
            for key in ("k1", "b"):
                if key in mapping:
                    options[key] = get.number(key, 0.0, 0.0)
            if "method" in mapping:
                options["method"] = get.string("method")
            if "stopwords" in mapping:
                options["stopwords"] = _stopwords(mapping["stopwords"], (*where, "stopwords"))
            return BM25Retriever(corpus, **options)
        embedder = _embedder(mapping["embedder"], (*where, "embedder"), base_dir)
        options["cache"] = _cache(mapping.get("cache", True), (*where, "cache"), base_dir)
        return EmbeddingRetriever(corpus, embedder, **options)
    except SpecError:
        raise
    except (ConfigurationError, DataError) as exc:
        raise SpecError(where, str(exc)) from exc


def _kind(
    mapping: Mapping[str, Any],
    where: Path_,
    kinds: Mapping[str, Any],
    aliases: Mapping[str, str],
    what: str,
) -> str:
    raw = mapping.get("type")
    if raw is None:
        raise SpecError((*where, "type"), f"missing required key; one of {', '.join(kinds)}.")
    kind = str(raw).strip().lower().replace("-", "_").replace(".", "_")
    kind = aliases.get(kind, kind)
    if not isinstance(raw, str) or kind not in kinds:
        raise SpecError(
            (*where, "type"), f"unknown {what} type {raw!r}; expected one of {', '.join(kinds)}."
        )
    return kind


def _corpus(value: Any, where: Path_, base_dir: Path) -> Any:
    if isinstance(value, str) and value.strip():
        path = _path(value, where, base_dir)
        if not path.exists():
            raise SpecError(
                where,
                f"no corpus file or folder {str(path)!r} (paths are relative to the "
                "experiment file's folder).",
            )
        return path
    if isinstance(value, list) and value:
        for index, item in enumerate(value):
            if not isinstance(item, (str, Mapping)):
                raise SpecError(
                    (*where, index), f"expected a string or an {{id, text}} row, got {shown(item)}."
                )
        return value
    raise SpecError(
        where,
        "expected the path of a .jsonl/.csv file or of a folder of .txt/.md files, or a "
        f"non-empty list of passages, got {shown(value)}.",
    )


def _path(value: str | None, where: Path_, base_dir: Path) -> Path:
    if not value:
        raise SpecError(where, "expected a path.")
    path = Path(value).expanduser()
    return path if path.is_absolute() else base_dir / path


def _chunk_size(mapping: Mapping[str, Any], where: Path_) -> int | None:
    if "chunk_size" in mapping and mapping["chunk_size"] is None:
        return None  # null: each document whole
    value: int = SpecReader(mapping, where).integer("chunk_size", 1, 200)
    return value


def _stopwords(value: Any, where: Path_) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(word, str) for word in value):
        return value
    raise SpecError(
        where, f"expected a language code (en), a list of words, or null; got {shown(value)}."
    )


def _cache(value: Any, where: Path_, base_dir: Path) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value:
        return _path(value, where, base_dir)
    raise SpecError(where, f"expected true, false or the path of a cache file, got {shown(value)}.")


def _embedder(value: Any, where: Path_, base_dir: Path) -> Embedder:
    mapping = expect_mapping(value, where, "an embedder spec such as {type: openai, model: ...}")
    kind = _kind(mapping, where, EMBEDDER_KEYS, _EMBEDDER_ALIASES, "embedder")
    if "api_key" in mapping:
        raise SpecError(
            (*where, "api_key"),
            "an API key never goes in an experiment file; put it in an environment "
            "variable and name that variable with api_key_env.",
        )
    check_keys(mapping, EMBEDDER_KEYS[kind], (), where, f"a {kind} embedder")
    get = SpecReader(mapping, where)
    options: dict[str, Any] = {}
    if "batch_size" in mapping:
        options["batch_size"] = get.integer("batch_size", 1, None)
    try:
        if kind == "openai":
            model = get.string("model")
            if not model:
                raise SpecError((*where, "model"), "missing required key for an openai embedder.")
            for key in ("base_url", "api_key_env"):
                if key in mapping:
                    options[key] = get.string(key)
            for key in ("dimensions", "max_retries"):
                if key in mapping:
                    options[key] = get.integer(key, 1 if key == "dimensions" else 0, None)
            if "timeout" in mapping:
                options["timeout"] = get.number("timeout", 0.0, 60.0)
            return OpenAIEmbedder(model, **options)
        if "model_path" in mapping:
            path = _path(get.string("model_path"), (*where, "model_path"), base_dir)
            if not path.is_file():
                raise SpecError((*where, "model_path"), f"no model file {str(path)!r}.")
            options["model_path"] = path
        if "pooling" in mapping:
            options["pooling"] = get.string("pooling")
        for key in ("n_ctx", "n_threads"):
            if key in mapping:
                options[key] = get.integer(key, 1, None)
        return LlamaCppEmbedder(**options)
    except SpecError:
        raise
    except (ConfigurationError, DataError) as exc:
        raise SpecError(where, str(exc)) from exc


def _deeplake(mapping: Mapping[str, Any], where: Path_, base_dir: Path) -> Retriever:
    from promptlab.retrieval import DeepLakeRetriever

    get = SpecReader(mapping, where)
    raw_path = get.string("path")
    if not raw_path:
        raise SpecError((*where, "path"), "expected a folder or a dataset URL.")
    path: str | Path = (
        raw_path if "://" in raw_path else _path(raw_path, (*where, "path"), base_dir)
    )
    creds = mapping.get("creds")
    if creds is not None and creds != "ENV":
        raise SpecError(
            (*where, "creds"),
            "credentials never go in an experiment file; write creds: ENV to read them from "
            "the environment (AWS_*, GOOGLE_*, AZURE_* variables or an instance role).",
        )
    options: dict[str, Any] = {"k": get.integer("k", 1, 4), "creds": creds}
    token_env = get.string("token_env")
    if token_env:
        token = os.environ.get(token_env)
        if not token:
            raise SpecError(
                (*where, "token_env"), f"the environment variable {token_env!r} is not set."
            )
        options["token"] = token
    embedder = _embedder(mapping["embedder"], (*where, "embedder"), base_dir)
    try:
        if "corpus" in mapping:
            corpus = _corpus(mapping["corpus"], (*where, "corpus"), base_dir)
            return DeepLakeRetriever.from_corpus(
                corpus,
                path,
                embedder,
                chunk_size=_chunk_size(mapping, where),
                chunk_overlap=get.integer("chunk_overlap", 0, None),
                text_field=get.string("text_field") or "text",
                id_field=get.string("id_field") or "id",
                vector_index=get.boolean("vector_index", False),
                **options,
            ).with_filter(_filter(mapping, where))
        for key in ("chunk_size", "chunk_overlap", "text_field", "id_field", "vector_index"):
            if key in mapping:
                raise SpecError((*where, key), "only used when building from a corpus.")
        for key in ("text_column", "id_column", "embedding_column"):
            if key in mapping:
                options[key] = get.string(key)
        return DeepLakeRetriever(path, embedder, filter=_filter(mapping, where), **options)
    except SpecError:
        raise
    except (ConfigurationError, DataError) as exc:
        raise SpecError(where, str(exc)) from exc


def _filter(mapping: Mapping[str, Any], where: Path_) -> Mapping[str, Any] | None:
    if mapping.get("filter") is None:
        return None
    return expect_mapping(
        mapping["filter"], (*where, "filter"), "a mapping of column or metadata values"
    )
