"""In JupyterLab, moving each explorer's sliders changes the live figure (and the readout).

Runs every course notebook that builds an explorer (found automatically) plus a positive-control
fixture; a negative-control fixture whose figure ignores its slider must fail the same check.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import nbformat
import pytest

import latency
from browser_support import ARTIFACTS, ROOT, write_report
from build_docs import builds_explorer
from labdriver import WINDOW_WIDTHS, ControlCheck, NotebookDriver, assert_control_responds, layout_problems


COURSE = [p for p in sorted((ROOT / "notebooks").glob("*.ipynb"))
          if builds_explorer(nbformat.read(p, as_version=4))]
NOTEBOOKS = ["fixtures/positive_slider.ipynb"] + [f"notebooks/{p.name}" for p in COURSE]


def _run(page, lab, path: str) -> tuple[NotebookDriver, list[ControlCheck], int]:
    """Open ``path``, run all cells, move every explorer's controls; save a report."""
    driver = NotebookDriver(page, lab, path, ARTIFACTS / Path(path).stem)
    start = time.monotonic()
    driver.open()
    opened = time.monotonic()
    seconds = driver.run_all()
    ran = time.monotonic()
    explorers = driver.explorers()
    layout = driver.check_layout(explorers)  # ends at the narrower (projector) window
    checks = [check for index, explorer in enumerate(explorers)
              for check in driver.check_explorer(index, explorer)]
    checked = time.monotonic()
    # the course's explorers, and the positive fixture as the round trip's floor (benchmarks/bench_latency.py)
    measure = path.startswith("notebooks/") or path == "fixtures/positive_slider.ipynb"
    latencies = _latencies(driver, explorers) if measure else {}
    driver.save_logs()
    write_report(driver.name, {"open_s": round(opened - start, 1), "run_all_s": round(seconds, 1),
                               "explorers_rendered": len(explorers),
                               "explorers_shown": driver.shown_explorers(),
                               "controls_s": round(checked - ran, 1),
                               "latency_s": round(time.monotonic() - checked, 1),
                               "latency_ms": latencies,
                               "track_px": {width: [[g["track_px"] for g in geometry if "track_px" in g]
                                                    for geometry in per] for width, per in layout.items()},
                               "layout_problems": driver.layout_issues,
                               "checks": [dataclasses.asdict(c) for c in checks],
                               "problems": driver.problems(),
                               "blocked_requests": page.blocked_requests})
    driver.latencies = latencies
    return driver, checks, len(explorers)


def _latencies(driver: NotebookDriver, explorers: list) -> dict[str, dict]:
    """Mouse release -> canvas change, on the first slider of each explorer (test-artifacts/browser/latency.json)."""
    results = {}
    for index, explorer in enumerate(explorers):
        sliders = explorer.locator(".widget-slider:not(:has(.noUi-target[disabled]))")
        if not sliders.count():
            continue
        explorer.scroll_into_view_if_needed()
        name = latency.explorer_name(driver.path, explorer, index)
        name = name if name not in results else f"{name}#{index}"
        results[name] = {**latency.measure(driver.page, explorer, sliders.first, driver.settle),
                         "slider": driver.label(sliders.first)}
    if results:
        latency.record(results)
    return results


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: Path(p).stem)
def test_sliders_move_the_live_figure(page, lab, path):
    driver, checks, rendered = _run(page, lab, path)
    shown = driver.shown_explorers()
    assert shown >= 1, f"{path}: the kernel displayed no explorer"
    assert rendered >= shown, (
        f"{path}: the kernel displayed {shown} explorers but only {rendered} rendered with a live "
        "figure and a control (a figure outside the widget box, or a widget that failed to load?)")
    failures = []
    for check in checks:
        try:
            assert_control_responds(check)
        except AssertionError as error:
            failures.append(str(error))
    failures += driver.problems()
    failures += driver.layout_issues
    failures += [f"{name}: the figure never changed within {latency.WAIT_S:.0f} s of a mouse release "
                 f"(samples {entry['samples']})" for name, entry in driver.latencies.items()
                 if entry["median_ms"] is None]
    failures += [f"request off 127.0.0.1 (blocked): {url}" for url in page.blocked_requests]
    assert not failures, "\n".join(failures)


def test_negative_control_fails_the_same_check(page, lab):
    """A figure that ignores its slider: the readout moves, the figure check must fail."""
    driver, checks, _ = _run(page, lab, "fixtures/negative_slider.ipynb")
    assert [c.label for c in checks] == ["frequency"] * 2 + ["amplitude"] * 2  # drag, then keys
    assert [c.kind for c in checks] == ["drag", "slider"] * 2
    for check in checks:
        assert check.readout_after != check.readout_before and check.readout_consistent, check
        assert check.changed_pixels == 0 and check.presses == (1 if check.kind == "drag" else 3), check
        with pytest.raises(AssertionError, match="the figure did not change"):
            assert_control_responds(check)
    assert not driver.problems()                   # it fails on the figure alone


def test_negative_control_zero_width_track_fails_the_layout_check(page, lab):
    """A slider squeezed to its label (zero-width track, cut label): the width checker must report it."""
    driver, checks, _ = _run(page, lab, "fixtures/squeezed_slider.ipynb")
    issues = driver.layout_issues
    for width in WINDOW_WIDTHS:
        assert any(f"{width} px window" in i and "'layer4 size n' track is 0 px" in i for i in issues), issues
    assert any("label is truncated" in i for i in issues), issues
    assert not layout_problems([{"label": "ok", "track_px": 200.0, "label_clipped": False,
                                 "readout_clipped": False}])


def test_broken_explorers_are_reported(page, lab):
    """A raising callback and a blank (0x0) live figure are both reported."""
    driver, checks, rendered = _run(page, lab, "fixtures/broken_explorers.ipynb")
    assert rendered == 2
    # the blank explorer has nothing to move; the other's slider is dragged, then keyed
    assert [(c.label, c.kind) for c in checks] == [("power", "drag"), ("power", "slider")]
    for check in checks:
        with pytest.raises(AssertionError, match="the figure did not change"):
            assert_control_responds(check)
    problems = driver.problems()
    assert any("RuntimeError: broken callback at power=2" in p for p in problems), problems
    assert any(p.startswith("explorer 1: the live figure is blank (0x0 canvas") for p in problems), problems
