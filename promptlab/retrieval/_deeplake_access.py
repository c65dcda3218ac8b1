"""Reaching a Deep Lake dataset safely: where it lives, its credentials, its errors, and
the TQL text that searches it.

- :func:`dataset_location` names a path or URL's storage kind (local folder, memory, S3,
  Google Cloud Storage, Azure, Activeloop) and a form of it that is safe to show.
- :func:`check_credentials` refuses a cloud URL that has no credentials, in an argument or
  the environment, before any network call: without them the storage client retries for a
  minute or more before it fails.
- :class:`Secrets` holds the credentials; :meth:`Secrets.scrub` takes their values out of
  any text (an error message from the storage client) before promptlab shows it.
- :func:`tql_identifier`, :func:`tql_value`, :func:`tql_vector` and :func:`tql_filter`
  write TQL literals: a column name in double quotes, a string in single quotes with
  quotes doubled, numbers at full precision.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from promptlab._checks import is_number
from promptlab.errors import (
    ConfigurationError,
    MissingCredentialsError,
    MissingDependencyError,
    PromptlabError,
    RetrievalError,
)
from promptlab.providers.fingerprints import safe_url

#: URL schemes by storage kind; a path without a scheme is a local folder.
_SCHEMES = {
    "file": "local",
    "mem": "memory",
    "tmp": "memory",
    "s3": "s3",
    "gcs": "gcs",
    "gs": "gcs",
    "gcp": "gcs",
    "azure": "azure",
    "az": "azure",
    "al": "activeloop",
}

#: Environment variables and files through which each cloud's own client finds credentials.
_CLOUD_ENV = {
    "s3": (
        "AWS_ACCESS_KEY_ID",
        "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ),
    "gcs": ("GOOGLE_APPLICATION_CREDENTIALS",),
    "azure": (
        "AZURE_STORAGE_CONNECTION_STRING",
        "AZURE_STORAGE_ACCOUNT_KEY",
        "AZURE_STORAGE_SAS_TOKEN",
        "AZURE_CLIENT_ID",
    ),
    "activeloop": ("ACTIVELOOP_TOKEN",),
}
_CLOUD_FILES = {
    "s3": ("~/.aws/credentials", "~/.aws/config"),
    "gcs": ("~/.config/gcloud/application_default_credentials.json",),
}
_HOW_TO = {
    "s3": "pass creds={'aws_access_key_id': ..., 'aws_secret_access_key': ...} (or "
    "{'profile_name': ...}), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or "
    "AWS_PROFILE) in the environment",
    "gcs": "pass creds={...} with your service-account key, or set "
    "GOOGLE_APPLICATION_CREDENTIALS to its JSON file (or run `gcloud auth "
    "application-default login`)",
    "azure": "pass creds={'account_name': ..., 'account_key': ...} (or a sas_token), or set "
    "AZURE_STORAGE_CONNECTION_STRING in the environment",
    "activeloop": "pass token=... (an Activeloop API token) or set ACTIVELOOP_TOKEN in the "
    "environment",
}


def deeplake_module() -> Any:
    """The ``deeplake`` package, or a :class:`MissingDependencyError` naming the extra."""
    try:
        import deeplake
    except ImportError:
        raise MissingDependencyError("deeplake", "deeplake", "DeepLakeRetriever") from None
    return deeplake


@dataclass(frozen=True)
class DatasetLocation:
    """Where a dataset lives.

    Attributes:
        url: What is given to ``deeplake`` (a local path stays a path).
        kind: ``"local"``, ``"memory"``, ``"s3"``, ``"gcs"``, ``"azure"`` or ``"activeloop"``.
        shown: The location as promptlab shows it (errors, fingerprints): a local folder as
            its absolute path, a URL without user, password or secret query values.
    """

    url: str
    kind: str
    shown: str

    @property
    def cloud(self) -> bool:
        """True for storage reached over the network."""
        return self.kind not in ("local", "memory")


def dataset_location(path: str | os.PathLike[str]) -> DatasetLocation:
    """The :class:`DatasetLocation` of a folder path or a Deep Lake URL.

    Raises:
        ConfigurationError: The URL's scheme is not one Deep Lake reads.
    """
    text = os.fspath(path)
    if not isinstance(text, str) or not text.strip():
        raise ConfigurationError(
            f"path={path!r} is not allowed: give a folder (./store), or a URL such as "
            "s3://bucket/store or al://org/dataset."
        )
    scheme, separator, rest = text.partition("://")
    if not separator:
        folder = Path(text).expanduser().resolve()
        return DatasetLocation(str(folder), "local", str(folder))
    kind = _SCHEMES.get(scheme.lower())
    if kind is None:
        raise ConfigurationError(
            f"path={safe_url(text)!r} is not a Deep Lake location: use a folder, or a URL "
            f"starting with {', '.join(s + '://' for s in _SCHEMES)}."
        )
    if kind == "local":
        folder = Path(rest).expanduser().resolve()
        return DatasetLocation(str(folder), "local", str(folder))
    return DatasetLocation(text, kind, safe_url(text))


def check_credentials(
    location: DatasetLocation, creds: Mapping[str, Any] | str | None, token: str | None
) -> None:
    """Refuse a cloud location with no credentials in the arguments or the environment.

    ``creds="ENV"`` skips the check (Deep Lake then asks the cloud's own credential chain,
    e.g. an EC2 instance role, which no environment variable shows).

    Raises:
        MissingCredentialsError: Nothing would let Deep Lake in; the message says what to set.
    """
    if not location.cloud or creds == "ENV":
        return
    if location.kind == "activeloop":
        found = bool(token or os.environ.get("ACTIVELOOP_TOKEN"))
    else:
        found = (
            (isinstance(creds, Mapping) and bool(creds))
            or any(os.environ.get(name) for name in _CLOUD_ENV[location.kind])
            or any(Path(name).expanduser().is_file() for name in _cloud_files(location.kind))
        )
    if found:
        return
    raise MissingCredentialsError(
        f"no credentials to open this {location.kind} dataset: {_HOW_TO[location.kind]}. "
        + (
            ""
            if location.kind == "activeloop"
            else "On a machine whose role grants access (no keys anywhere), pass creds='ENV'."
        ),
        url=location.shown,
    )


def _cloud_files(kind: str) -> tuple[str, ...]:
    override = {"s3": "AWS_SHARED_CREDENTIALS_FILE", "gcs": "CLOUDSDK_CONFIG"}.get(kind)
    extra = (os.environ[override],) if override and os.environ.get(override) else ()
    return extra + _CLOUD_FILES.get(kind, ())


class Secrets:
    """Credentials for Deep Lake, kept out of every repr, message and fingerprint."""

    def __init__(self, creds: Mapping[str, Any] | str | None, token: str | None) -> None:
        if creds is not None and not isinstance(creds, (Mapping, str)):
            raise ConfigurationError(
                f"creds={type(creds).__name__} is not allowed: give a dict of your storage's "
                "credentials, 'ENV', or None."
            )
        self.creds = dict(creds) if isinstance(creds, Mapping) else creds
        self.token = token
        values = list(self.creds.values()) if isinstance(self.creds, dict) else []
        self._values = [str(v) for v in [*values, token] if v and len(str(v)) >= 4]

    def kwargs(self) -> dict[str, Any]:
        """The ``creds=``/``token=`` arguments of ``deeplake.open`` and friends."""
        return {"creds": self.creds, "token": self.token}

    def scrub(self, text: str) -> str:
        """``text`` with every credential value replaced by ``***``."""
        for value in self._values:
            text = text.replace(value, "***")
        return text

    def __repr__(self) -> str:
        return "Secrets(***)"


@contextmanager
def translated(location: DatasetLocation, secrets: Secrets, doing: str) -> Iterator[None]:
    """Turn a ``deeplake`` exception into a :class:`RetrievalError` without secrets in it."""
    try:
        yield
    except PromptlabError:
        raise
    except Exception as exc:
        detail = secrets.scrub(f"{type(exc).__name__}: {exc}")
        raise RetrievalError(f"{location.shown}: Deep Lake failed while {doing}: {detail}") from (
            None if secrets.scrub(str(exc)) != str(exc) else exc
        )


def tql_identifier(name: str) -> str:
    """A column name as a TQL identifier (in double quotes).

    Raises:
        ConfigurationError: The name is empty or holds a double quote.
    """
    if not isinstance(name, str) or not name or '"' in name:
        raise ConfigurationError(
            f"column {name!r} cannot be named in a query: give a non-empty name without '\"'."
        )
    return f'"{name}"'


def tql_value(value: Any, where: str) -> str:
    """A Python value as a TQL literal: a string, a finite number, or a boolean."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if is_number(value) and math.isfinite(float(value)):
        return repr(int(value)) if float(value).is_integer() else repr(float(value))
    raise ConfigurationError(
        f"filter value {value!r} for {where!r} is not allowed: give a string, a finite number, "
        "a boolean, or a list of them (any one of which may match)."
    )


