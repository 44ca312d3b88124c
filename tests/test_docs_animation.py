"""Docs rendering of an explorer (tools/docs_animation.py): scrub-bar animations made with HTMLWriter."""

import base64
import io
import re
import sys
from pathlib import Path

import ipywidgets as widgets
import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pytest

from visual.widgets.core import Explorer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))  # tools/ is not a package
import docs_animation as animation  # noqa: E402

X = np.linspace(0.0, 1.0, 20)
FRAME = re.compile(r'frames\[(\d+)\] = "data:image/png;base64,([^"]+)"')


def _slope_figure(slope):
    """A figure whose line has the given slope, drawn the way the explorer draws it."""
    with plt.ioff():
        fig, ax = plt.subplots(figsize=(3, 2), dpi=100)
    (line,) = ax.plot(X, slope * X)
    ax.set_ylim(0, 10)
    return fig, line


def _slope_explorer():
    """Dropdown first, slider second: the slider must still be the docs control."""
    fig, line = _slope_figure(3)
    drop = widgets.Dropdown(options=["a", "b"], value="a", description="unused")
    slider = widgets.IntSlider(value=3, min=1, max=9, step=2, description="slope")
    seen = []

    def update(change=None):
        seen.append(slider.value)
        line.set_ydata(slider.value * X)
        fig.canvas.draw_idle()

    slider.observe(update, names="value")
    controls = {"kind": drop, "k": slider}
    return Explorer(widget=widgets.VBox([drop, slider]), controls=controls, fig=fig,
                    update=update), seen


def _png_pixels(png: bytes) -> np.ndarray:
    return mpimg.imread(io.BytesIO(png), format="png")


def _frames(markup):
    return {int(i): base64.b64decode(data.replace("\\\n", "")) for i, data in FRAME.findall(markup)}


def test_docs_control_prefers_sliders():
    explorer, _ = _slope_explorer()
    assert animation.docs_control(explorer) == "k"
    only_drop = Explorer(widget=None, controls={"d": widgets.Dropdown(options=[1, 2])}, fig=None,
                         update=lambda: None)
    assert animation.docs_control(only_drop) == "d"
    with pytest.raises(ValueError, match="no controls"):
        animation.docs_control(Explorer(widget=None, controls={}, fig=None, update=lambda: None))


def test_frame_values_cover_the_range_ends_included():
    explorer, _ = _slope_explorer()
    assert animation.frame_values(explorer, frames=8) == [1, 3, 5, 7, 9]   # only five stops exist
    assert animation.frame_values(explorer, frames=3) == [1, 3, 5, 9]       # ends, middle, and the value 3
    explorer.controls["k"].value = 5
    assert animation.frame_values(explorer, frames=3) == [1, 5, 9]
    floats = Explorer(widget=None, controls={"s": widgets.FloatSlider(value=0.3, min=0.0, max=1.0, step=0.1)},
                      fig=None, update=lambda: None)
    assert animation.frame_values(floats, frames=3) == pytest.approx([0.0, 0.3, 0.5, 1.0])
    drop = widgets.Dropdown(options=list("abcdefghij"), value="c")
    assert animation.frame_values(Explorer(widget=None, controls={"d": drop}, fig=None, update=lambda: None),
                                  frames=4) == ["a", "c", "d", "g", "j"]
    check = Explorer(widget=None, controls={"c": widgets.Checkbox(value=True)}, fig=None,
                     update=lambda: None)
    assert animation.frame_values(check) == [False, True]
    window = Explorer(widget=None, controls={"w": widgets.IntRangeSlider(value=(2, 4), min=0, max=8)},
                      fig=None, update=lambda: None)
    assert animation.frame_values(window, frames=3) == [(0, 0), (0, 4), (0, 8)]


def test_frame_values_reject_bad_arguments():
    explorer, _ = _slope_explorer()
    with pytest.raises(ValueError, match="frames"):
        animation.frame_values(explorer, frames=1)
    with pytest.raises(ValueError, match="control must be one of"):
        animation.frame_values(explorer, "nope")


def test_to_jshtml_frames_show_each_slider_value():
    explorer, seen = _slope_explorer()
    markup = animation.to_jshtml(explorer, frames=5, dpi=50)
    frames = _frames(markup)
    assert sorted(frames) == [0, 1, 2, 3, 4]
    # Each frame equals the figure drawn independently at that slope (same size and dpi).
    for index, slope in enumerate([1, 3, 5, 7, 9]):
        fig, _ = _slope_figure(slope)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=50)
        np.testing.assert_array_equal(_png_pixels(frames[index]), _png_pixels(buffer.getvalue()))
    assert len(set(frames.values())) == 5                        # the figure followed the slider
    assert {1, 3, 5, 7, 9} <= set(seen)
    assert explorer.controls["k"].value == 3                     # restored
    np.testing.assert_array_equal(explorer.fig.axes[0].lines[0].get_ydata(), 3 * X)
    assert tuple(explorer.fig.get_size_inches()) == (3, 2)       # figure size untouched
    assert 'data-control="k"' in markup
    assert "<b>slope</b> from 1 to 9 (5 frames, opening on the notebook's value 3)" in markup
    assert 'data-start-frame="1"' in markup and ".set_frame(1);" in markup  # opens on k=3


