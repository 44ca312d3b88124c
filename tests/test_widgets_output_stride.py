"""Explorers of the output-stride lesson: pure summaries, in-place updates, sweep."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import pytest
import torch

from visual.widgets.core import sweep
from visual.widgets.output_stride import (
    alignment_summary,
    explore_alignment,
    explore_output_stride,
    output_stride_summary,
)

SMALL_IMAGE = torch.rand(3, 32, 32)  # the explorer stretches any photo over the input grid


def test_output_stride_summary_resnet101():
    summary = output_stride_summary("resnet101", 473, (False, True, True))
    assert summary["output_size"] == (60, 60) and summary["positions"] == 3600
    assert summary["positions_ratio"] == 16  # (60 / 15) ** 2
    assert summary["rf"] == summary["reference_rf"]
    assert summary["reference"].output_stride == 32


def test_semseg_summary_has_a_larger_field():
    torchvision = output_stride_summary("resnet50", 473, (False, True, True), "torchvision")
    semseg = output_stride_summary("resnet50", 473, (False, True, True), "semseg")
    assert semseg["rf"] - torchvision["rf"] == 16 + 32  # layer3.0 and layer4.0 conv2, see test_output_stride
    assert semseg["output_size"] == torchvision["output_size"]


@pytest.mark.parametrize("size, offset_true, offset_false", [
    (473, 0.0, 59.5 * 473 / 60 - 0.5 - 472),  # (i + 1/2) H / h - 1/2 against 8 i, i = 59
    (512, 7.0, 3.5),
    (713, 0.0, 89.5 * 713 / 90 - 0.5 - 712),
])
def test_alignment_summary(size, offset_true, offset_false):
    summary = alignment_summary(size, 8)
    assert summary["aligned"] == ((size - 1) % 8 == 0)
    assert summary["offset_true"] == pytest.approx(offset_true)
    assert summary["offset_false"] == pytest.approx(offset_false)
    assert 8 * summary["k"] + summary["remainder"] == size - 1


def test_output_stride_explorer_updates_in_place():
    explorer = explore_output_stride(SMALL_IMAGE, arch="resnet50", input_size=473)
    ax_grid = explorer.fig.axes[0]
    grid, dots = ax_grid.collections[0], ax_grid.lines[0]  # the feature grid and its centre dots
    table_html = explorer.widget.children[3]
    assert len(grid.get_segments()) == 2 * 61 and len(dots.get_xdata()) == 3600
    assert not any(isinstance(c, widgets.DOMWidget) and c is explorer.fig.canvas
                   for c in explorer.widget.children)  # Agg: no canvas widget in the box

    explorer.controls["input_size"].value = 713
    assert len(grid.get_segments()) == 2 * 91  # ceil(713 / 8) = 90 cells per side
    assert ax_grid.images[0].get_extent() == [-0.5, 712.5, 712.5, -0.5]
    assert "713×713" in table_html.value and "90×90" in table_html.value
    assert "<table>" in table_html.value and "conv5_x" in table_html.value

    explorer.controls["layer3"].value = False  # output stride 16
    explorer.controls["layer4"].value = False  # output stride 32
    assert explorer.state["output_stride"] == 32 and len(dots.get_xdata()) == 23 * 23
    bars = explorer.fig.axes[1].containers[1]
    assert [rect.get_height() for rect in bars] == [357, 179, 179, 90, 45, 23]  # ceil(713 / 2^k)

    explorer.controls["arch"].value = "resnet18"
    assert explorer.state["table"].arch == "resnet18" and "resnet18" in table_html.value
    assert "resnet18" in explorer.fig.axes[1].get_title() and "713×713" in explorer.fig.axes[1].get_title()


def _count_draws(explorer) -> list:
    """Replace the canvas' draw_idle (a full Agg render per change) by a counter."""
    calls: list = []
    explorer.fig.canvas.draw_idle = lambda *args, **kwargs: calls.append(1)
    return calls


def test_output_stride_explorer_schedule_and_sweep():
    explorer = explore_output_stride(SMALL_IMAGE, arch="resnet18", input_size=97)
    draws = _count_draws(explorer)
    explorer.controls["schedule"].value = "semseg"
    assert explorer.state["table"].schedule == "semseg"
    assert explorer.state["table"]["layer3"].first_block_dilations == (2, 2)
    changes = sweep(explorer, steps=3)
    assert changes >= 2 * len(explorer.controls) and len(draws) == changes + 1  # one redraw per change
    assert explorer.state["table"].input_size == (97, 97)  # restored
    explorer.fig.canvas.draw()  # the artists left by the sweep render


def test_alignment_explorer_updates_in_place():
    explorer = explore_alignment(512, 8)
    ax_centres, ax_drift = explorer.fig.axes[:2]
    true = ax_centres.lines[1]  # network, align_corners=True, align_corners=False
    assert true.get_xdata()[-1] == pytest.approx(511.0)
    assert "+7.00 px" in explorer.widget.children[1].value

    explorer.controls["input_size"].value = 473
    assert true.get_xdata()[-1] == pytest.approx(472.0)
    drift = ax_drift.lines[0]
    np.testing.assert_array_equal(drift.get_ydata(), np.zeros(473))
    assert "✓" in explorer.widget.children[1].value

    explorer.controls["output_stride"].value = 32
    assert len(true.get_xdata()) == 15  # ceil(473 / 32)
    draws = _count_draws(explorer)
    changes = sweep(explorer, steps=3)
    assert changes >= 4 and len(draws) == changes
    explorer.fig.canvas.draw()


@pytest.mark.parametrize("kwargs, error", [
    ({"arch": "vgg"}, ValueError), ({"input_size": 10}, ValueError), ({"input_size": 2000}, ValueError),
    ({"replace_stride_with_dilation": (True,)}, ValueError), ({"schedule": "mine"}, ValueError),
])
def test_output_stride_explorer_bad_arguments(kwargs, error):
    with pytest.raises(error, match=next(iter(kwargs))):
        explore_output_stride(SMALL_IMAGE, **kwargs)


@pytest.mark.parametrize("kwargs, error", [({"input_size": 5}, ValueError), ({"output_stride": 4}, ValueError),
                                           ({"input_size": 473.0}, TypeError)])
def test_alignment_explorer_bad_arguments(kwargs, error):
    with pytest.raises(error, match=next(iter(kwargs))):
        explore_alignment(**kwargs)
