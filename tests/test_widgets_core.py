"""`sweep` drives every control and lets callback errors through."""

import ipywidgets as widgets
import pytest

from visual import Explorer, sweep


def _explorer(callback):
    slider = widgets.IntSlider(value=3, min=1, max=9, step=2)
    check = widgets.Checkbox(value=False)
    drop = widgets.Dropdown(options=[("one", 1), ("two", 2), ("three", 3)], value=1)
    controls = {"k": slider, "flag": check, "choice": drop}
    for control in controls.values():
        control.observe(callback, names="value")
    return Explorer(widget=widgets.VBox(list(controls.values())), controls=controls, fig=None,
                    update=callback)


def test_sweep_visits_every_value_and_restores():
    seen = []
    explorer = _explorer(lambda change: seen.append((change["owner"].description, change["new"])))
    changes = sweep(explorer, steps=5)
    values = [v for _, v in seen]
    assert {1, 3, 5, 7, 9} <= set(values)           # every slider stop
    assert True in values and 2 in values and 3 in values
    assert changes == len(seen)
    assert [c.value for c in explorer.controls.values()] == [3, False, 1]


def test_sweep_propagates_callback_errors():
    def broken(change):
        if change["new"] == 9:
            raise RuntimeError("callback failed at 9")

    with pytest.raises(RuntimeError, match="at 9"):
        sweep(_explorer(broken))


def test_sweep_rejects_bad_arguments():
    with pytest.raises(ValueError, match="steps"):
        sweep({}, steps=1)
    with pytest.raises(ValueError, match="no controls"):
        sweep({})


# --- docs rendering: scrub-bar animations -------------------------------------------------

import base64  # noqa: E402
import io  # noqa: E402
import re  # noqa: E402

import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from visual.widgets import core  # noqa: E402

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


def test_docs_control_prefers_sliders():
    explorer, _ = _slope_explorer()
    assert explorer.docs_control() == "k"
    only_drop = Explorer(widget=None, controls={"d": widgets.Dropdown(options=[1, 2])}, fig=None,
                         update=lambda: None)
    assert only_drop.docs_control() == "d"
    with pytest.raises(ValueError, match="no controls"):
        Explorer(widget=None, controls={}, fig=None, update=lambda: None).docs_control()


def test_frame_values_cover_the_range_ends_included():
    explorer, _ = _slope_explorer()
    assert explorer.frame_values(frames=8) == [1, 3, 5, 7, 9]   # only five stops exist
    assert explorer.frame_values(frames=3) == [1, 3, 5, 9]       # ends, middle, and the value 3
    explorer.controls["k"].value = 5
    assert explorer.frame_values(frames=3) == [1, 5, 9]
    floats = Explorer(widget=None, controls={"s": widgets.FloatSlider(value=0.3, min=0.0, max=1.0, step=0.1)},
                      fig=None, update=lambda: None)
    assert floats.frame_values(frames=3) == pytest.approx([0.0, 0.3, 0.5, 1.0])
    drop = widgets.Dropdown(options=list("abcdefghij"), value="c")
    assert Explorer(widget=None, controls={"d": drop}, fig=None,
                    update=lambda: None).frame_values(frames=4) == ["a", "c", "d", "g", "j"]
    check = Explorer(widget=None, controls={"c": widgets.Checkbox(value=True)}, fig=None,
                     update=lambda: None)
    assert check.frame_values() == [False, True]


def test_frame_values_reject_bad_arguments():
    explorer, _ = _slope_explorer()
    with pytest.raises(ValueError, match="frames"):
        explorer.frame_values(frames=1)
    with pytest.raises(ValueError, match="control must be one of"):
        explorer.frame_values("nope")


