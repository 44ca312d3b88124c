"""Drive one notebook in JupyterLab like a student: run all cells, move each explorer's sliders.

The checks read what a person would see: the slider's readout text and the pixels of the live
ipympl canvas (``canvas.toDataURL()``), compared after the kernel is idle and the picture has
stopped changing (every arrow-key step triggers its own redraw). Kernel state is read through
``window.jupyterapp`` (exposed by the server's ``--LabApp.expose_app_in_browser``).
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

RUN_ALL_TIMEOUT_S = 900.0     # notebook 04 trains for ~90 s; a busy 2-core CI machine is slower
SETTLE_TIMEOUT_S = 90.0       # one slider step: kernel callback + image round trip
POLL_S = 0.2
STABLE_POLLS = 4              # unchanged image and idle kernel for 4 polls (0.8 s) = settled
MAX_KEY_PRESSES = 3           # arrow-key steps tried before declaring the figure unresponsive
READOUT_TIMEOUT_S = 15.0
MIN_TRACK_PX = 150            # issue 16: the narrowest slider track a mouse can drag
WINDOW_WIDTHS = (1280, 1024)  # a laptop and a classroom projector, left sidebar collapsed
EXPLORER_SELECTOR = ".jp-OutputArea-output"
SLIDER_SELECTOR = ".widget-slider"
FIGURE_SELECTOR = ".jupyter-matplotlib-figure"
CONTROL_SELECTOR = ".widget-slider, .widget-toggle-buttons, .widget-dropdown, .widget-checkbox"
# Text JupyterLab shows instead of a widget when the widget manager or ipympl failed.
WIDGET_FAILURES = ("Error displaying widget", "Failed to load model class", "Canvas(toolbar=",
                   "model not found")
# Server-log lines that mean a kernel-side failure no cell shows (a crash, a comm handler error).
ERROR_LOG = re.compile(r"Exception in comm_msg|restarting kernel|Kernel died")

# JavaScript run in the page. `findPanel` finds the notebook's panel by path (never "the current
# widget": a restored workspace could have focused another tab).
_JS_PANEL = """
window.__visual = window.__visual || {
  findPanel(path) {
    for (const w of window.jupyterapp.shell.widgets('main')) {
      if (w.context && w.context.path === path && w.content && w.sessionContext) return w;
    }
    return null;
  },
};
"""

_JS_KERNEL_READY = _JS_PANEL + """
(path) => {
  const w = window.__visual.findPanel(path);
  if (!w || !w.sessionContext.isReady || !w.sessionContext.session) return false;
  const kernel = w.sessionContext.session.kernel;
  if (!kernel || w.sessionContext.kernelDisplayStatus !== 'idle') return false;
  if (!w.__visualHooked) {
    // Widget callbacks run outside any cell: ipywidgets publishes their exceptions as `error`
    // messages whose parent is the comm message. Record those, and tracebacks sent to stderr.
    w.__visualHooked = true;
    w.__visualIopub = [];
    kernel.iopubMessage.connect((_, msg) => {
      const type = msg.header.msg_type, parent = (msg.parent_header || {}).msg_type;
      if (type === 'error' && parent !== 'execute_request') {
        w.__visualIopub.push(`callback error (${parent}): ${msg.content.ename}: ${msg.content.evalue}`);
      }
      if (type === 'stream' && msg.content.name === 'stderr' && msg.content.text.includes('Traceback')) {
        w.__visualIopub.push('stderr: ' + msg.content.text);
      }
    });
  }
  window.jupyterapp.shell.activateById(w.id);
  return true;
}
"""

_JS_NOTEBOOK_STATE = _JS_PANEL + """
(path) => {
  const w = window.__visual.findPanel(path);
  const pending = [], errors = [];
  w.content.widgets.forEach((cell, index) => {
    if (cell.model.type !== 'code') return;
    const source = cell.model.sharedModel.getSource().trim();
    const tags = cell.model.getMetadata('tags') || [];
    if (source && cell.model.executionCount === null) pending.push(index);
    if (tags.includes('raises-exception')) return;
    for (const output of cell.model.outputs.toJSON()) {
      if (output.output_type === 'error') {
        errors.push(`cell ${index}: ${output.ename}: ${output.evalue}`);
      }
    }
  });
  return {status: w.sessionContext.kernelDisplayStatus, pending, errors,
          iopub: w.__visualIopub || []};
}
"""

JS_IMAGES = """
(node) => Array.from(node.querySelectorAll('.jupyter-matplotlib-canvas-div canvas:first-child'))
  .map(c => c.toDataURL('image/png'))
