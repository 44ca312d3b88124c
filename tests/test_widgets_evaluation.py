"""visual/widgets/evaluation.py: the sliding-window explorer and its pure summary."""

from __future__ import annotations

import pytest
import torch

import visual
from visual.inference import sliding_windows
from visual.widgets.evaluation import explore_sliding_windows, scaled_photo, window_summary


def test_summary_of_the_paper_setting_by_hand():
    summary = window_summary(512, 683, 473, 2 / 3)
    assert summary["passes"] == 4 and summary["stride"] == 316 and summary["canvas"] == (512, 683)
    assert summary["max_count"] == 4
    assert summary["work"] == pytest.approx(4 * 473 * 473 / (512 * 683))
    # rows 39..472 lie in both window rows, columns 210..472 in both window columns
    covered_once = (512 - (473 - 39)) * (683 - (473 - 210))
    assert summary["overlap"] == pytest.approx(1 - covered_once / (512 * 683))


def test_photo_at_scale_one():
    assert scaled_photo(visual.load_sample_image(), 512).shape == (3, 512, 437)  # 600 x 512 -> long side 512


def test_explorer_follows_its_sliders():
    explorer = explore_sliding_windows(crop_size=473, stride_rate=2 / 3)
    assert explorer.state["passes"] == len(sliding_windows(512, 437, 473, 2 / 3)) == 2
    explorer.controls["crop_size"].value = 201
    assert explorer.state["passes"] == len(sliding_windows(512, 437, 201, 2 / 3))
    explorer.controls["stride_rate"].value = 0.25
    assert explorer.state["stride"] == 51  # ceil(201 / 4)
    readouts = [w.value for w in explorer.widget.children if hasattr(w, "value")]
    assert any("stride 51 px" in text for text in readouts)
    assert visual.sweep(explorer) > 4


@pytest.mark.parametrize("kwargs, error", [
    ({"crop_size": 96}, ValueError), ({"crop_size": 474}, ValueError), ({"crop_size": 4.0}, TypeError),
    ({"stride_rate": 0.1}, ValueError), ({"stride_rate": float("nan")}, ValueError),
    ({"base_size": 10}, ValueError), ({"image": torch.rand(3, 5)}, ValueError)])
def test_initial_values_out_of_range_raise(kwargs, error):
    name = next(iter(kwargs))
    with pytest.raises(error, match=name):
        explore_sliding_windows(**kwargs)
