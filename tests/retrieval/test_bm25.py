"""BM25Retriever: retrieval quality on a fixed corpus, and the saved index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptlab.errors import ConfigurationError, DataError, EmptyQueryError
from promptlab.retrieval import BM25Retriever, Document
from tests.retrieval.town_corpus import PASSAGES, QUERIES


@pytest.fixture
def town() -> BM25Retriever:
    return BM25Retriever(PASSAGES)


@pytest.mark.parametrize(("query", "answer_id"), QUERIES)
def test_the_right_passage_comes_first(town: BM25Retriever, query: str, answer_id: str) -> None:
    top = town.retrieve_sync(query, k=1)
    assert [doc.id for doc in top] == [answer_id]


async def test_results_are_ranked_best_first_with_scores_and_metadata(town: BM25Retriever) -> None:
    docs = await town.retrieve("harbour bell lighthouse", k=3)
    assert [d.id for d in docs][:2] == ["harbour", "lighthouse"]
    scores = [d.score for d in docs]
    assert all(s is not None and s > 0 for s in scores)
    assert scores == sorted(scores, reverse=True)
    assert docs[0].metadata["title"] == "The harbour"
    assert docs[0].metadata["source_id"] == "harbour"


def test_passages_sharing_no_word_with_the_query_are_not_returned(town: BM25Retriever) -> None:
    assert town.retrieve_sync("zeppelin", k=4) == []
    # Only stop words: nothing to match either.
    assert town.retrieve_sync("the and of", k=4) == []


def test_k_defaults_to_the_retrievers_k_and_is_capped_by_the_corpus() -> None:
    retriever = BM25Retriever(["red apple", "red car", "red sky"], k=2)
    assert len(retriever.retrieve_sync("red")) == 2
    assert len(retriever.retrieve_sync("red", k=50)) == 3


def test_an_empty_query_is_a_clear_error(town: BM25Retriever) -> None:
    with pytest.raises(EmptyQueryError, match="must be a string with some text"):
        town.retrieve_sync("   ")
    with pytest.raises(ConfigurationError, match="k=0 is not allowed"):
        town.retrieve_sync("bell", k=0)


def test_long_documents_are_chunked_and_hits_name_their_chunk() -> None:
    filler = " ".join(f"filler{i}" for i in range(30))
    long_doc = {"id": "guide", "text": f"{filler} the secret password is swordfish {filler}"}
    retriever = BM25Retriever([long_doc], chunk_size=20, chunk_overlap=5)
    assert [c.id for c in retriever.chunks] == ["guide#0", "guide#1", "guide#2", "guide#3"]
    [hit] = retriever.retrieve_sync("password swordfish", k=1)
    assert "swordfish" in hit.text
    assert hit.metadata["source_id"] == "guide"


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def test_the_index_is_saved_and_loaded_without_rebuilding(tmp_path: Path) -> None:
    corpus, index = tmp_path / "town.jsonl", tmp_path / "index"
    write_jsonl(corpus, PASSAGES)
    first = BM25Retriever(corpus, index_dir=index)
    assert not first.loaded_from_disk
    assert (index / "promptlab-index.json").is_file()

    second = BM25Retriever(corpus, index_dir=index)
    assert second.loaded_from_disk
    assert second.retrieve_sync("lantern festival", k=1) == first.retrieve_sync(
        "lantern festival", k=1
    )

    loaded = BM25Retriever.load(index)
    assert [d.id for d in loaded.retrieve_sync("brass bell", k=1)] == ["harbour"]


def test_the_index_is_rebuilt_when_the_corpus_or_a_setting_changes(tmp_path: Path) -> None:
    corpus, index = tmp_path / "town.jsonl", tmp_path / "index"
    write_jsonl(corpus, PASSAGES)
    BM25Retriever(corpus, index_dir=index)

    edited = [*PASSAGES[:-1], {"id": "cheese", "text": "The dairy sells goat cheese."}]
    write_jsonl(corpus, edited)
    rebuilt = BM25Retriever(corpus, index_dir=index)
    assert not rebuilt.loaded_from_disk
    assert rebuilt.retrieve_sync("goat", k=1)[0].id == "cheese"
    assert BM25Retriever(corpus, index_dir=index).loaded_from_disk  # and saved again

    assert not BM25Retriever(corpus, index_dir=index, chunk_size=5).loaded_from_disk
    assert not BM25Retriever(corpus, index_dir=index, chunk_size=5, k1=1.2).loaded_from_disk


def test_an_interrupted_save_is_never_trusted(tmp_path: Path) -> None:
    index = tmp_path / "index"
    BM25Retriever(PASSAGES, index_dir=index)
    (index / "promptlab-index.json").unlink()  # as if the process died before the manifest
    assert not BM25Retriever(PASSAGES, index_dir=index).loaded_from_disk


def test_loading_a_directory_without_an_index_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no complete BM25 index here"):
        BM25Retriever.load(tmp_path)


def test_bad_settings_are_clear_errors() -> None:
    with pytest.raises(ConfigurationError, match="method='bm26'"):
        BM25Retriever(PASSAGES, method="bm26")
    with pytest.raises(ConfigurationError, match="chunk_overlap=10 is not allowed"):
        BM25Retriever(PASSAGES, chunk_size=10, chunk_overlap=10)
    with pytest.raises(ConfigurationError, match="stopwords='klingon' is not allowed"):
        BM25Retriever(PASSAGES, stopwords="klingon")


def test_stopwords_can_be_turned_off() -> None:
    docs = ["to be or not to be", "the quick brown fox"]
    assert BM25Retriever(docs).retrieve_sync("to be") == []  # all English stop words
    assert BM25Retriever(docs, stopwords=None).retrieve_sync("to be", k=1)[0].id == "0"


def test_fingerprint_changes_with_the_corpus() -> None:
    one = BM25Retriever(PASSAGES).fingerprint()
    two = BM25Retriever([*PASSAGES, Document("extra", "More text.")]).fingerprint()
    assert one["index"] != two["index"]
    assert one == BM25Retriever(PASSAGES).fingerprint()
