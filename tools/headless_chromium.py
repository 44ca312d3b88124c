"""Debian's Chromium, driven headless by Playwright: one launch recipe for the tests and the docs.

Playwright never downloads a browser here: it drives the system's ``/usr/bin/chromium``
(installed by ``make browser-setup`` on Debian/Ubuntu as root). ``missing_reason()`` says why
the browser cannot run, so callers can skip (tests) or report (docs) with a clear message.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

__all__ = ["CHROMIUM_ARGS", "chromium_path", "launch", "missing_reason"]

# Never let Playwright fetch a browser build of its own (there is no network for it anyway).
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

DEFAULT_CHROMIUM = "/usr/bin/chromium"
"""Debian/Ubuntu package `chromium`; override with the environment variable CHROMIUM."""

# --no-sandbox: root in a container has no user namespaces for Chromium's sandbox;
# the others stop every background request (updates, sync, field trials) and the GPU process.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
)


def chromium_path() -> Path:
    """The Chromium executable to drive: ``$CHROMIUM`` or ``/usr/bin/chromium``."""
    return Path(os.environ.get("CHROMIUM", DEFAULT_CHROMIUM))


def missing_reason() -> str | None:
    """Why headless Chromium cannot run here, or ``None`` when it can."""
    path = chromium_path()
    if not (path.is_file() and os.access(path, os.X_OK)):
        hint = ("run `make browser-setup` (as root on Debian/Ubuntu it runs "
                "`apt-get install -y chromium`)")
        if shutil.which("apt-get") is None:
            hint = "install Chromium with your system's package manager and set CHROMIUM=/path/to/it"
        return f"Chromium not found at {path}: {hint}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package `playwright` is missing: run `make setup` (it is in the test extra)"
    return None


def launch(playwright: Any) -> Any:
    """Launch headless Chromium from a started ``sync_playwright()``; returns the Browser."""
    return playwright.chromium.launch(
        executable_path=str(chromium_path()), headless=True, args=list(CHROMIUM_ARGS))
