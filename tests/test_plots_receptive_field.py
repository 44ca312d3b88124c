"""Plot helpers of lesson 01 draw what PyTorch computes, label their axes and return the Axes."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from matplotlib.axes import Axes

from visual import conv_stack, effective_receptive_field, trace
from visual.plots.receptive_field import (
    cone_image,
    draw_dilated_kernel,
    draw_effective_receptive_field,
    draw_gridding,
    draw_receptive_field_stack,
    kernel_footprint_image,
    plot_dilated_kernel,
    plot_effective_receptive_field,
    plot_gridding,
    plot_receptive_field_growth,
    plot_receptive_field_stack,
    update_dilated_kernel,
    update_effective_receptive_field,
    update_gridding,
    update_receptive_field_stack,
)


def _labelled(ax: Axes) -> None:
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    assert "pixel" in ax.get_xlabel()


@pytest.mark.parametrize("kernel_size,dilation", [(1, 1), (3, 1), (3, 2), (3, 3), (2, 4), (5, 2)])
def test_kernel_footprint_matches_pytorch_dilated_kernel(kernel_size, dilation):
    """The taps are where a real dilated conv reads: push a delta back through conv_transpose2d."""
    delta = torch.ones(1, 1, 1, 1)
    weight = torch.ones(1, 1, kernel_size, kernel_size)
    reads = F.conv_transpose2d(delta, weight, dilation=dilation)[0, 0].numpy()  # (k_eff, k_eff)
    image = kernel_footprint_image(kernel_size, dilation)
    k_eff = reads.shape[0]
    assert image.shape == (k_eff + 2, k_eff + 2)
    np.testing.assert_array_equal(image[1:-1, 1:-1], reads)
    assert image.sum() == kernel_size**2
    with pytest.raises(ValueError, match="grid"):
        kernel_footprint_image(kernel_size, dilation, grid=k_eff - 1)


def test_plot_dilated_kernel_draws_taps_and_span():
    ax = plot_dilated_kernel(3, 2)
    assert isinstance(ax, Axes)
    _labelled(ax)
    assert "effective kernel 5x5" in ax.get_title()
    assert ax.images[0].get_array().sum() == 9
    span = ax.patches[0]
    assert (span.get_width(), span.get_height()) == (5, 5)


def test_plot_uses_given_axes_and_leaves_rcparams_alone():
    before = dict(matplotlib.rcParams)
    fig, axes = plt.subplots(1, 2)
    assert plot_receptive_field_stack(3, 2, 1, 3, ax=axes[1]) is axes[1]
    assert plot_gridding(3, [1, 2], ax=axes[0]) is axes[0]
    assert dict(matplotlib.rcParams) == before


def test_cone_image_encodes_units_and_paths():
    image = cone_image(kernel_size=3, stride=2, dilation=1, n_layers=2)
    assert image.shape == (3, 7)  # rf = 1 + 2 * 1 + 2 * 2 = 7
    top = image[-1]
    assert np.nanmax(top) == 1.0 and np.sum(top > 0) == 1 and top[3] == 1.0  # the output unit
    layer1 = image[1]
    # stride 2: layer-1 units sit every 2 input pixels (odd positions); no unit elsewhere
    assert np.isnan(layer1[0::2]).all() and not np.isnan(layer1[1::2]).any()
    assert (image[0] > 0).all()  # every input pixel feeds the output (no holes with stride 2, k 3)


def test_plot_receptive_field_stack_labels_layers():
    ax = plot_receptive_field_stack(3, 1, 2, 3)
    assert "pixel" in ax.get_xlabel()
    assert ax.get_title().endswith("receptive field 13 px")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["input", "layer 1", "layer 2", "layer 3"]
    assert ax.images[0].get_array().shape == (4, 13)
    assert ax.texts[0].get_text() == "RF = 13 px"


def test_plot_gridding_marks_holes_as_missing():
    ax = plot_gridding(3, [2, 2, 2])
    _labelled(ax)
    shown = np.ma.getdata(ax.images[0].get_array())
    holes = np.isnan(shown)
    assert holes.sum() == 169 - 49  # 13 x 13 field, only the 7 x 7 even offsets are reached
    assert "120 of 169 pixels are holes" in ax.get_title() and "violated" in ax.get_title()
    assert "no holes" in plot_gridding(3, [1, 2, 5]).get_title()
    ticks = ax.get_xticks()
    assert np.array_equal(ticks, np.round(ticks))  # whole-pixel offsets only
    colorbars = [a for a in ax.figure.axes if a is not ax]
    assert len(colorbars) == 1 and "paths" in colorbars[0].get_ylabel()


def test_plot_receptive_field_growth_one_line_per_stack():
    ax = plot_receptive_field_growth({"3x3": [3, 5, 7], "dilated": [3, 7, 15]})
    assert [line.get_label() for line in ax.get_lines()] == ["3x3", "dilated"]
    np.testing.assert_array_equal(ax.get_lines()[1].get_ydata(), [3, 7, 15])
    assert ax.get_legend() is not None and "pixels" in ax.get_ylabel()


def test_plot_receptive_field_growth_flags_a_curve_hidden_under_another():
    ax = plot_receptive_field_growth({"strided": [3, 7, 15], "3x3": [3, 5, 7], "dilated": [3, 7, 15]})
    lines = ax.get_lines()
    assert [line.get_linestyle() for line in lines] == ["-", "-", "--"]
    assert "= strided" in lines[2].get_label() and lines[0].get_label() == "strided"


def test_plot_effective_receptive_field_box_matches_trace():
    stack = conv_stack([1, 1, 1], channels=2, activation="relu")
    heat = effective_receptive_field(stack, 21, n_samples=2)
    box = trace(stack, 21).output.box()
    ax = plot_effective_receptive_field(heat, box=box)
    _labelled(ax)
    rect = ax.patches[0]
    assert (rect.get_x(), rect.get_y(), rect.get_width(), rect.get_height()) == (6.5, 6.5, 7, 7)
    np.testing.assert_allclose(ax.images[0].get_array(), heat.numpy())
    assert ax.get_legend().get_texts()[0].get_text() == "theoretical RF 7x7"
    # the ERF is zero outside the theoretical field of the centre unit
    outside = heat.clone()
    outside[7:14, 7:14] = 0
    assert outside.max() == 0


def test_draw_then_update_equals_drawing_the_new_state():
    """update_x(draw_x(old), new) shows what draw_x(new) shows, on the same artists."""
    fig, axes = plt.subplots(2, 4)
    pairs = [
        (draw_dilated_kernel, update_dilated_kernel, (3, 1), (5, 3)),
        (draw_receptive_field_stack, update_receptive_field_stack, (3, 1, 1, 2), (3, 2, 2, 4)),
        (draw_gridding, update_gridding, (3, (1, 2, 5)), (3, (2, 2, 2))),
        (draw_effective_receptive_field, update_effective_receptive_field,
         (torch.rand(9, 9),), (torch.rand(13, 11),)),
    ]
    for (draw, update, old, new), ax_old, ax_new in zip(pairs, axes[0], axes[1]):
        artists = draw(ax_old, *old)
        image = artists.image
        update(artists, *new)
        fresh = draw(ax_new, *new)
        assert artists.image is image and len(ax_old.images) == 1
        np.testing.assert_array_equal(np.ma.getdata(image.get_array()), np.ma.getdata(fresh.image.get_array()))
        assert image.get_extent() == fresh.image.get_extent()
        assert ax_old.get_title() == ax_new.get_title()
    kernel = draw_dilated_kernel(axes[0, 0], 3, 2)
    assert kernel.span.get_width() == 5 and len(kernel.grid.get_segments()) == 2 * (7 + 1)


def test_heatmap_box_follows_update():
    fig, ax = plt.subplots()
    artists = draw_effective_receptive_field(ax, torch.rand(21, 21), box=(6, 6, 9, 9))
    assert artists.box.get_visible() and artists.box.get_width() == 9
    update_effective_receptive_field(artists, torch.rand(21, 21), box=(2, 3, 15, 13))
    assert (artists.box.get_x(), artists.box.get_y(), artists.box.get_width()) == (2.5, 1.5, 13)
    assert ax.get_legend().get_texts()[0].get_text() == "theoretical RF 15x13"
    update_effective_receptive_field(artists, torch.rand(21, 21))
    assert not artists.box.get_visible()

