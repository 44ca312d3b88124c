"""`sweep`, `freeze_layout` and `finish_explorer` (the docs display: tests/test_docs_animation.py)."""

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pytest

from visual import sweep
from visual.widgets.core import Explorer, finish_explorer, freeze_layout


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
    assert sweep(list(explorer.controls.values()), steps=2) == sweep(explorer.controls, steps=2) > 0


def test_sweep_propagates_callback_errors():
    def broken(change):
        if change["new"] == 9:
            raise RuntimeError("callback failed at 9")

    with pytest.raises(RuntimeError, match="at 9"):
        sweep(_explorer(broken))


def test_sweep_rejects_bad_arguments():
    with pytest.raises(ValueError, match="steps"):
        sweep({}, steps=1)
    with pytest.raises(ValueError, match="steps"):
        sweep(_explorer(lambda change: None), steps=10**9)   # bounded: refused, not a hang
    with pytest.raises(ValueError, match="no controls"):
        sweep({})
    with pytest.raises(TypeError, match="explorer"):
        sweep(["not a widget"])


def _legend_figure(loc="best"):
    with plt.ioff():
        fig, ax = plt.subplots(layout="constrained")
    x = np.arange(10)
    ax.plot(x, x**2, label="square")
    ax.plot(x, 50 - x, label="falling line")
    ax.legend(loc=loc)
    ax.set_title("a title\non two lines")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    return fig, ax


def _crowd_the_legend(ax):
    """Move the data under where a 'best' legend sits now, so that a new search would move it."""
    box = ax.get_legend().get_window_extent().transformed(ax.transData.inverted())
    ax.lines[0].set_data(np.linspace(box.x0, box.x1, 50), np.full(50, (box.y0 + box.y1) / 2))
    ax.lines[1].set_data(np.linspace(box.x0, box.x1, 50), np.full(50, box.y0))


def test_best_legend_moves_without_freeze_negative_control():
    fig, ax = _legend_figure()
    fig.canvas.draw()
    before = ax.get_legend().get_window_extent().bounds
    _crowd_the_legend(ax)
    fig.canvas.draw()
    assert ax.get_legend().get_window_extent().bounds != pytest.approx(before, abs=0.5)


def test_freeze_layout_keeps_the_first_layout_and_stops_per_draw_searches():
    fig, ax = _legend_figure()
    fig.canvas.draw()
    legend_box = ax.get_legend().get_window_extent().bounds
    title_box = ax.title.get_window_extent().bounds
    label_boxes = [ax.xaxis.label.get_window_extent().bounds, ax.yaxis.label.get_window_extent().bounds]
    axes_box = ax.get_position().bounds
    freeze_layout(fig)
    _crowd_the_legend(ax)  # what a callback does: move artists; a 'best' search would move the legend
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
    ax.title.set_text("a title\non two lines")  # how callbacks change a pinned title
    fig.canvas.draw()
    assert ax.title.get_window_extent().bounds == pytest.approx(title_box, abs=0.5)
    assert ax.get_position().bounds == pytest.approx(axes_box)
    assert type(fig.get_layout_engine()).__name__ != "ConstrainedLayoutEngine"


def test_unpinned_title_moves_above_top_ticks_negative_control():
    fig, ax = _legend_figure()
    fig.canvas.draw()
    title_box = ax.title.get_window_extent().bounds
    fig.set_layout_engine("none")
    ax.xaxis.tick_top()
    fig.canvas.draw()
    assert ax.title.get_window_extent().y0 > title_box[1] + 1


def test_freeze_layout_keeps_title_style_and_placed_legends():
    fig, ax = _legend_figure(loc="upper center")
    ax.set_title("small title", fontsize=7, fontweight="bold", pad=20)
    fig.canvas.draw()
    legend_box = ax.get_legend().get_window_extent()
    title_box = ax.title.get_window_extent().bounds
    freeze_layout(fig)
    fig.canvas.draw()
    assert ax.title.get_fontsize() == 7 and ax.title.get_fontweight() == "bold"
    assert ax.title.get_window_extent().bounds == pytest.approx(title_box, abs=0.5)
    after = ax.get_legend().get_window_extent()
    assert after.bounds == pytest.approx(legend_box.bounds, abs=0.5)
    axes_box = ax.get_window_extent()
    assert (after.x0 + after.x1) / 2 == pytest.approx((axes_box.x0 + axes_box.x1) / 2, abs=1.0)  # centred


def test_finish_explorer_wires_packs_updates_once_and_freezes():
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
