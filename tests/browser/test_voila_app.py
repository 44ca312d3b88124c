"""`make app`: a notebook served as a classroom app (Voilà) works for a person with a mouse, offline.

The server is started exactly as ``make app`` starts it (``tools/app.py``), on a free port with a
throwaway token and throwaway Jupyter user directories. Chromium opens it with every request
off 127.0.0.1 blocked and recorded; any such request fails the test (the lab template's
Font Awesome CDN link, nbconvert's mermaid loader, ...).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

import latency
from browser_support import ARTIFACTS, LOOPBACK, ROOT, VIEWPORT
from labdriver import (FIGURE_SELECTOR, SLIDER_SELECTOR, JS_IMAGES, blank_reason, changed_fraction, drag_knob,
                       readout_matches, slider_readout)
from labserver import free_port

NOTEBOOK = ROOT / "notebooks" / "02_output_stride.ipynb"   # the README's `make app` example
START_TIMEOUT_S = 120.0
RENDER_TIMEOUT_S = 420.0      # Voilà runs every cell before the page is complete (2 busy cores)
SETTLE_TIMEOUT_S = 60.0
STABLE_POLLS = 5              # unchanged canvas for 5 polls of 0.2 s = settled
OUT = ARTIFACTS / "voila_app"

pytestmark = pytest.mark.timeout(900)


class App:
    """``python tools/app.py NOTEBOOK --port P --token T`` (what ``make app`` runs), logs in ``workdir``."""

    def __init__(self, workdir: Path) -> None:
        self.port, self.token = free_port(), secrets.token_hex(24)
        self.log_path = workdir / "voila.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
        for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
            env[var] = str(workdir / var.lower())   # notebook-signing key etc. stay out of ~
        env.pop("MPLBACKEND", None)
        env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
        command = [sys.executable, str(ROOT / "tools" / "app.py"), str(NOTEBOOK.relative_to(ROOT)),
                   "--port", str(self.port), "--token", self.token]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log_path.open("wb"),
                                        stderr=subprocess.STDOUT)

    def get(self, path: str) -> http.client.HTTPResponse:
        """One GET to the app (redirects are not followed)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        connection.request("GET", path)
        return connection.getresponse()

    def wait_listening(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"tools/app.py exited with {self.process.returncode}:\n{self.log()}")
            try:
                self.get("/voila/static/voila.js").read()  # static files: no kernel started
                return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"the app did not answer within {START_TIMEOUT_S:.0f} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="module")
def app(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    server = App(tmp_path_factory.mktemp("voila"))
    try:
        server.wait_listening()
        yield server
    finally:
        server.stop()
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "voila.log").write_text(server.log())


def test_app_refuses_a_visitor_without_the_token(app):
    response = app.get("/")
    assert response.status in (302, 403), response.status
    if response.status == 302:
        assert response.getheader("Location", "").startswith("/login"), response.getheader("Location")
    wrong = app.get("/?token=" + "0" * 48)
    assert wrong.status in (302, 403), wrong.status


def _settle(page: Any, explorer: Any, changed_from: list[str] | None = None) -> list[str]:
    """The explorer's canvases once they stop changing (no kernel status in Voilà: pixels only).

    With ``changed_from``, first wait until they differ from it (then settle); they may not.
    """
    deadline, last, stable = time.monotonic() + SETTLE_TIMEOUT_S, None, 0
    while changed_from is not None and time.monotonic() < deadline:
        if explorer.evaluate(JS_IMAGES) != changed_from:
            break
        time.sleep(0.1)
    while time.monotonic() < deadline:
        images = explorer.evaluate(JS_IMAGES)
        stable = stable + 1 if images and images == last else 0
        if stable >= STABLE_POLLS:
            return images
        last = images
        time.sleep(0.2)
    raise AssertionError(f"the app's figure was still changing after {SETTLE_TIMEOUT_S:.0f} s")


def test_app_renders_without_code_and_a_dragged_slider_moves_the_figure(browser, app):
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    blocked, errors = [], []

    def guard(route: Any) -> None:
        if route.request.url.startswith(LOOPBACK):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on("console", lambda m: errors.append(f"console error: {m.text}") if m.type == "error" else None)
    OUT.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {}
    try:
        page.goto(f"http://127.0.0.1:{app.port}/?token={app.token}", timeout=RENDER_TIMEOUT_S * 1000)
        # Voilà shows its page once every cell ran and the widgets are mounted.
        page.wait_for_selector("#rendered_cells", state="visible", timeout=RENDER_TIMEOUT_S * 1000)
        page.wait_for_selector(f"{FIGURE_SELECTOR} canvas", timeout=120_000)
        page.screenshot(path=str(OUT / "rendered.png"), full_page=True)

        # (b) no code: no input area on any code cell, and no line of the notebook's code in the page
        assert page.locator(".jp-CodeCell .jp-InputArea, .jp-InputPrompt").count() == 0
        text = page.inner_text("body")
        code = [line.strip() for cell in nbformat.read(NOTEBOOK, as_version=4).cells
                if cell.cell_type == "code" for line in cell.source.splitlines()]
        calls = [line for line in code if re.search(r"\bexplore_\w+\(", line)]
        assert calls, "the notebook shows no explorer"
        assert not [line for line in calls if line in text], "code is shown in the app"
        # the CI sweep cell is left out; a lesson's deliberate error shows as that error
        assert "swept" not in text, "the CI sweep cell (tagged remove-cell) ran in the app"
        assert "There was an error when executing cell" not in text

        outputs = page.locator(".jp-OutputArea-output")
        explorers = [outputs.nth(i) for i in range(outputs.count())
                     if outputs.nth(i).locator(FIGURE_SELECTOR).count()
                     and outputs.nth(i).locator(SLIDER_SELECTOR).count()]
        assert explorers, "no explorer (live figure + slider) rendered in the app"
        explorer = explorers[0]
        explorer.scroll_into_view_if_needed()
        page.mouse.move(0, 0)
        before = _settle(page, explorer)
        assert blank_reason(before) is None, blank_reason(before)

        # (c) drag a slider with the mouse: the readout shows the new value and the figure changes
        slider = explorer.locator(SLIDER_SELECTOR).first
        handle, readout = slider.locator(".noUi-handle").first, slider_readout(slider)
        value_before = readout.inner_text()
        assert drag_knob(page, slider), "the slider has no track to drag"
        deadline = time.monotonic() + 30
        while readout.inner_text() == value_before and time.monotonic() < deadline:
            time.sleep(0.1)
        after = _settle(page, explorer, changed_from=before)
        value_after = readout.inner_text()
        explorer.screenshot(path=str(OUT / "after_drag.png"))
        report.update(slider_before=value_before, slider_after=value_after,
                      changed_pixels=changed_fraction(before, after),
                      explorers=len(explorers))
        assert value_after != value_before, f"the readout stayed {value_before!r} after a drag"
        assert readout_matches(value_after, handle.get_attribute("aria-valuetext"),
                               handle.get_attribute("aria-valuenow")), value_after
        assert report["changed_pixels"] > 0, "the figure did not change when the slider was dragged"

        # the latency a person feels in the app, for the record (no target asserted here)
        report["latency_ms"] = latency.measure(page, explorer, slider, lambda e: _settle(page, e))
    finally:
        report.update(blocked_requests=blocked, errors=errors)
        (OUT / "report.json").write_text(json.dumps(report, indent=1))
        context.close()
    # (d) nothing left 127.0.0.1; (e) no JavaScript errors
    assert not blocked, f"requests off 127.0.0.1 (blocked): {blocked}"
    assert not errors, "\n".join(errors)
