"""`control_values`: the values sweep and the docs frames visit, from the widget's own range."""

import warnings

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


def _px(text):
    assert text.endswith("px"), text
    return int(text[:-2])


def test_every_explorer_slider_gets_a_draggable_track_and_a_whole_label():
    import matplotlib.pyplot as plt

    import visual.widgets.evaluation as ev
    import visual.widgets.interpolation as it
    import visual.widgets.output_stride as os_
    import visual.widgets.pspnet as ps
    import visual.widgets.receptive_field as rf
    from visual.widgets.controls import CHAR_PX, MIN_TRACK_PX, READOUT_PX

    builders = [getattr(it, n) for n in it.__all__] + [
        rf.explore_receptive_field, rf.explore_gridding, lambda: rf.explore_gradient_rf(n_layers=2),
        lambda: rf.explore_effective_rf(n_layers=2), os_.explore_output_stride, os_.explore_alignment,
        ev.explore_sliding_windows, ps.explore_pspnet_sizes, ps.explore_pyramid_bins]
    sliders = dropdowns = 0
    for build in builders:
        with warnings.catch_warnings():  # a student sees any warning in red under the explorer
            warnings.simplefilter("error")
            explorer = build()
        controls = [c for c in explorer.controls.values() if not isinstance(c, widgets.Checkbox)]
        for control in controls:
            label = _px(control.style.description_width)
            assert label >= CHAR_PX * max(len(c.description) for c in controls), control.description
            if isinstance(control, (widgets.IntSlider, widgets.FloatSlider)):
                sliders += 1
                assert _px(control.layout.min_width) - label - READOUT_PX >= MIN_TRACK_PX, control.description
            if isinstance(control, widgets.Dropdown):  # the chosen option shown whole, not cut or empty
                dropdowns += 1
                texts = [o[0] if isinstance(o, tuple) else o for o in control.options]
                assert _px(control.layout.min_width) - label >= CHAR_PX * max(len(str(t)) for t in texts), texts
        assert explorer.fig.get_size_inches()[0] <= 8.0
        plt.close(explorer.fig)
    assert sliders >= 20 and dropdowns >= 6


def test_layout_helper_fails_a_squeezed_slider():
    from visual.widgets.controls import lay_out_controls

    squeezed = widgets.IntSlider(description="layer4 size n", style={"description_width": "10px"})
    with pytest.raises(AssertionError):
        assert _px(squeezed.style.description_width) >= 8 * len(squeezed.description)
    lay_out_controls([squeezed])
    assert _px(squeezed.style.description_width) >= 8 * len(squeezed.description)