def tql_vector(vector: np.ndarray) -> str:
    """A vector as a TQL ``ARRAY[...]`` literal, each number at full float precision."""
    return "ARRAY[" + ", ".join(repr(float(x)) for x in vector) + "]"


def tql_filter(
    conditions: Mapping[str, Any], columns: Sequence[str], metadata_column: str | None
) -> str:
    """A TQL ``WHERE`` expression: every condition must hold.

    A key that names a column of the dataset compares that column; any other key compares
    that key of the metadata column. A list value matches any of its items.

    Raises:
        ConfigurationError: A key is neither a column nor, without a metadata column,
            usable; or a value is not a string, number or boolean.
    """
    parts = []
    for key, wanted in conditions.items():
        if not isinstance(key, str) or not key:
            raise ConfigurationError(f"filter key {key!r} is not allowed: give a field name.")
        if key in columns:
            target = tql_identifier(key)
        elif metadata_column is not None:
            target = f"{tql_identifier(metadata_column)}[{tql_value(key, key)}]"
        else:
            raise ConfigurationError(
                f"filter key {key!r} is not a column of the dataset ({', '.join(columns)}), "
                "and the retriever has no metadata column to look it up in: name one with "
                "metadata_column=..., or filter on a column."
            )
        if isinstance(wanted, (list, tuple, set, frozenset)):
            if not wanted:
                raise ConfigurationError(
                    f"filter value for {key!r} is an empty list, which nothing matches: give "
                    "at least one value."
                )
            items = ", ".join(tql_value(item, key) for item in wanted)
            parts.append(f"{target} IN ({items})")
        else:
            parts.append(f"{target} == {tql_value(wanted, key)}")
    return " AND ".join(parts)
