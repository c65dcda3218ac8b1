"""Any LangChain ``Embeddings`` as a promptlab embedding backend: :class:`LangChainEmbedder`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from promptlab.errors import ConfigurationError, PromptlabError
from promptlab.providers.error_mapping import translate_error
from promptlab.retrieval._embedder import Embedder


class LangChainEmbedder(Embedder):
    """Wraps a LangChain ``Embeddings`` object (``OpenAIEmbeddings``,
    ``HuggingFaceEmbeddings``, ``OllamaEmbeddings``...).

    Passages go through ``aembed_documents`` and queries through ``aembed_query``, so
    models that embed the two differently keep doing so. Errors the integration raises
    are translated like the LangChain provider's.
    :class:`~promptlab.retrieval.EmbeddingRetriever` wraps a bare ``Embeddings`` in this
    class for you.

    Args:
        embeddings: The LangChain embeddings object.
        batch_size: Texts per ``aembed_documents`` call.
        dimensions: The vector size to insist on; None accepts the model's.
        name: Identifies the model in fingerprints and errors. By default the class name
            and its ``model``/``model_name`` attribute; give one when the object has
            neither, so a saved index is rebuilt when you change the model.

    Example:
        >>> from langchain_openai import OpenAIEmbeddings
        >>> embedder = LangChainEmbedder(OpenAIEmbeddings(model="text-embedding-3-small"))
    """

    def __init__(
        self,
        embeddings: Any,
        *,
        batch_size: int = 64,
        dimensions: int | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(batch_size=batch_size, dimensions=dimensions)
        if not (hasattr(embeddings, "embed_documents") and hasattr(embeddings, "embed_query")):
            raise ConfigurationError(
                f"embeddings={type(embeddings).__name__} is not a LangChain Embeddings object: "
                "it needs embed_documents() and embed_query() (and their async forms)."
            )
        self.embeddings = embeddings
        model = getattr(embeddings, "model", None) or getattr(embeddings, "model_name", None)
        label = type(embeddings).__name__ + (f":{model}" if isinstance(model, str) else "")
        self.name = name or f"langchain:{label}"

    async def _embed_batch(self, texts: list[str], *, query: bool) -> Sequence[Sequence[float]]:
        try:
            if query:
                return [await self.embeddings.aembed_query(texts[0])]
            vectors: Sequence[Sequence[float]] = await self.embeddings.aembed_documents(texts)
            return vectors
        except PromptlabError:
            raise
        except Exception as exc:
            raise translate_error(exc, provider=self.name) from exc

    def fingerprint(self) -> dict[str, Any]:
        """The wrapper's class, the embeddings' class and ``name``."""
        cls = type(self.embeddings)
        return {**super().fingerprint(), "embeddings": f"{cls.__module__}.{cls.__qualname__}"}

    def __repr__(self) -> str:
        return f"LangChainEmbedder({self.name!r})"
