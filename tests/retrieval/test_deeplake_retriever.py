"""DeepLakeRetriever on embedded (local folder and in-memory) datasets: Deep Lake's own TQL
search gives the same top-k as exact cosine search in NumPy over the same vectors."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("deeplake")  # the "deeplake" extra, installed by `make test`
import deeplake

from promptlab.errors import ConfigurationError
from promptlab.retrieval import DeepLakeRetriever, Document
from promptlab.sync import run_sync
from tests.retrieval.deeplake_support import (
    Interrupted,
    SeededEmbedder,
    exact_top_k,
    generated_corpus,
)
from tests.retrieval.town_corpus import PASSAGES

CORPUS = generated_corpus(300)
TEXTS = [str(row["text"]) for row in CORPUS]
IDS = [str(row["id"]) for row in CORPUS]
SEARCHES = [
    "steam train ticket",
    "rye bread oven",
    "whale skeleton museum",
    "goal stadium supporters shirt",
    "lantern river granite",
    "harbour boat quay bell number 17",
]
_names = itertools.count()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> DeepLakeRetriever:
    path = tmp_path_factory.mktemp("deeplake") / "generated"
    return DeepLakeRetriever.from_corpus(
        CORPUS, path, SeededEmbedder(), batch_size=64, progress=False, cache=False
    )


@pytest.mark.parametrize("query", SEARCHES)
def test_top_k_is_exact_cosine_search_over_the_same_vectors(
    built: DeepLakeRetriever, query: str
) -> None:
    # The check embeds the corpus itself, with no promptlab search code involved.
    embedder = SeededEmbedder()
    vectors = np.stack([embedder.vector(text) for text in TEXTS])
    expected = exact_top_k(vectors, IDS, embedder.vector(query), 8)
    found = built.retrieve_sync(query, k=8)
    assert [doc.id for doc in found] == [doc_id for doc_id, _ in expected]
    assert [doc.score for doc in found] == pytest.approx([s for _, s in expected], abs=1e-5)


def test_a_metadata_filter_searches_only_matching_rows(built: DeepLakeRetriever) -> None:
    embedder = SeededEmbedder()
    keep = [i for i, row in enumerate(CORPUS) if row["topic"] == "bakery" and row["year"] != 2003]
    vectors = np.stack([embedder.vector(TEXTS[i]) for i in keep])
    query = "steam train ticket"
    expected = exact_top_k(vectors, [IDS[i] for i in keep], embedder.vector(query), 5)
    bakery = built.with_filter({"topic": "bakery", "year": [2000, 2001, 2002, 2004]})
    assert [doc.id for doc in bakery.retrieve_sync(query, k=5)] == [i for i, _ in expected]
    assert all(doc.metadata["topic"] == "bakery" for doc in bakery.retrieve_sync(query, k=5))
    # The unfiltered retriever is untouched, and the filter is part of the identity.
    assert built.filter == {}
    assert bakery.fingerprint()["filter"] == {"topic": "bakery", "year": [2000, 2001, 2002, 2004]}
    assert bakery.fingerprint() != built.fingerprint()


def test_documents_carry_id_text_metadata_and_cosine_score() -> None:
    retriever = DeepLakeRetriever.from_corpus(
        PASSAGES, f"mem://town-{next(_names)}", SeededEmbedder(256), progress=False, cache=False
    )
    best = retriever.retrieve_sync("harbour master brass bell quay", k=2)[0]
    passage = next(p for p in PASSAGES if p["id"] == best.id)
    assert isinstance(best, Document)
    assert best.text == passage["text"]
    assert best.metadata == {"title": passage["title"], "source_id": best.id, "chunk": 0}
    assert best.score is not None and -1.0 <= best.score <= 1.0
    assert best.id == "harbour"  # the passage sharing the most words with the query


def test_a_finished_dataset_reopens_without_any_embedding_call(tmp_path: Path) -> None:
    path = tmp_path / "town"
    first = SeededEmbedder(batch_size=4)
    built = DeepLakeRetriever.from_corpus(PASSAGES, path, first, batch_size=4, progress=False)
    assert first.calls == [4, 4, 2]
    assert built.build_report is not None and built.build_report.written == len(PASSAGES)
    again = SeededEmbedder(batch_size=4)
    reopened = DeepLakeRetriever.from_corpus(PASSAGES, path, again, batch_size=4, progress=False)
    assert again.calls == []
    assert reopened.build_report is not None and reopened.build_report.written == 0
    assert reopened.rows == len(PASSAGES)


def test_an_interrupted_build_resumes_where_it_stopped_without_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "interrupted"
    with pytest.raises(Interrupted):
        DeepLakeRetriever.from_corpus(
            CORPUS[:100], path, SeededEmbedder(fail_after=2), batch_size=16, progress=False
        )
    assert len(deeplake.open_read_only(str(path))) == 32  # two committed batches survive

    resumed_embedder = SeededEmbedder()
    resumed = DeepLakeRetriever.from_corpus(
        CORPUS[:100], path, resumed_embedder, batch_size=16, progress=False
    )
    assert sum(resumed_embedder.calls) == 100 - 32  # only the rows not yet written
    assert resumed.build_report is not None and resumed.build_report.resumed_from == 32
    dataset = deeplake.open_read_only(str(path))  # a column lives as long as its dataset
    stored = [str(i) for i in dataset["id"][:]]
    assert stored == IDS[:100]  # every row once, in corpus order

    clean = DeepLakeRetriever.from_corpus(
        CORPUS[:100], tmp_path / "clean", SeededEmbedder(), batch_size=16, progress=False
    )
    for query in SEARCHES:
        got, want = resumed.retrieve_sync(query, k=5), clean.retrieve_sync(query, k=5)
        assert [d.id for d in got] == [d.id for d in want]
        assert [d.score for d in got] == pytest.approx([d.score for d in want])


def test_opens_a_dataset_made_elsewhere_by_its_column_names(tmp_path: Path) -> None:
    embedder = SeededEmbedder(24)
    vectors = np.stack([embedder.vector(text) for text in TEXTS[:60]]).astype(np.float32)
    dataset = deeplake.create(str(tmp_path / "theirs"))
    dataset.add_column("body", deeplake.types.Text())
    dataset.add_column("doc_no", deeplake.types.Int64())
    dataset.add_column("vec", deeplake.types.Embedding(24))
    dataset.add_column("extra", deeplake.types.Dict())
    dataset.append(
        {
            "body": TEXTS[:60],
            "doc_no": list(range(60)),
            "vec": vectors,  # not unit length: COSINE_SIMILARITY does not need it
            "extra": [{"topic": row["topic"]} for row in CORPUS[:60]],
        }
    )
    dataset.commit("made by another tool")
    retriever = DeepLakeRetriever(
        tmp_path / "theirs",
        embedder,
        text_column="body",
        id_column="doc_no",
        embedding_column="vec",
        metadata_column="extra",
    )
    query = "rye bread oven"
    expected = exact_top_k(vectors, [str(i) for i in range(60)], embedder.vector(query), 4)
    found = retriever.retrieve_sync(query, k=4)
    assert [d.id for d in found] == [i for i, _ in expected]
    assert found[0].text == TEXTS[int(found[0].id)]
    assert found[0].metadata == {"topic": CORPUS[int(found[0].id)]["topic"]}
    # Without a metadata column, a filter key must be a column.
    bare = DeepLakeRetriever(
        tmp_path / "theirs", embedder, text_column="body", id_column="doc_no",
        embedding_column="vec", metadata_column=None,
    )  # fmt: skip
    assert bare.retrieve_sync(query, k=1)[0].metadata == {}
    with pytest.raises(ConfigurationError, match="no metadata column"):
        bare.with_filter({"topic": "bakery"})
    assert [d.id for d in bare.with_filter({"doc_no": [3, 4]}).retrieve_sync(query, k=5)] in (
        ["3", "4"],
        ["4", "3"],
    )


def test_the_fingerprint_follows_each_commit_and_names_the_embedder(tmp_path: Path) -> None:
    path = tmp_path / "growing"
    embedder = SeededEmbedder()
    before = DeepLakeRetriever.from_corpus(PASSAGES[:6], path, embedder, progress=False)
    print_1 = before.fingerprint()
    assert print_1["location"] == str(path.resolve())
    assert print_1["embedder"] == embedder.fingerprint()
    assert print_1["rows"] == 6
    writer = deeplake.open(str(path))
    writer.append(
        {
            "id": ["extra"],
            "text": ["An added passage."],
            "metadata": [{}],
            "embedding": [np.ones(32, dtype=np.float32) / np.sqrt(32)],
        }
    )
    writer.commit("one more passage")
    print_2 = DeepLakeRetriever(path, embedder).fingerprint()
    assert print_2["version"] != print_1["version"]
    assert print_2["dataset_id"] == print_1["dataset_id"]
    assert print_2["rows"] == 7


def test_vectors_of_returns_the_stored_unit_vectors_in_the_order_asked(
    built: DeepLakeRetriever,
) -> None:
    embedder = SeededEmbedder()
    got = run_sync(built.vectors_of(["p0002", "p0000"]))
    for row, index in zip(got, [2, 0], strict=True):
        expected = embedder.vector(TEXTS[index])
        assert row == pytest.approx(expected / np.linalg.norm(expected), abs=1e-6)
    with pytest.raises(ConfigurationError, match=r"no row .* has the id 'nope'"):
        run_sync(built.vectors_of(["nope"]))


def test_a_vector_index_is_built_only_on_request_and_shows_in_the_identity(
    tmp_path: Path,
) -> None:
    path = tmp_path / "indexed"
    exact = DeepLakeRetriever.from_corpus(CORPUS, path, SeededEmbedder(), progress=False)
    assert exact.vector_index is False and exact.fingerprint()["vector_index"] is False
    embedder = SeededEmbedder()
    indexed = DeepLakeRetriever.from_corpus(
        CORPUS, path, embedder, progress=False, vector_index=True
    )
    assert embedder.calls == []  # the rows were there: only the index was built
    assert indexed.fingerprint()["vector_index"] is True
    assert indexed.fingerprint()["version"] != exact.fingerprint()["version"]
    # Approximate or not, every score is the true cosine of the passage returned.
    vectors = {
        row_id: SeededEmbedder().vector(text) for row_id, text in zip(IDS, TEXTS, strict=True)
    }
    query = SeededEmbedder().vector(SEARCHES[0])
    for doc in indexed.retrieve_sync(SEARCHES[0], k=5):
        vector = vectors[doc.id]
        cosine = vector @ query / (np.linalg.norm(vector) * np.linalg.norm(query))
        assert doc.score == pytest.approx(cosine, abs=1e-5)
