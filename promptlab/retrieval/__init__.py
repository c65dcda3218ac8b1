"""Retrieval: find the passages of a corpus that are relevant to a query.

One contract, :class:`Retriever` (``async retrieve(query, k) -> list[Document]`` and
``retrieve_sync``), and four kinds of retriever:

- :class:`BM25Retriever`, keyword search with ``bm25s``, the default (no model, no
  network; ``pip install "promptlab[retrieval]"``);
- :class:`EmbeddingRetriever`, exact cosine search over vectors from an
  :class:`Embedder`: :class:`OpenAIEmbedder` (OpenAI, vLLM, ``llama-server
  --embeddings``), :class:`LlamaCppEmbedder` (in-process llama.cpp) or
  :class:`LangChainEmbedder` (any LangChain ``Embeddings``);
- :class:`DeepLakeRetriever`, vector search by Activeloop Deep Lake's query engine in a
  dataset kept in a folder or on cloud storage (``pip install "promptlab[deeplake]"``);
- :class:`LangChainRetriever`, any LangChain ``BaseRetriever``.

Corpora are read by :func:`load_corpus` and split by :func:`chunk_documents`; BM25 and
embedding indexes can be saved to a directory and are rebuilt only when the corpus or
their settings change.

Example:
    >>> from promptlab.retrieval import BM25Retriever
    >>> retriever = BM25Retriever("passages.jsonl", index_dir=".index/passages")
    >>> for doc in retriever.retrieve_sync("When is the harbour festival?", k=2):
    ...     print(doc.id, doc.score, doc.text)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import lazy_loader

from promptlab.retrieval._document import Document
from promptlab.retrieval._retriever import Retriever

if TYPE_CHECKING:
    from promptlab.retrieval._bm25 import BM25Retriever
    from promptlab.retrieval._chunking import chunk_documents
    from promptlab.retrieval._corpus import load_corpus
    from promptlab.retrieval._deeplake import DeepLakeRetriever
    from promptlab.retrieval._embedder import Embedder
    from promptlab.retrieval._embedding import EmbeddingRetriever
    from promptlab.retrieval._langchain import LangChainRetriever
    from promptlab.retrieval._langchain_embedder import LangChainEmbedder
    from promptlab.retrieval._llama_cpp_embedder import LlamaCppEmbedder
    from promptlab.retrieval._openai_embedder import OpenAIEmbedder

# The retrievers and embedders pull in NumPy, the OpenAI provider and Deep Lake, which a
# strategy that only needs ``Document`` and ``Retriever`` must not pay for at import time
# (``import promptlab; promptlab.ZeroShot``): they load on first use.
__getattr__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "_bm25": ["BM25Retriever"],
        "_chunking": ["chunk_documents"],
        "_corpus": ["load_corpus"],
        "_deeplake": ["DeepLakeRetriever"],
        "_embedder": ["Embedder"],
        "_embedding": ["EmbeddingRetriever"],
        "_langchain": ["LangChainRetriever"],
        "_langchain_embedder": ["LangChainEmbedder"],
        "_llama_cpp_embedder": ["LlamaCppEmbedder"],
        "_openai_embedder": ["OpenAIEmbedder"],
    },
)[0]

__all__ = [
    "BM25Retriever",
    "DeepLakeRetriever",
    "Document",
    "Embedder",
    "EmbeddingRetriever",
    "LangChainEmbedder",
    "LangChainRetriever",
    "LlamaCppEmbedder",
    "OpenAIEmbedder",
    "Retriever",
    "chunk_documents",
    "load_corpus",
]
