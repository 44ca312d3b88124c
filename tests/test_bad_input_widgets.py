"""Issue 13, widgets area: bad arguments to the explorer machinery raise a clear, named error.

Every public function of ``visual.widgets.core``, ``.controls``, ``tools/docs_animation.py`` and
``visual.plots.core`` is driven with each kind of bad value that applies (wrong type, bool for
int, zero/negative, NaN/inf, oversized, unknown names) and must raise ``ValueError``/``TypeError`` naming the argument, quickly (a sweep
of 10**9 steps is refused, not run).
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pytest

from visual.plots.core import get_axes
from visual.widgets import controls, core
from visual.widgets.core import Explorer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))  # tools/ is not a package
import docs_animation as animation  # noqa: E402

NAN, INF = math.nan, math.inf


def _explorer(fig=True):
    with plt.ioff():
        figure, ax = plt.subplots(figsize=(2, 2))
    (line,) = ax.plot([0, 1], [0, 1])
    slider = widgets.IntSlider(value=3, min=1, max=9, description="k")
    slider.observe(lambda change: line.set_ydata([0, change["new"]]), names="value")
    return Explorer(widget=None, controls={"k": slider}, fig=figure if fig is True else fig,
                    update=lambda *_: None)


def _slider():
    return widgets.IntSlider(value=3, min=1, max=9)


# (function name, call, argument named in the message); each call gets a fresh explorer.
BAD_INTS = [("zero", 0), ("negative", -3), ("one", 1), ("oversized", 10**9), ("bool", True),
            ("string", "5"), ("float", 2.5), ("nan", NAN), ("none", None)]
BAD_POSITIVE_FLOATS = [("zero", 0), ("negative", -1.0), ("nan", NAN), ("inf", INF), ("bool", True),
                       ("string", "80"), ("none", None), ("oversized", 10**7)]
NOT_AN_EXPLORER = [("string", "explorer"), ("none", None), ("int", 42), ("widget", widgets.IntSlider())]

CASES = []
for kind, value in BAD_INTS:
    CASES.append((f"sweep-steps-{kind}", lambda e, v=value: core.sweep(e, steps=v), "steps"))
    CASES.append((f"to_jshtml-frames-{kind}", lambda e, v=value: animation.to_jshtml(e, frames=v), "frames"))
    CASES.append((f"frame_values-frames-{kind}", lambda e, v=value: animation.frame_values(e, frames=v),
                  "frames"))
    CASES.append((f"control_values-steps-{kind}", lambda e, v=value: controls.control_values(_slider(), v),
                  "steps"))
for kind, value in BAD_POSITIVE_FLOATS:
    CASES.append((f"to_jshtml-interval_ms-{kind}", lambda e, v=value: animation.to_jshtml(e, interval_ms=v),
                  "interval_ms"))
    CASES.append((f"to_jshtml-dpi-{kind}", lambda e, v=value: animation.to_jshtml(e, dpi=v), "dpi"))
    CASES.append((f"pick_frame_format-dpi-{kind}", lambda e, v=value: animation.pick_frame_format(e.fig, v),
                  "dpi"))
for kind, value in [("unknown", "gif"), ("case", "PNG"), ("int", 3), ("bool", True)]:
    CASES.append((f"to_jshtml-frame_format-{kind}", lambda e, v=value: animation.to_jshtml(e, frame_format=v),
                  "frame_format"))
for kind, value in [("unknown", "nope"), ("int", 3), ("bool", True), ("list", ["k"])]:
    CASES.append((f"to_jshtml-control-{kind}", lambda e, v=value: animation.to_jshtml(e, v), "control"))
    CASES.append((f"frame_values-control-{kind}", lambda e, v=value: animation.frame_values(e, v), "control"))
for kind, value in NOT_AN_EXPLORER:
    CASES.append((f"sweep-explorer-{kind}", lambda e, v=value: core.sweep(v), "explorer"))
    CASES.append((f"finish_explorer-explorer-{kind}", lambda e, v=value: core.finish_explorer(v), "explorer"))
    CASES.append((f"to_jshtml-explorer-{kind}", lambda e, v=value: animation.to_jshtml(v), "explorer"))
    CASES.append((f"frame_values-explorer-{kind}", lambda e, v=value: animation.frame_values(v), "explorer"))
    CASES.append((f"docs_control-explorer-{kind}", lambda e, v=value: animation.docs_control(v), "explorer"))
for kind, value in [("string", "fig"), ("none", None), ("axes", "axes"), ("array", np.zeros((2, 2)))]:
    CASES.append((f"freeze_layout-fig-{kind}",
                  lambda e, v=value: core.freeze_layout(e.fig.axes[0] if isinstance(v, str) and v == "axes" else v), "fig"))
    CASES.append((f"pick_frame_format-fig-{kind}",
                  lambda e, v=value: animation.pick_frame_format(e.fig.axes[0] if isinstance(v, str) and v == "axes" else v, 80),
                  "fig"))
for kind, value in [("none", None), ("int", 3), ("bytes", b"<div></div>")]:
    CASES.append((f"offline_jshtml-markup-{kind}", lambda e, v=value: animation.offline_jshtml(v), "markup"))
for kind, value in [("string", "slider"), ("none", None), ("layout", widgets.Layout())]:
    CASES.append((f"control_values-control-{kind}", lambda e, v=value: controls.control_values(v, 5),
                  "control"))
for kind, value in [("string", "ax"), ("figure", "figure"), ("array", np.zeros((2, 2))), ("int", 1)]:
    CASES.append((f"get_axes-ax-{kind}",
                  lambda e, v=value: get_axes(e.fig if isinstance(v, str) and v == "figure" else v), "ax"))
CASES += [
    ("sweep-explorer-list-of-non-widgets", lambda e: core.sweep([1, 2]), "explorer"),
    ("sweep-explorer-no-controls", lambda e: core.sweep({}), "explorer"),
    ("sweep-explorer-dict-of-strings", lambda e: core.sweep({"k": "slider"}), "explorer"),
    ("to_jshtml-explorer-no-figure", lambda e: animation.to_jshtml(_explorer(fig=None)), "fig"),
    ("to_jshtml-explorer-fig-string", lambda e: animation.to_jshtml(_explorer(fig="fig")), "fig"),
    ("finish_explorer-explorer-fig-string", lambda e: core.finish_explorer(_explorer(fig="fig")), "fig"),
    ("docs_control-explorer-no-controls",
     lambda e: animation.docs_control(Explorer(widget=None, controls={}, fig=e.fig, update=lambda: None)),
     "controls"),
    ("to_jshtml-explorer-no-controls",
     lambda e: animation.to_jshtml(Explorer(widget=None, controls={}, fig=e.fig, update=lambda: None)),
     "controls"),
]


@pytest.mark.parametrize("call, name", [(call, name) for _, call, name in CASES],
                         ids=[case_id for case_id, _, _ in CASES])
def test_bad_input_raises_a_named_error(call, name):
    explorer = _explorer()
    start = time.monotonic()
    with pytest.raises((ValueError, TypeError), match=name):
        call(explorer)
    assert time.monotonic() - start < 5.0                    # refused up front, never a long run
    assert explorer.controls["k"].value == 3                # the explorer is left as it was


def test_case_count_for_the_report():
    assert len(CASES) >= 100, len(CASES)