"""

# Each slider's rendered track width, and whether its label or readout is cut (scrollWidth > clientWidth).
_JS_GEOMETRY = """
(node) => Array.from(node.querySelectorAll('.widget-slider')).map(s => {
  const part = (sel) => s.querySelector(sel);
  const clipped = (e) => !!e && e.offsetParent !== null && e.scrollWidth > e.clientWidth;
  const track = part('.noUi-target');
  return {label: (part('.widget-label') || {}).textContent || '(no label)',
          track_px: track ? track.getBoundingClientRect().width : 0,
          label_clipped: clipped(part('.widget-label')), readout_clipped: clipped(part('.widget-readout'))};
}).concat([{figure_overflow_px: node.scrollWidth - node.clientWidth}])
"""

_JS_KERNEL_EXECUTE = _JS_PANEL + """
async ([path, code]) => {
  const kernel = window.__visual.findPanel(path).sessionContext.session.kernel;
  const future = kernel.requestExecute({code, silent: false, store_history: false});
  let out = '';
  future.onIOPub = (msg) => {
    if (msg.header.msg_type === 'stream' && msg.content.name === 'stdout') out += msg.content.text;
    if (msg.header.msg_type === 'error') out += msg.content.ename + ': ' + msg.content.evalue;
  };
  await future.done;
  return out;
}
"""

# Displayed explorers, counted in the kernel (Explorer._ipython_display_ marks them).
# type() rather than isinstance(): isinstance reads __class__, which wakes lazy modules' warnings.
_COUNT_SHOWN = (
    "import gc as _gc, visual.widgets.core as _core\n"
    "_gc.collect()\n"
    "print(sum(1 for _o in _gc.get_objects() if type(_o) is _core.Explorer and _o.displayed))"
)


@dataclass
class ControlCheck:
    """What happened when one control of one explorer was moved."""

    notebook: str
    explorer: int
    label: str
    kind: str
    readout_before: str
    readout_after: str = ""
    presses: int = 0
    readout_consistent: bool = False   # readout agrees with the slider's position / chosen option
    changed_pixels: float = 0.0        # fraction of canvas pixels that differ, 0..1
    screenshots: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.notebook} explorer {self.explorer} {self.kind} {self.label!r}"


def assert_control_responds(check: ControlCheck) -> None:
    """The student-visible contract: the readout shows the new value and the figure changed."""
    how = "a mouse drag" if check.kind == "drag" else f"{check.presses} key presses"
    assert check.readout_after != check.readout_before, (
        f"{check.name}: readout stayed {check.readout_before!r} after {how}")
    assert check.readout_consistent, (
        f"{check.name}: readout {check.readout_after!r} does not show the slider's new position")
    assert check.changed_pixels > 0, (
        f"{check.name}: the figure did not change (0 pixels differ) when the control went from "
        f"{check.readout_before!r} to {check.readout_after!r}; screenshots: {check.screenshots}")


def layout_problems(geometry: list[dict[str, Any]], where: str = "") -> list[str]:
    """What a mouse user cannot use: tracks under ``MIN_TRACK_PX``, cut labels, a figure wider than its column."""
    found = []
    for item in geometry:
        if "figure_overflow_px" in item:
            if item["figure_overflow_px"] > 1:
                found.append(f"{where}: the explorer scrolls sideways by {item['figure_overflow_px']} px")
            continue
        if item["track_px"] < MIN_TRACK_PX:
            found.append(f"{where}: slider {item['label']!r} track is {item['track_px']:.0f} px wide "
                         f"(< {MIN_TRACK_PX} px, too narrow to drag)")
        for part in ("label", "readout"):
            if item[f"{part}_clipped"]:
                found.append(f"{where}: slider {item['label']!r} {part} is truncated")
    return found


def _decode(data_url: str) -> np.ndarray:
    import matplotlib.image as mpimg

    return mpimg.imread(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1])), format="png")


def changed_fraction(before: list[str], after: list[str]) -> float:
    """Fraction of pixels that differ between two lists of canvas PNG data URLs (0..1)."""
    if len(before) != len(after):
        return 1.0
    changed = total = 0
    for a, b in zip(before, after):
        if a == b:
            total += 1
            continue
        pa, pb = _decode(a), _decode(b)
        if pa.shape != pb.shape:
            return 1.0
        diff = np.any(pa != pb, axis=-1)
        changed += int(diff.sum())
        total += diff.size
    return changed / max(total, 1)


def blank_reason(images: list[str]) -> str | None:
    """Why a list of canvas PNG data URLs shows nothing (``None`` if every canvas has a picture)."""
    for data_url in images:
        if data_url in ("data:,", ""):  # what toDataURL returns for a 0x0 canvas
            return ("0x0 canvas: ipympl never got the figure's size; drawing an ipympl canvas "
                    "before it is displayed (fig.canvas.draw()) does this, fig.draw_without_rendering() does not")
        pixels = _decode(data_url)
        if np.all(pixels == pixels[0, 0]):
            return "every pixel has the same colour"
    return None


def readout_matches(text: str, value_text: str | None, value_now: str | None) -> bool:
    """Does a numeric readout show the handle's value (to the readout's own precision)?

    ``aria-valuetext`` carries the slider's value at full precision; ``aria-valuenow`` is
    rounded to one decimal by noUiSlider, so it is only a fallback (with that tolerance).
    """
    try:
        shown = float(text)
    except ValueError:  # SelectionSlider: the readout is a label
        return bool(text)
    decimals = len(text.split(".", 1)[1]) if "." in text else 0
    tolerance = 0.51 * 10.0 ** -decimals + 1e-9
    for candidate, rounding in ((value_text, 0.0), (value_now, 0.05)):
        try:
            return abs(shown - float(candidate)) <= tolerance + rounding
        except (TypeError, ValueError):
            continue
    return True


class _AriaReadout:
    """A slider handle's ``aria-valuetext``, read like a readout element."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    def inner_text(self) -> str:
        return self.handle.get_attribute("aria-valuetext") or ""


