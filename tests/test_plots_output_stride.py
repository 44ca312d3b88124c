"""Plot helpers of the output-stride lesson draw what the tables and F.interpolate say."""

from __future__ import annotations

import math

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from visual.cost import CostTable, StrideCost
from visual.output_stride import stride_table, upsampling_drift
from visual.plots.output_stride import (
    draw_feature_centres,
    draw_feature_grid,
    draw_stage_sizes,
    draw_upsampling_drift,
    plot_feature_centres,
    plot_feature_grid,
    plot_stage_sizes,
    plot_stride_cost,
    plot_upsampling_drift,
    update_feature_centres,
    update_feature_grid,
    update_stage_sizes,
    update_upsampling_drift,
)

OS8, OS32 = (False, True, True), (False, False, False)


def test_stage_sizes_bars_follow_the_ceil_rule():
    before = dict(mpl.rcParams)
    tables = [stride_table("resnet50", 473, OS32), stride_table("resnet50", 473, OS8)]
    ax = plot_stage_sizes(tables)
    heights = [[rect.get_height() for rect in bars] for bars in ax.containers]
    # ceil(473 / 2^k): conv1 237, maxpool 119, layer1 119, layer2 60, then 30, 15 or 60, 60
    assert heights == [[237, 119, 119, 60, 30, 15], [237, 119, 119, 60, 60, 60]]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "resnet50, OS 32 (FFF)", "resnet50, OS 8 (FTT)"]
    assert "pixels" in ax.get_ylabel() and "473×473" in ax.get_title()
    assert [t.get_text() for t in ax.get_xticklabels()][-1] == "layer4\nconv5_x"
    assert dict(mpl.rcParams) == before


def test_stage_sizes_other_quantities_and_given_axes():
    table = stride_table("resnet18", 224, OS8)
    _, ax = plt.subplots()
    assert plot_stage_sizes(table, ax=ax, quantity="rf", labels=["mine"]) is ax
    assert [rect.get_height() for rect in ax.containers[0]] == [row.rf for row in table]
    ax = plot_stage_sizes(table, quantity="positions")
    assert ax.containers[0][-1].get_height() == math.ceil(224 / 8) ** 2


def test_stage_sizes_bad_arguments():
    table = stride_table("resnet18")
    with pytest.raises(ValueError, match="quantity must be one of"):
        plot_stage_sizes(table, quantity="area")
    with pytest.raises(ValueError, match="one entry per table"):
        plot_stage_sizes([table, table], labels=["only one"])
    with pytest.raises(TypeError, match="StrideTable"):
        plot_stage_sizes([])


@pytest.mark.parametrize("layout", ["chw-tensor", "hwc-array"])
def test_feature_grid_cells_are_stride_squares(layout):
    table = stride_table("resnet50", 473, OS8)
    image = torch.rand(3, 40, 40)
    image = image if layout == "chw-tensor" else image.permute(1, 2, 0).numpy()
    _, ax = plt.subplots()
    artists = draw_feature_grid(ax, image, table)
    segments = artists.grid.get_segments()
    assert len(segments) == (60 + 1) + (60 + 1)
    rows = sorted(seg[0][1] for seg in segments[:61])
    # Feature i is centred on pixel 8i, its cell spans 8i +- 4, clipped to the image.
    assert rows[0] == -0.5 and rows[1] == 4.0 and rows[-2] == 468.0 and rows[-1] == 472.5
    dots = artists.centres
    assert len(dots.get_xdata()) == 60 * 60
    assert sorted(set(dots.get_xdata()))[:3] == [0, 8, 16]
    assert ax.images[0].get_extent() == [-0.5, 472.5, 472.5, -0.5]
    assert "60×60 features, stride 8" in ax.get_title()


def test_feature_grid_of_the_undilated_network():
    ax = plot_feature_grid(np.zeros((10, 10)), stride_table("resnet101", 473, OS32))
    assert len(ax.lines[0].get_xdata()) == 15 * 15
    assert "15×15 features, stride 32" in ax.get_title()


def test_feature_grid_update_equals_a_fresh_draw():
    image = torch.rand(3, 20, 20)
    _, (ax_a, ax_b) = plt.subplots(1, 2)
    moved = draw_feature_grid(ax_a, image, stride_table("resnet50", 473, OS8))
    update_feature_grid(moved, stride_table("resnet50", 713, OS32))
    fresh = draw_feature_grid(ax_b, image, stride_table("resnet50", 713, OS32))
    np.testing.assert_array_equal(np.asarray(moved.grid.get_segments()), np.asarray(fresh.grid.get_segments()))
    np.testing.assert_array_equal(moved.centres.get_xdata(), fresh.centres.get_xdata())
    assert len(moved.centres.get_xdata()) == 23 * 23  # ceil(713 / 32)
    assert moved.image.get_extent() == fresh.image.get_extent() == [-0.5, 712.5, 712.5, -0.5]
    assert ax_a.get_title() == ax_b.get_title() and ax_a.get_xlim() == ax_b.get_xlim()


