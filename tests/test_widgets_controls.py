"""`control_values`: the values sweep and the docs frames visit, from the widget's own range."""

import ipywidgets as widgets
import pytest

from visual.widgets.controls import control_values


def test_slider_stops_include_both_ends():
    slider = widgets.IntSlider(value=3, min=1, max=9, step=2)
    assert control_values(slider, 5) == [1, 3, 5, 7, 9]
    assert control_values(slider, 3) == [1, 5, 9]
    assert control_values(slider, 2) == [1, 9]
    floats = control_values(widgets.FloatSlider(value=0.3, min=0.0, max=1.0, step=0.25), 5)
    assert floats == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])


def test_options_checkboxes_and_range_sliders():
    drop = widgets.Dropdown(options=[("one", 1), ("two", 2)], value=2)
    assert control_values(drop, 5) == [1, 2]
    assert control_values(widgets.ToggleButtons(options=["a", "b", "c"]), 2) == ["a", "b", "c"]
    assert control_values(widgets.Checkbox(value=True), 5) == [False, True]
    window = widgets.IntRangeSlider(value=(2, 4), min=0, max=10)
    assert control_values(window, 5) == [(0, 10), (0, 0), (10, 10), (2, 4)]
    assert control_values(widgets.Text(value="x"), 5) == ["x"]
