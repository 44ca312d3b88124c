"""Browser suite: a throwaway JupyterLab server and headless Debian Chromium driven by Playwright.

Every test here is marked ``browser``. When Chromium or Playwright is missing the whole suite is
skipped with the reason (``make browser-setup`` installs Chromium as root on Debian/Ubuntu).
Screenshots, console logs and the server log go to ``test-artifacts/browser/``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from collections.abc import Iterator
from typing import Any

import pytest

from browser_support import ARTIFACTS, FIXTURES, HERE, LOOPBACK, ROOT, VIEWPORT

import headless_chromium  # noqa: E402  (tools/, put on sys.path by browser_support)

from labserver import LabServer  # noqa: E402



def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless /usr/bin/chromium (never a Playwright-downloaded build)."""
    reason = headless_chromium.missing_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = headless_chromium.launch(playwright)
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture(scope="session")
def lab(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """JupyterLab on 127.0.0.1 with a random token, serving copies of notebooks/ and the fixtures."""
    server = LabServer(tmp_path_factory.mktemp("jupyterlab"),
                       {"notebooks": ROOT / "notebooks", "fixtures": FIXTURES})
    server.start()
    yield server
    server.stop()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(server.log_path, ARTIFACTS / "jupyterlab.log")


@pytest.fixture(scope="session")
def lab_context(browser: Any, lab: LabServer) -> Iterator[Any]:
    """One browser context for the session (JupyterLab's bundle is cached between notebooks).

    Any request off 127.0.0.1 is blocked and recorded in ``context.blocked_requests``.
    """
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    context.blocked_requests = []

    def guard(route: Any) -> None:
        if route.request.url.startswith(LOOPBACK):
            route.continue_()
        else:
            context.blocked_requests.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    yield context
    context.close()


@pytest.fixture()
def page(lab_context: Any, lab: LabServer) -> Iterator[Any]:
    """A fresh page (JupyterLab opened with ``?reset``); its kernels are shut down afterwards."""
    lab_context.blocked_requests.clear()
    page = lab_context.new_page()
    page.blocked_requests = lab_context.blocked_requests  # the course must load nothing external
    yield page
    page.close()
    lab.shutdown_kernels()