def test_feature_centres_rows():
    table = stride_table("resnet50", 512, OS8)
    _, ax = plt.subplots()
    artists = draw_feature_centres(ax, table)
    network, true, false = (artists.markers[key].get_xdata() for key in ("network", "true", "false"))
    i = np.arange(64)
    np.testing.assert_allclose(network, 8 * i)
    np.testing.assert_allclose(true, i * 511 / 63)  # PyTorch docs: x_out = x_in * (H - 1) / (h - 1)
    np.testing.assert_allclose(false, (i + 0.5) * 512 / 64 - 0.5)
    assert "+7.00 px" in ax.get_title() and "+3.50 px" in ax.get_title()
    x0, x1 = ax.get_xlim()
    assert x0 < 8 * 59 and x1 > 511  # the far edge is in view
    assert len(artists.links.get_segments()) == 64
    update_feature_centres(artists, stride_table("resnet50", 473, OS8))
    np.testing.assert_allclose(artists.markers["true"].get_xdata(), 8 * np.arange(60))
    assert "+0.00 px" in ax.get_title()


def test_feature_centres_coincide_at_8k_plus_1():
    _, ax = plt.subplots()
    artists = draw_feature_centres(ax, stride_table("resnet50", 473, OS8))
    x0, x1 = ax.get_xlim()
    assert 8 * 54 < x0 < 8 * 55 and x1 == 472.5 + 4  # the last 5 features, half a cell beyond
    np.testing.assert_array_equal(artists.markers["true"].get_xdata(), artists.markers["network"].get_xdata())
    borders = [segment[0][0] for segment in artists.borders.get_segments()]
    assert borders == [b + 0.5 for b in range(math.ceil(x0 - 0.5), math.floor(x1 - 0.5) + 1)]  # pixel edges


def test_upsampling_drift_lines():
    tables = [stride_table("resnet50", 473), stride_table("resnet50", 512)]
    _, ax = plt.subplots()
    artists = draw_upsampling_drift(ax, tables)
    assert len(ax.get_lines()) == 4 + 1  # two per table, plus the zero line
    line = artists.lines[1][True]
    np.testing.assert_allclose(line.get_ydata(), upsampling_drift(tables[1], align_corners=True).numpy())
    assert line.get_ydata()[-1] == pytest.approx(7.0)  # moved 7 px right
    assert np.all(artists.lines[0][True].get_ydata() == 0)
    assert "input px" in ax.get_ylabel()
    assert len(plot_upsampling_drift(tables[0]).get_lines()) == 2 + 1


def test_upsampling_drift_update():
    _, ax = plt.subplots()
    artists = draw_upsampling_drift(ax, stride_table("resnet50", 473))
    update_upsampling_drift(artists, stride_table("resnet50", 512))
    assert len(artists.lines[0][False].get_ydata()) == 512 and ax.get_xlim() == (-0.5, 511.5)
    np.testing.assert_allclose(artists.lines[0][False].get_ydata(),
                               upsampling_drift(stride_table("resnet50", 512), align_corners=False).numpy())
    assert "H = 512" in ax.get_title()
    with pytest.raises(ValueError, match="tables"):
        update_upsampling_drift(artists, [stride_table("resnet50", 512)] * 2)


def test_stage_sizes_update_equals_a_fresh_draw():
    _, (ax_a, ax_b) = plt.subplots(1, 2)
    moved = draw_stage_sizes(ax_a, [stride_table("resnet18", 97, OS32), stride_table("resnet18", 97, OS8)])
    update_stage_sizes(moved, [stride_table("resnet18", 713, OS32), stride_table("resnet18", 713, OS8)])
    fresh = draw_stage_sizes(ax_b, [stride_table("resnet18", 713, OS32), stride_table("resnet18", 713, OS8)])
    for a, b in zip(moved.bars + moved.values, fresh.bars + fresh.values):
        assert [x.get_height() if hasattr(x, "get_height") else x.get_text() for x in a] == \
            [x.get_height() if hasattr(x, "get_height") else x.get_text() for x in b]
    assert [r.get_height() for r in moved.bars[1]] == [357, 179, 179, 90, 90, 90]  # ceil(713 / 2^k), OS 8
    assert ax_a.get_title() == ax_b.get_title() and ax_a.get_ylim() == ax_b.get_ylim()


def _cost(output_stride: int, side: int, flops: float, mib: float) -> StrideCost:
    return StrideCost("resnet50", (473, 473), output_stride, (side, side), int(flops * 1e9),
                      int(mib * 2**20), 2048 * side * side * 4)


def test_stride_cost_bars_and_ratios():
    costs = CostTable((_cost(32, 15, 10.0, 100.0), _cost(8, 60, 40.0, 250.0)))
    ax = plot_stride_cost(costs)
    assert [r.get_height() for r in ax.containers[0]] == pytest.approx([10.0, 40.0])
    assert [t.get_text() for t in ax.texts] == ["10 (×1.0)", "40 (×4.0)"]
    ax = plot_stride_cost(costs, metric="activations")
    assert [r.get_height() for r in ax.containers[0]] == pytest.approx([100.0, 250.0])
    assert "MiB" in ax.get_ylabel()
    with pytest.raises(ValueError, match="metric"):
        plot_stride_cost(costs, metric="latency")
    with pytest.raises(TypeError, match="CostTable"):
        plot_stride_cost([1, 2])
