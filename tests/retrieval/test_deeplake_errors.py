"""Every way DeepLakeRetriever can be misused gives a PromptlabError naming the fix, and no
credential ever appears in a message, a repr or a fingerprint."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("deeplake")  # the "deeplake" extra, installed by `make test`
import deeplake

from promptlab.errors import (
    ConfigurationError,
    CorpusNotFoundError,
    DataError,
    EmbeddingDimensionError,
    MissingCredentialsError,
    MissingDependencyError,
    RetrievalError,
)
from promptlab.retrieval import DeepLakeRetriever, OpenAIEmbedder
from promptlab.retrieval._deeplake_access import (
    Secrets,
    check_credentials,
    dataset_location,
    translated,
)
from tests.retrieval.deeplake_support import Interrupted, SeededEmbedder
from tests.retrieval.town_corpus import PASSAGES

SECRETS = {"aws_access_key_id": "AKIAFAKESECRET1234", "aws_secret_access_key": "s3cr3t-value-xyz"}
TOKEN = "al-token-very-secret-42"
CLOUD_ENV = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_SHARED_CREDENTIALS_FILE",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "CLOUDSDK_CONFIG",
    "AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_CLIENT_ID",
    "ACTIVELOOP_TOKEN",
)


@pytest.fixture
def town(tmp_path: Path) -> Path:
    path = tmp_path / "town"
    DeepLakeRetriever.from_corpus(PASSAGES, path, SeededEmbedder(), progress=False, cache=False)
    return path


@pytest.fixture
def no_cloud_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in CLOUD_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "empty-home"))  # no ~/.aws, no gcloud


def test_a_missing_dataset_names_the_path_and_how_to_build_one(tmp_path: Path) -> None:
    with pytest.raises(CorpusNotFoundError, match=r"no Deep Lake dataset here.*from_corpus") as e:
        DeepLakeRetriever(tmp_path / "nowhere", SeededEmbedder())
    assert e.value.source == str((tmp_path / "nowhere").resolve())


def test_a_missing_column_lists_the_columns_there_are(town: Path) -> None:
    with pytest.raises(DataError, match=r"no column 'body' \(its columns: id, text, metadata, "):
        DeepLakeRetriever(town, SeededEmbedder(), text_column="body")
    with pytest.raises(DataError, match=r"embedding_column=") as e:
        DeepLakeRetriever(town, SeededEmbedder(), embedding_column="vectors")
    assert e.value.field == "vectors"
    with pytest.raises(DataError, match="metadata_column="):
        DeepLakeRetriever(town, SeededEmbedder(), metadata_column="extra")


def test_a_column_of_the_wrong_kind_is_refused(town: Path) -> None:
    with pytest.raises(DataError, match=r"column 'embedding' holds embedding\(32.*text column"):
        DeepLakeRetriever(town, SeededEmbedder(), text_column="embedding")
    with pytest.raises(DataError, match="cannot be the embedding column"):
        DeepLakeRetriever(town, SeededEmbedder(), embedding_column="text")


def test_an_embedding_size_mismatch_is_caught_at_the_first_query(town: Path) -> None:
    retriever = DeepLakeRetriever(town, SeededEmbedder(16))
    with pytest.raises(EmbeddingDimensionError, match="stores vectors of 32") as e:
        retriever.retrieve_sync("lighthouse")
    assert (e.value.expected, e.value.got) == (32, 16)


def test_a_declared_embedding_size_is_checked_when_the_dataset_opens(town: Path) -> None:
    declared = OpenAIEmbedder("embed", base_url="http://127.0.0.1:9/v1", dimensions=64)
    with pytest.raises(EmbeddingDimensionError, match="Use the embedding model"):
        DeepLakeRetriever(town, declared)


@pytest.mark.parametrize(
    ("url", "fix"),
    [
        ("s3://bucket/store", "AWS_ACCESS_KEY_ID"),
        ("gcs://bucket/store", "GOOGLE_APPLICATION_CREDENTIALS"),
        ("azure://account/container/store", "AZURE_STORAGE_CONNECTION_STRING"),
        ("al://org/dataset", "ACTIVELOOP_TOKEN"),
    ],
)
@pytest.mark.usefixtures("no_cloud_credentials")
def test_a_cloud_url_without_credentials_fails_before_any_network_call(url: str, fix: str) -> None:
    with pytest.raises(MissingCredentialsError, match=fix) as e:
        DeepLakeRetriever(url, SeededEmbedder())
    assert e.value.url == url
    with pytest.raises(MissingCredentialsError):
        DeepLakeRetriever.from_corpus(PASSAGES, url, SeededEmbedder(), progress=False)


@pytest.mark.usefixtures("no_cloud_credentials")
def test_credentials_from_arguments_environment_or_env_pass_the_check(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    s3 = dataset_location("s3://bucket/store")
    check_credentials(s3, SECRETS, None)
    check_credentials(s3, "ENV", None)  # an instance role: Deep Lake's own chain decides
    check_credentials(dataset_location("al://org/ds"), None, TOKEN)
    aws = tmp_path / "empty-home" / ".aws"
    aws.mkdir(parents=True)
    (aws / "credentials").write_text("[default]\n")
    check_credentials(s3, None, None)
    monkeypatch.setenv("ACTIVELOOP_TOKEN", TOKEN)
    check_credentials(dataset_location("al://org/ds"), None, None)


def test_an_unknown_scheme_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="not a Deep Lake location"):
        DeepLakeRetriever("https://example.org/store", SeededEmbedder())


def test_credentials_never_appear_in_fingerprint_repr_or_errors(town: Path, tmp_path: Path) -> None:
    retriever = DeepLakeRetriever(town, SeededEmbedder(), creds=SECRETS, token=TOKEN)
    shown = json.dumps(retriever.fingerprint()) + repr(retriever) + repr(retriever._secrets)
    with pytest.raises(CorpusNotFoundError) as missing:
        DeepLakeRetriever(tmp_path / "nothing", SeededEmbedder(), creds=SECRETS, token=TOKEN)
    shown += str(missing.value)
    # A storage error that quotes a credential is shown with it masked, and not chained.
    secrets = Secrets(SECRETS, TOKEN)
    with (
        pytest.raises(RetrievalError, match=r"denied for \*\*\*") as failed,
        translated(dataset_location("s3://b/s"), secrets, "opening"),
    ):
        raise RuntimeError(f"access denied for {SECRETS['aws_access_key_id']} / {TOKEN}")
    assert failed.value.__cause__ is None
    shown += str(failed.value)
    for value in [*SECRETS.values(), TOKEN]:
        assert value not in shown


def test_building_over_another_dataset_needs_overwrite(town: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="another corpus or with other settings"):
        DeepLakeRetriever.from_corpus(PASSAGES[:5], town, SeededEmbedder(), progress=False)
    rebuilt = DeepLakeRetriever.from_corpus(
        PASSAGES[:5], town, SeededEmbedder(), progress=False, overwrite=True
    )
    assert rebuilt.rows == 5

    theirs = tmp_path / "theirs"
    dataset = deeplake.create(str(theirs))
    dataset.add_column("text", deeplake.types.Text())
    dataset.commit()
    with pytest.raises(ConfigurationError, match="promptlab did not build"):
        DeepLakeRetriever.from_corpus(PASSAGES, theirs, SeededEmbedder(), progress=False)


def test_a_build_that_cannot_resume_says_so(tmp_path: Path) -> None:
    path = tmp_path / "tampered"
    with pytest.raises(Interrupted):
        DeepLakeRetriever.from_corpus(
            PASSAGES, path, SeededEmbedder(fail_after=1), batch_size=3, progress=False
        )
    writer = deeplake.open(str(path))
    vector = np.ones(32, dtype=np.float32) / np.sqrt(32)
    writer.append({"id": ["stranger"], "text": ["?"], "metadata": [{}], "embedding": [vector]})
    writer.commit("someone else's row")
    with pytest.raises(DataError, match=r"cannot resume.*overwrite=True"):
        DeepLakeRetriever.from_corpus(PASSAGES, path, SeededEmbedder(), batch_size=3)


@pytest.mark.parametrize(
    ("conditions", "message"),
    [
        ({"title": {"nested": 1}}, "is not allowed: give a string"),
        ({"title": []}, "empty list"),
        ({"title": float("nan")}, "is not allowed"),
        ({"": "x"}, "filter key"),
    ],
)
def test_a_bad_filter_is_refused(town: Path, conditions: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        DeepLakeRetriever(town, SeededEmbedder(), filter=conditions)


def test_deep_memory_needs_an_activeloop_dataset(town: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"deep_memory=True needs .* al://"):
        DeepLakeRetriever(town, SeededEmbedder(), deep_memory=True)


def test_a_query_engine_without_deep_memory_gives_a_clear_error(town: Path) -> None:
    # The local engine stands in for a managed dataset with no trained model: the same
    # TQL goes through the same query path and meets the engine's own refusal.
    retriever = DeepLakeRetriever(town, SeededEmbedder())
    retriever.deep_memory = True
    with pytest.raises(ConfigurationError, match="Deep Memory is not available"):
        retriever.retrieve_sync("lighthouse")


def test_without_the_extra_the_error_names_it(town: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "deeplake", None)  # as if it were not installed
    with pytest.raises(MissingDependencyError, match=r'pip install "promptlab\[deeplake\]"'):
        DeepLakeRetriever(town, SeededEmbedder())