def slider_readout(slider: Any) -> Any:
    """The readout next to a slider; one built with ``readout=False`` falls back to the value text
    its handle announces to screen readers (``aria-valuetext``)."""
    readout = slider.locator(".widget-readout").first
    if not slider.locator(".widget-readout").count() or not readout.is_visible():
        return _AriaReadout(slider.locator(".noUi-handle").first)
    return readout


def drag_knob(page: Any, slider: Any, *, steps: int = 5, before_release: Any = None) -> bool:
    """Drag a slider's knob with the mouse, as a person does: down on the knob, ``steps`` moves
    along the track to near its farther end (so even a two-stop slider changes), up.

    ``before_release()``, if given, runs with the button still down. Returns ``False`` (and does
    nothing) when the track has no width to drag along.
    """
    handle, track = slider.locator(".noUi-handle").first, slider.locator(".noUi-target").first
    knob, box = handle.bounding_box(), track.bounding_box()
    if not (knob and box and box["width"] > 0):
        return False
    x, y = knob["x"] + knob["width"] / 2, knob["y"] + knob["height"] / 2
    left = x < box["x"] + box["width"] / 2
    target = box["x"] + box["width"] * (0.9 if left else 0.1)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(target, y, steps=steps)
    if before_release is not None:
        before_release()
    page.mouse.up()
    page.mouse.move(0, 0)  # no hover: ipympl's toolbar fades in under the mouse
    return True