def test_interval_sets_the_playing_delay():
    explorer, _ = _slope_explorer()
    markup = animation.to_jshtml(explorer, frames=2, dpi=20, interval_ms=250)
    assert re.search(r"\b250(\.0)?\b", markup)                   # 1000 // fps = the delay in ms


def test_to_jshtml_is_offline_and_does_not_start_playing():
    explorer, seen = _slope_explorer()
    markup = animation.to_jshtml(explorer, frames=3, dpi=30)
    assert "http://" not in markup and "https://" not in markup and "<link" not in markup
    assert 'class="fa' not in markup and "&#9654;" in markup     # text icons, no icon font
    count = len(seen)
    explorer.fig.canvas.draw()                                   # a later live draw...
    assert len(seen) == count and explorer.controls["k"].value == 3   # ...does not animate


def test_offline_jshtml_strips_matplotlibs_cdn_link():
    from matplotlib.animation import FuncAnimation

    fig, line = _slope_figure(1)
    raw = FuncAnimation(fig, lambda s: line.set_ydata(s * X), frames=[1, 2]).to_jshtml()
    assert "https://" in raw                                     # matplotlib links a CDN...
    clean = animation.offline_jshtml(raw)
    assert "https://" not in clean and "<link" not in clean       # ...which we drop
    assert clean.count('title="Play"') == 1


def test_photo_like_figures_get_jpeg_frames_line_art_keeps_png():
    rng = np.random.default_rng(0)
    with plt.ioff():
        fig, ax = plt.subplots(figsize=(6, 6))
    image = ax.imshow(rng.random((300, 300, 3)))                  # noise: PNG cannot compress it
    level = widgets.FloatSlider(value=1.0, min=0.5, max=1.0, step=0.25, description="level")
    level.observe(lambda change: image.set_data(rng.random((300, 300, 3)) * change["new"]), names="value")
    photo = Explorer(widget=None, controls={"level": level}, fig=fig, update=lambda: None)
    assert animation.pick_frame_format(fig, 80) == "jpeg"
    markup = animation.to_jshtml(photo, frames=3)
    assert markup.count('"data:image/jpeg;base64,') == 3 and "data:image/png" not in markup
    assert animation.to_jshtml(photo, frames=3, frame_format="png").count('"data:image/png;base64,') == 3
    explorer, _ = _slope_explorer()
    assert animation.pick_frame_format(explorer.fig, 80) == "png"
    markup = animation.to_jshtml(explorer, frames=3)
    assert markup.count('"data:image/png;base64,') == 4  # 1, 3 (its value), 5, 9


def test_to_jshtml_rejects_bad_arguments():
    explorer, _ = _slope_explorer()
    with pytest.raises(ValueError, match="frame_format"):
        animation.to_jshtml(explorer, frame_format="gif")
    with pytest.raises(ValueError, match="interval_ms"):
        animation.to_jshtml(explorer, interval_ms=0)
    with pytest.raises(ValueError, match="dpi"):
        animation.to_jshtml(explorer, dpi=0)
    with pytest.raises(ValueError, match="frames"):
        animation.to_jshtml(explorer, frames=1)
    with pytest.raises(ValueError, match="no figure"):
        animation.to_jshtml(Explorer(widget=None, controls=explorer.controls, fig=None, update=lambda: None))
    assert explorer.controls["k"].value == 3


def test_install_makes_explorers_display_as_animations(monkeypatch):
    """The docs kernel's hook (IPython's public formatter registry) wins over ``_ipython_display_``."""
    import IPython.display
    from IPython.core.formatters import DisplayFormatter

    shown = []
    monkeypatch.setattr(animation, "display", lambda obj: shown.append(obj))
    explorer, _ = _slope_explorer()

    class Shell:
        display_formatter = DisplayFormatter()

    assert Shell.display_formatter.format(explorer) == ({}, {})   # handled by _ipython_display_...
    assert not shown and explorer.displayed                       # ...which displays the live widget
    explorer.displayed = False
    animation.install(Shell())
    assert Shell.display_formatter.format(explorer) == ({}, {})
    assert explorer.displayed and isinstance(shown[-1], IPython.display.HTML)
    assert shown[-1].data.count('"data:image/png;base64,') == 5 and "visual-explorer-animation" in shown[-1].data
    # released from pyplot, so the inline backend cannot show it again as a stray static image
    assert explorer.fig.number not in plt.get_fignums()
    explorer.controls["k"].value = 5                              # still live for the sweep cell
    np.testing.assert_array_equal(explorer.fig.axes[0].lines[0].get_ydata(), 5 * X)
    with pytest.raises(RuntimeError, match="IPython kernel"):
        animation.install()                                       # no shell running in pytest

