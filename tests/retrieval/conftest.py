"""Each retrieval test gets its own response cache, so cached vectors never leak between
tests that count embedding calls."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def own_response_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "response-cache"
    monkeypatch.setenv("PROMPTLAB_CACHE_DIR", str(folder))
    return folder