class NotebookDriver:
    """One notebook open in one browser page."""

    def __init__(self, page: Any, server: Any, path: str, artifacts: Path) -> None:
        self.page = page
        self.server = server
        self.path = path
        self.name = Path(path).stem
        self.artifacts = artifacts
        shutil.rmtree(self.artifacts, ignore_errors=True)  # no stale screenshots from a past run
        self.artifacts.mkdir(parents=True)
        self.page_errors: list[str] = []
        self.blank_figures: list[str] = []
        self.console: list[str] = []
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("console", lambda message: self.console.append(f"{message.type}: {message.text}"))
        self._log_offset = len(server.log())

    # --- opening and running -------------------------------------------------------------
    def open(self, timeout_s: float = 180.0) -> None:
        self.page.goto(self.server.url(self.path))
        self.page.wait_for_function("() => window.jupyterapp !== undefined", timeout=timeout_s * 1000)
        self.page.wait_for_function(_JS_KERNEL_READY, arg=self.path, timeout=timeout_s * 1000,
                                    polling=500)
        # Close the file browser: the notebook gets the whole width, as on a projector.
        self.page.evaluate("() => { window.jupyterapp.shell.collapseLeft(); "
                           "window.jupyterapp.shell.collapseRight(); }")

    def state(self) -> dict[str, Any]:
        return self.page.evaluate(_JS_NOTEBOOK_STATE, self.path)

    def run_all(self, timeout_s: float = RUN_ALL_TIMEOUT_S) -> float:
        """Run every cell (Run ▸ Run All Cells); returns the seconds it took."""
        start = time.monotonic()
        self.page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        idle_polls = 0
        while time.monotonic() - start < timeout_s:
            state = self.state()
            if state["errors"]:
                self.screenshot("error")
                raise AssertionError(f"{self.path}: cells raised: {state['errors']}")
            idle = state["status"] == "idle" and not state["pending"]
            idle_polls = idle_polls + 1 if idle else 0
            if idle_polls >= STABLE_POLLS:
                self._wait_widgets_rendered()
                return time.monotonic() - start
            time.sleep(1.0)
        self.screenshot("timeout")
        raise AssertionError(f"{self.path}: cells still running after {timeout_s:.0f} s: {self.state()}")

    def _wait_widgets_rendered(self, timeout_s: float = 60.0) -> None:
        """Every widget output has finished loading (ipywidgets shows a spinner until then)."""
        self.page.wait_for_function(
            """() => !Array.from(document.querySelectorAll('.jp-OutputArea-output'))
                 .some(o => o.textContent.includes('Loading widget'))""",
            timeout=timeout_s * 1000)

    def kernel_print(self, code: str) -> str:
        """Run ``code`` in the notebook's kernel (not in a cell); returns what it printed."""
        return self.page.evaluate(_JS_KERNEL_EXECUTE, [self.path, code])

    def shown_explorers(self) -> int:
        """How many ``Explorer`` objects the kernel has displayed."""
        out = self.kernel_print(_COUNT_SHOWN).strip()
        return int(out.splitlines()[-1])

    # --- problems a student would see ------------------------------------------------------
    def problems(self) -> list[str]:
        """Error outputs, failed widgets, page errors and kernel tracebacks seen so far."""
        found = [f"cell error: {e}" for e in self.state()["errors"]]
        found += [f"kernel {message}" for message in self.state()["iopub"]]
        text = "\n".join(self.panel().locator(".jp-OutputArea-output").all_inner_texts())
        found += [f"widget failed to render: {marker!r}" for marker in WIDGET_FAILURES if marker in text]
        found += [f"page error: {e}" for e in self.page_errors]
        found += self.blank_figures
        new_log = self.server.log()[self._log_offset:]
        found += [f"kernel log: {line}" for line in new_log.splitlines() if ERROR_LOG.search(line)]
        return found

    # --- explorers ---------------------------------------------------------------------------
    def panel(self) -> Any:
        """The notebook's own panel (selectors are scoped to it, never to the whole page)."""
        panel_id = self.page.evaluate(
            _JS_PANEL + "(path) => window.__visual.findPanel(path).id", self.path)
        return self.page.locator(f"[id='{panel_id}']")

    def explorers(self) -> list[Any]:
        """Output areas holding a live ipympl figure and at least one control."""
        outputs = self.panel().locator(EXPLORER_SELECTOR)
        found = []
        for index in range(outputs.count()):
            output = outputs.nth(index)
            if output.locator(FIGURE_SELECTOR).count() and output.locator(CONTROL_SELECTOR).count():
                found.append(output)
        return found

    def images(self, explorer: Any) -> list[str]:
        return explorer.evaluate(JS_IMAGES)

    def settle(self, explorer: Any, timeout_s: float = SETTLE_TIMEOUT_S) -> list[str]:
        """Wait until the kernel is idle and the explorer's canvases stopped changing."""
        start = time.monotonic()
        last, stable = None, 0
        while time.monotonic() - start < timeout_s:
            images = self.images(explorer)
            idle = self.state()["status"] == "idle"
            stable = stable + 1 if (idle and images == last and images) else 0
            if stable >= STABLE_POLLS:
                return images
            last = images
            time.sleep(POLL_S)
        raise AssertionError(f"{self.path}: figure still changing after {timeout_s:.0f} s")

    def screenshot(self, label: str, locator: Any | None = None) -> str:
        path = self.artifacts / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', label)}.png"
        (locator or self.page).screenshot(path=str(path))
        return str(path)

    def geometry(self, explorer: Any) -> list[dict[str, Any]]:
        return explorer.evaluate(_JS_GEOMETRY)

    def check_layout(self, explorers: list[Any]) -> dict[int, list[dict[str, Any]]]:
        """At each of ``WINDOW_WIDTHS``: measure every explorer, screenshot the page; problems are kept."""
        measured: dict[int, list[dict[str, Any]]] = {}
        self.layout_issues: list[str] = []
        for width in WINDOW_WIDTHS:
            self.page.set_viewport_size({"width": width, "height": 1000})
            time.sleep(1.0)  # JupyterLab relays out on resize
            measured[width] = []
            for index, explorer in enumerate(explorers):
                explorer.scroll_into_view_if_needed()
                geometry = self.geometry(explorer)
                measured[width].append(geometry)
                self.layout_issues += layout_problems(geometry, f"{width} px window, explorer {index}")
                self.screenshot(f"window{width}-explorer{index}")
        return measured

    def check_explorer(self, index: int, explorer: Any) -> list[ControlCheck]:
        """Move every slider of one explorer (or its first other control if it has no slider).

        Sliders are moved one after the other; the settled picture after one slider is the
        "before" picture of the next (screenshots: ``explorer<i>-start.png``, then one per control).
        """
        explorer.scroll_into_view_if_needed()
        self.page.mouse.move(0, 0)  # no hover: ipympl's toolbar fades in under the mouse
        before = self.settle(explorer)
        shot = self.screenshot(f"explorer{index}-start", explorer)
        blank = blank_reason(before)
        if blank:  # nothing a slider could change: report it and move on
            self.blank_figures.append(f"explorer {index}: the live figure is blank ({blank}); see {shot}")
            return []
        sliders = explorer.locator(SLIDER_SELECTOR)
        enabled = [sliders.nth(i) for i in range(sliders.count())
                   if not sliders.nth(i).locator(".noUi-target[disabled]").count()]
        if not enabled:
            return [self._check_other(index, explorer, before, shot)]
        checks = []
        for slider in enabled:
            check, before = self._drag_slider(index, explorer, slider, before, shot)
            shot = check.screenshots[-1]
            checks.append(check)
            check, before = self._check_slider(index, explorer, slider, before, shot)
            shot = check.screenshots[-1]
            checks.append(check)
        return checks

    def label(self, control: Any) -> str:
        label = control.locator(".widget-label")
        return (label.first.inner_text().strip() if label.count() else "") or "(no label)"

    def _check_slider(self, index: int, explorer: Any, slider: Any, before: list[str],
                      before_shot: str) -> tuple[ControlCheck, list[str]]:
        handle, readout = slider.locator(".noUi-handle").first, slider_readout(slider)
        check = ControlCheck(self.name, index, self.label(slider), "slider", readout.inner_text(),
                             screenshots=[before_shot])
        now, high = float(handle.get_attribute("aria-valuenow")), float(handle.get_attribute("aria-valuemax"))
        vertical = handle.get_attribute("aria-orientation") == "vertical"
        key = ("ArrowUp" if vertical else "ArrowRight") if now < high else \
            ("ArrowDown" if vertical else "ArrowLeft")
        after = before
        while check.presses < MAX_KEY_PRESSES:
            previous = readout.inner_text()
            handle.focus()
            handle.press(key)
            check.presses += 1
            self._wait_text_change(readout, previous)
            after = self.settle(explorer)
            check.changed_pixels = changed_fraction(before, after)
            if check.changed_pixels > 0:
                break
        check.readout_after = readout.inner_text()
        check.readout_consistent = readout_matches(
            check.readout_after, handle.get_attribute("aria-valuetext"),
            handle.get_attribute("aria-valuenow"))
        check.screenshots.append(self.screenshot(f"explorer{index}-{check.label}", explorer))
        return check, after

    def _drag_slider(self, index: int, explorer: Any, slider: Any, before: list[str],
                     before_shot: str) -> tuple[ControlCheck, list[str]]:
        """Drag the knob with the mouse (down on the knob, move along the track, up), as a person does."""
        handle, readout = slider.locator(".noUi-handle").first, slider_readout(slider)
        check = ControlCheck(self.name, index, self.label(slider), "drag", readout.inner_text(),
                             screenshots=[before_shot])
        if drag_knob(self.page, slider):
            check.presses = 1
            self._wait_text_change(readout, check.readout_before)
        after = self.settle(explorer)
        check.changed_pixels = changed_fraction(before, after)
        check.readout_after = readout.inner_text()
        check.readout_consistent = readout_matches(
            check.readout_after, handle.get_attribute("aria-valuetext"), handle.get_attribute("aria-valuenow"))
        check.screenshots.append(self.screenshot(f"explorer{index}-{check.label}-drag", explorer))
        return check, after

    def _check_other(self, index: int, explorer: Any, before: list[str],
                     before_shot: str) -> ControlCheck:
        """Explorers without a slider: pick another option of the first toggle/dropdown/checkbox."""
        control = explorer.locator(CONTROL_SELECTOR).first
        classes = control.get_attribute("class") or ""
        if "widget-toggle-buttons" in classes:
            buttons = control.locator("button")
            active = control.locator("button.mod-active")
            choice = next(i for i in range(buttons.count())
                          if "mod-active" not in (buttons.nth(i).get_attribute("class") or ""))
            check = ControlCheck(self.name, index, self.label(control), "toggle buttons",
                                 active.first.inner_text() if active.count() else "")
            check.screenshots.append(before_shot)
            target = buttons.nth(choice).inner_text()
            buttons.nth(choice).click()
            self.page.mouse.move(0, 0)
            check.presses = 1
            self._wait_text_change(active.first, check.readout_before)
            check.readout_after = active.first.inner_text()
            check.readout_consistent = check.readout_after == target
        elif "widget-dropdown" in classes:
            select = control.locator("select")
            values = select.locator("option").all_inner_texts()
            current = select.evaluate("s => s.options[s.selectedIndex].text")
            check = ControlCheck(self.name, index, self.label(control), "dropdown", current)
            check.screenshots.append(before_shot)
            target = next(v for v in values if v != current)
            select.select_option(label=target)
            check.presses = 1
            check.readout_after = select.evaluate("s => s.options[s.selectedIndex].text")
            check.readout_consistent = check.readout_after == target
        else:  # checkbox
            box = control.locator("input[type=checkbox]")
            check = ControlCheck(self.name, index, self.label(control), "checkbox",
                                 str(box.is_checked()))
            check.screenshots.append(before_shot)
            box.click()
            check.presses = 1
            check.readout_after = str(box.is_checked())
            check.readout_consistent = check.readout_after != check.readout_before
        after = self.settle(explorer)
        check.changed_pixels = changed_fraction(before, after)
        check.screenshots.append(self.screenshot(f"explorer{index}-{check.label}", explorer))
        return check

    def _wait_text_change(self, locator: Any, previous: str) -> None:
        deadline = time.monotonic() + READOUT_TIMEOUT_S
        while time.monotonic() < deadline and locator.inner_text() == previous:
            time.sleep(0.1)

    def save_logs(self) -> None:
        (self.artifacts / "console.log").write_text("\n".join(self.console))
        (self.artifacts / "page_errors.json").write_text(json.dumps(self.page_errors, indent=1))
