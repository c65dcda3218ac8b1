"""An index directory: the indexed chunks, the index files, and a manifest that says
which corpus and settings they were built from.

The manifest (``promptlab-index.json``) holds a fingerprint: a SHA-256 over every chunk
(id, text, metadata) and the settings that shape the index (chunking, scoring, the
embedding model). A retriever given an ``index_dir`` loads the index when the
fingerprint matches and rebuilds it otherwise, so an edited corpus or changed settings
never meet a stale index. Saving removes the manifest first and writes it last
(atomically), so an interrupted save leaves a directory that is rebuilt, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from promptlab.errors import DataError
from promptlab.retrieval._document import Document

MANIFEST_FILE = "promptlab-index.json"
CHUNKS_FILE = "chunks.jsonl"
#: Bumped when the layout of an index directory changes; older directories are rebuilt.
FORMAT_VERSION = 1


def _json(value: Any) -> str:
    # default=str: metadata from user dicts may hold dates or paths; they index as text.
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def index_fingerprint(chunks: Iterable[Document], settings: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the chunks and the settings, stable across runs and machines."""
    digest = hashlib.sha256()
    digest.update(_json({"format": FORMAT_VERSION, "settings": dict(settings)}).encode())
    for chunk in chunks:
        digest.update(b"\n")
        digest.update(_json([chunk.id, chunk.text, dict(chunk.metadata)]).encode())
    return digest.hexdigest()


class IndexDirectory:
    """One retriever's index on disk.

    Args:
        path: The directory; created when the index is first saved.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()

    def manifest(self) -> dict[str, Any] | None:
        """The manifest of a complete index, or None when there is none (or it is unreadable)."""
        try:
            data = json.loads((self.path / MANIFEST_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def matches(self, fingerprint: str) -> bool:
        """True when the directory holds a complete index built with ``fingerprint``."""
        manifest = self.manifest()
        return manifest is not None and manifest.get("fingerprint") == fingerprint

    def begin_save(self) -> None:
        """Create the directory and drop its manifest: until :meth:`commit`, it is not trusted."""
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / MANIFEST_FILE).unlink(missing_ok=True)

    def write_chunks(self, chunks: Iterable[Document]) -> None:
        """Save the indexed chunks (``chunks.jsonl``), in index order."""
        lines = [_json(chunk.to_dict()) + "\n" for chunk in chunks]
        (self.path / CHUNKS_FILE).write_text("".join(lines), encoding="utf-8")

    def read_chunks(self) -> list[Document]:
        """The indexed chunks, in index order."""
        path = self.path / CHUNKS_FILE
        chunks = []
        with path.open(encoding="utf-8") as handle:
            for line_number, line in enumerate(handle, start=1):
                try:
                    row = json.loads(line)
                    chunks.append(Document(row["id"], row["text"], row.get("metadata", {})))
                except (ValueError, KeyError, TypeError) as exc:
                    raise DataError(
                        f"the saved index is damaged ({type(exc).__name__}). Delete "
                        f"{self.path} and build the index again.",
                        source=str(path),
                        line=line_number,
                    ) from exc
        return chunks

    def commit(self, fingerprint: str, info: Mapping[str, Any]) -> None:
        """Write the manifest last, atomically: the index is now complete."""
        manifest = {"format": FORMAT_VERSION, "fingerprint": fingerprint, **info}
        handle, temporary = tempfile.mkstemp(dir=self.path, prefix=".manifest-", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(json.dumps(manifest, indent=2, sort_keys=True, default=str))
        os.replace(temporary, self.path / MANIFEST_FILE)
