"""Explorers of the interpolation lesson: callbacks move artists and compute PyTorch's numbers."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from visual import sweep
from visual.widgets.interpolation import (
    explore_align_corners,
    explore_bilinear_point,
    explore_feature_alignment,
    explore_interpolation_matrix,
    explore_linear_interpolation,
    explore_resampling,
    explore_segmentation_upsampling,
)


def test_linear_explorer_follows_the_slider():
    explorer = explore_linear_interpolation([10.0, 20.0, 15.0, 5.0], size=7)
    outputs = next(line for line in explorer.fig.axes[0].get_lines() if line.get_label() == "output samples")
    before = list(outputs.get_ydata())
    explorer.controls["size"].value = 9
    explorer.controls["align_corners"].value = True
    reference = F.interpolate(torch.tensor([[[10.0, 20.0, 15.0, 5.0]]], dtype=torch.float64), size=9,
                              mode="linear", align_corners=True)[0, 0]
    assert list(outputs.get_ydata()) == pytest.approx(reference.tolist(), abs=1e-12)
    assert list(outputs.get_ydata()) != before
    assert explorer.state["max_error"] <= 1e-12
    assert "4 \u2192 9" in explorer.fig.axes[0].get_title()


def test_align_corners_explorer_moves_the_output_grid():
    explorer = explore_align_corners(in_size=4, scale_factor=2.0)
    assert explorer.state["out_size"] == 8
    assert explorer.state["out_centres"][0].item() == pytest.approx(-0.25)  # half-pixel centres
    explorer.controls["align_corners"].value = True
    assert explorer.state["out_centres"][0].item() == 0.0  # corner centres coincide
    explorer.controls["scale_factor"].value = 0.75
    assert explorer.state["out_size"] == 3
    assert explorer.state["out_centres"].tolist() == [0.0, 1.5, 3.0]


def test_bilinear_point_explorer_reproduces_the_bilinear_image():
    explorer = explore_bilinear_point()  # image value (r + 1) * (c + 1) is bilinear itself
    explorer.controls["x"].value = 2.35
    explorer.controls["y"].value = 0.8
    assert explorer.state["value"] == pytest.approx((2.35 + 1) * (0.8 + 1))
    star = next(line for line in explorer.fig.axes[0].get_lines() if line.get_label() == "P")
    assert list(star.get_xdata()) == [2.35] and list(star.get_ydata()) == [0.8]
    assert sum(n.weight for n in explorer.state["neighbours"]) == pytest.approx(1.0)


def test_resampling_explorer_shows_pytorchs_result():
    photo = torch.rand(3, 64, 64, generator=torch.Generator().manual_seed(0))
    explorer = explore_resampling(photo, size=16, method="nearest")
    explorer.controls["method"].value = "area"
    explorer.controls["size"].value = 32
    torch.testing.assert_close(explorer.state["image"], F.adaptive_avg_pool2d(photo[None], 32)[0])
    assert explorer.fig.axes[1].get_images()[0].get_array().shape == (32, 32, 3)


def test_matrix_explorer_matrix_interpolates_like_pytorch():
    explorer = explore_interpolation_matrix(out_size=8, in_size=4)
    explorer.controls["out_size"].value = 11
    explorer.controls["in_size"].value = 5
    explorer.controls["align_corners"].value = True
    matrix = explorer.state["matrix"]
    x = torch.randn(5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    reference = F.interpolate(x[None, None], size=11, mode="linear", align_corners=True)[0, 0]
    assert (matrix @ x - reference).abs().max() <= 1e-12
    assert explorer.fig.axes[0].get_images()[0].get_array().shape == (11, 5)


def test_segmentation_explorer_counts_invented_classes():
    explorer = explore_segmentation_upsampling(factor=4, method="labels bilinear")
    assert explorer.state["invented"] and all(0 < c < 15 for c in explorer.state["invented"])
    explorer.controls["method"].value = "logits bilinear"
    assert explorer.state["invented"] == []
    explorer.controls["factor"].value = 3
    assert explorer.state["labels"].shape == (24, 24)


def test_feature_alignment_explorer():
    explorer = explore_feature_alignment(in_size=473, output_stride=8, align_corners=True)
    assert explorer.state["feature_size"] == 60 and explorer.state["max_drift"] == 0.0
    explorer.controls["in_size"].value = 512
    # 64 features spread over 511 px: the last lands at 63 * 511 / 63 = 511 instead of 8 * 63 = 504
    assert explorer.state["feature_size"] == 64 and explorer.state["max_drift"] == pytest.approx(7.0)
    explorer.controls["in_size"].value = 481  # 8 * 60 + 1: aligned again
    assert explorer.state["max_drift"] == 0.0
    explorer.controls["align_corners"].value = False  # feature 0 lands at 0.5 * H / h - 0.5
    assert explorer.state["max_drift"] == pytest.approx((481 - 61) / (2 * 61))


@pytest.mark.parametrize(
    "build",
    [
        lambda: explore_linear_interpolation(),
        lambda: explore_align_corners(),
        lambda: explore_bilinear_point(),
        lambda: explore_resampling(torch.rand(3, 40, 40)),
        lambda: explore_interpolation_matrix(),
        lambda: explore_segmentation_upsampling(),
        lambda: explore_feature_alignment(),
    ],
)
def test_sweep_runs_every_callback(build):
    explorer = build()
    assert sweep(explorer, steps=3) > 0
    explorer.fig.canvas.draw()  # the moved artists still render
