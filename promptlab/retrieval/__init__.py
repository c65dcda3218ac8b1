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

from promptlab.retrieval._bm25 import BM25Retriever
from promptlab.retrieval._chunking import chunk_documents
from promptlab.retrieval._corpus import load_corpus
from promptlab.retrieval._deeplake import DeepLakeRetriever
from promptlab.retrieval._document import Document
from promptlab.retrieval._embedder import Embedder
from promptlab.retrieval._embedding import EmbeddingRetriever
from promptlab.retrieval._langchain import LangChainRetriever
from promptlab.retrieval._langchain_embedder import LangChainEmbedder
from promptlab.retrieval._llama_cpp_embedder import LlamaCppEmbedder
from promptlab.retrieval._openai_embedder import OpenAIEmbedder
from promptlab.retrieval._retriever import Retriever

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