def test_to_jshtml_frames_show_each_slider_value():
    explorer, seen = _slope_explorer()
    markup = explorer.to_jshtml(frames=5, dpi=50)
    frames = {int(i): base64.b64decode(data) for i, data in FRAME.findall(markup)}
    assert sorted(frames) == [0, 1, 2, 3, 4]
    # Each frame equals the figure drawn independently at that slope (same size and dpi).
    for index, slope in enumerate([1, 3, 5, 7, 9]):
        fig, _ = _slope_figure(slope)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=50)
        plt.close(fig)
        np.testing.assert_array_equal(_png_pixels(frames[index]), _png_pixels(buffer.getvalue()))
    assert len({frames[i] for i in frames}) == 5                 # the figure followed the slider
    assert {1, 3, 5, 7, 9} <= set(seen)
    assert explorer.controls["k"].value == 3                     # restored
    np.testing.assert_array_equal(explorer.fig.axes[0].lines[0].get_ydata(), 3 * X)
    assert 'data-control="k"' in markup and "<b>slope</b> from 1 to 9 (5 frames, opening on the notebook's value 3)" in markup
    assert 'data-start-frame="1"' in markup and ".set_frame(1);" in markup  # opens on k=3
    plt.close(explorer.fig)


def test_to_jshtml_is_offline_and_does_not_start_playing():
    explorer, seen = _slope_explorer()
    markup = explorer.to_jshtml(frames=3, dpi=30)
    assert "http://" not in markup and "https://" not in markup and "<link" not in markup
    assert 'class="fa' not in markup and "&#9654;" in markup     # text icons, no icon font
    count = len(seen)
    explorer.fig.canvas.draw()                                   # a later live draw...
    assert len(seen) == count and explorer.controls["k"].value == 3   # ...does not animate
    plt.close(explorer.fig)


def test_offline_jshtml_strips_matplotlibs_cdn_link():
    from matplotlib.animation import FuncAnimation

    fig, line = _slope_figure(1)
    animation = FuncAnimation(fig, lambda s: line.set_ydata(s * X), frames=[1, 2])
    raw = animation.to_jshtml()
    assert "https://" in raw                                     # matplotlib links a CDN...
    clean = core.offline_jshtml(raw)
    assert "https://" not in clean and "<link" not in clean       # ...which we drop
    assert clean.count('title="Play"') == 1
    plt.close(fig)


def test_photo_like_figures_get_jpeg_frames_line_art_keeps_png():
    rng = np.random.default_rng(0)
    with plt.ioff():
        fig, ax = plt.subplots(figsize=(6, 6))
    image = ax.imshow(rng.random((300, 300, 3)))                  # noise: PNG cannot compress it
    level = widgets.FloatSlider(value=1.0, min=0.5, max=1.0, step=0.25, description="level")
    level.observe(lambda change: image.set_data(rng.random((300, 300, 3)) * change["new"]), names="value")
    photo = Explorer(widget=None, controls={"level": level}, fig=fig, update=lambda: None)
    markup = photo.to_jshtml(frames=3)
    assert markup.count('"data:image/jpeg;base64,') == 3 and "data:image/png" not in markup
    assert photo.to_jshtml(frames=3, frame_format="png").count('"data:image/png;base64,') == 3
    explorer, _ = _slope_explorer()
    assert explorer.to_jshtml(frames=3).count('"data:image/png;base64,') == 4  # 1, 3 (its value), 5, 9
    plt.close(fig)
    plt.close(explorer.fig)


def test_to_jshtml_rejects_bad_arguments():
    explorer, _ = _slope_explorer()
    with pytest.raises(ValueError, match="frame_format"):
        explorer.to_jshtml(frame_format="gif")
    with pytest.raises(ValueError, match="interval_ms"):
        explorer.to_jshtml(interval_ms=0)
    with pytest.raises(ValueError, match="dpi"):
        explorer.to_jshtml(dpi=0)
    with pytest.raises(ValueError, match="frames"):
        explorer.to_jshtml(frames=1)
    with pytest.raises(ValueError, match="no figure"):
        Explorer(widget=None, controls=explorer.controls, fig=None, update=lambda: None).to_jshtml()
    plt.close(explorer.fig)


