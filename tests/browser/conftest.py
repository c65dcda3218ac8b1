"""The browser tier: headless Chromium, driven by Playwright, opening generated reports.

Playwright drives the *system* Chromium (Debian's ``chromium`` package, which
``make browser`` installs) through ``executable_path``: Playwright's own browser download
is not used (it cannot be fetched here, and a distribution's build is what CI has).
``PROMPTLAB_CHROMIUM`` names another binary. Playwright rather than Selenium: locators
wait for the page by themselves, and its page-error, dialog and request events show that
no planted script ran and nothing was fetched; it talks to Chromium directly, so there is
no second driver binary whose version must match the browser's. As for the local model and
server, with ``CI=true`` a browser that cannot start fails the test; elsewhere it skips.

Screenshots go to ``PROMPTLAB_SCREENSHOTS`` when set (``docs/images`` refreshes the
README's), else to a temporary folder.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require


def chromium_path() -> str:
    """The Chromium binary to drive."""
    path = (
        os.environ.get("PROMPTLAB_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )
    if path is None:
        raise FileNotFoundError(
            "no chromium on PATH: run `make browser` as root (apt-get install chromium), "
            "or set PROMPTLAB_CHROMIUM to a Chromium binary"
        )
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per test module.

    Not per session: while Playwright's sync API is started, the thread counts as running
    an event loop, and every async test after it would fail to start its own.
    """

    def build() -> tuple[Any, Any]:
        from playwright.sync_api import sync_playwright

        playwright = sync_playwright().start()
        try:
            return playwright, playwright.chromium.launch(
                executable_path=chromium_path(), headless=True
            )
        except BaseException:
            playwright.stop()
            raise

    playwright, chromium = require("Headless Chromium (Playwright on the system chromium)", build)
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh 1400 x 900 page that fails the test on any script error or dialog."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"console error: {message.text}") if message.type == "error" else None
        ),
    )

    def on_dialog(dialog: Any) -> None:
        problems.append(f"a dialog opened: {dialog.message}")
        dialog.dismiss()

    def on_request(route: Any) -> None:
        # A self-contained report fetches nothing: only the file itself may load.
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            problems.append(f"network request: {route.request.url}")
            route.abort()

    page.on("dialog", on_dialog)
    page.route("**/*", on_request)
    yield page
    context.close()
    assert not problems, problems


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: ``PROMPTLAB_SCREENSHOTS``, else a temporary folder."""
    chosen = os.environ.get("PROMPTLAB_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