def test_display_switches_to_the_animation_in_docs_mode(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    explorer, _ = _slope_explorer()
    monkeypatch.delenv(core.DOCS_ENV_VAR, raising=False)
    assert not core.docs_mode() and not explorer.displayed
    explorer._ipython_display_()
    assert explorer.displayed
    assert shown[-1] is explorer.widget
    monkeypatch.setenv(core.DOCS_ENV_VAR, "1")
    assert core.docs_mode()
    explorer._ipython_display_()
    assert isinstance(shown[-1], IPython.display.HTML)
    assert len(FRAME.findall(shown[-1].data)) == 5
    # released from pyplot, so the inline backend cannot show it again as a stray static image
    assert explorer.fig.number not in plt.get_fignums()
    explorer.controls["k"].value = 5                           # still live for the sweep cell
    np.testing.assert_array_equal(explorer.fig.axes[0].lines[0].get_ydata(), 5 * X)


def _legend_figure():
    import matplotlib.pyplot as plt
    import numpy as np

    with plt.ioff():
        fig, ax = plt.subplots(layout="constrained")
    x = np.arange(10)
    ax.plot(x, x**2, label="square")
    ax.plot(x, 50 - x, label="falling line")
    ax.legend()  # loc="best"
    ax.set_title("a title\non two lines")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    return fig, ax


def test_freeze_layout_keeps_the_first_layout_and_stops_per_draw_searches(monkeypatch):
    import matplotlib.pyplot as plt
    from matplotlib.legend import Legend

    from visual import freeze_layout

    fig, ax = _legend_figure()
    fig.canvas.draw()
    legend_box = ax.get_legend().get_window_extent().bounds
    title_box = ax.title.get_window_extent().bounds
    label_boxes = [ax.xaxis.label.get_window_extent().bounds, ax.yaxis.label.get_window_extent().bounds]
    axes_box = ax.get_position().bounds
    freeze_layout(fig)

    def no_search(*args, **kwargs):
        raise AssertionError("legend searched for the best location after freeze_layout")

    monkeypatch.setattr(Legend, "_find_best_position", no_search)
    ax.lines[0].set_ydata(range(10))  # what a callback does: move artists
    fig.canvas.draw()
    assert ax.get_legend().get_window_extent().bounds == pytest.approx(legend_box, abs=0.5)
    assert ax.title.get_window_extent().bounds == pytest.approx(title_box, abs=0.5)
    for box, axis in zip(label_boxes, (ax.xaxis, ax.yaxis)):
        assert axis.label.get_window_extent().bounds == pytest.approx(box, abs=0.5)
    ax.set_yticks([0, 50], ["a much wider tick label", "b"])  # would push an unpinned y label left
    ax.xaxis.tick_top()  # tick labels above the axes would push an unpinned title up
    fig.canvas.draw()
    assert ax.yaxis.label.get_window_extent().bounds == pytest.approx(label_boxes[1], abs=0.5)
    assert ax.title.get_window_extent().bounds == pytest.approx(title_box, abs=0.5)
    assert ax.get_position().bounds == pytest.approx(axes_box)
    assert type(fig.get_layout_engine()).__name__ != "ConstrainedLayoutEngine"
    plt.close(fig)


def test_freeze_layout_leaves_placed_legends_alone():
    import matplotlib.pyplot as plt

    from visual import freeze_layout

    fig, ax = _legend_figure()
    ax.legend(loc="upper center")
    freeze_layout(fig)
    assert ax.get_legend()._loc == 9  # "upper center" is code 9 in matplotlib's table
    plt.close(fig)


def test_finish_explorer_wires_packs_updates_once_and_freezes():
    import matplotlib.pyplot as plt

    from visual import finish_explorer

    fig, ax = _legend_figure()
    calls = []
    slider = widgets.IntSlider(value=2, min=0, max=5)
    check = widgets.Checkbox(value=False)
    readout = widgets.HTML("readout")
    explorer = Explorer(None, {"k": slider, "flag": check}, fig, lambda *_: calls.append(slider.value))
    assert finish_explorer(explorer, rows=[[check], [slider]], readouts=[readout]) is explorer
    assert calls == [2]  # drawn once from the current values
    rows = explorer.widget.children
    assert [list(row.children) for row in rows[:2]] == [[check], [slider]]
    assert rows[2] is readout
    slider.value = 4
    check.value = True
    assert calls == [2, 4, 4]  # every control calls update
    assert type(fig.get_layout_engine()).__name__ != "ConstrainedLayoutEngine"
    default = finish_explorer(Explorer(None, {"k": widgets.IntSlider()}, fig, lambda *_: None))
    assert len(default.widget.children) == 1  # one row of controls; Agg canvas is not a widget
    plt.close(fig)
