"""Slider explorers of the PSPNet lesson (visual.widgets.pspnet): pure functions and updates."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from visual import SyntheticShapes, sweep
from visual.cost import PartCost
from visual.train import combined_gradient_norms
from visual.widgets.pspnet import (
    bins_summary,
    explore_aux_weight,
    explore_part_costs,
    explore_predictions,
    explore_pspnet_sizes,
    explore_pyramid_bins,
    size_summary,
)


def test_size_summary_hand_maths():
    s = size_summary(512)
    # 512 -> conv1 256 -> maxpool 128 -> layer2 64 (ceil(512 / 8)), 64 is not a multiple of 3 or 6
    assert s["sizes"]["backbone.conv1"] == 256 and s["sizes"]["backbone.maxpool"] == 128
    assert s["feature"] == 64 and not s["is_8k_plus_1"]
    assert s["tiling"] == {1: True, 2: True, 3: False, 6: False}
    assert s["bin_sizes"][6] == [11, 12]  # windows of 11 and 12 cells
    assert size_summary(713)["feature"] == 90 and size_summary(713)["is_8k_plus_1"]


def test_bins_summary_hand_maths():
    s = bins_summary(9, 6)
    assert s["windows"] == [(0, 2), (1, 3), (3, 5), (4, 6), (6, 8), (7, 9)]
    assert s["overlap_cells"] == 3 and not s["tiles"] and s["input_size"] == 65
    assert bins_summary(60, 6)["overlap_cells"] == 0 and bins_summary(60, 6)["input_size"] == 473


def test_sizes_explorer_updates_bars():
    explorer = explore_pspnet_sizes(473)
    ax = explorer.fig.axes[0]
    assert ax.patches[6].get_width() == 60  # layer4
    explorer.controls["input_size"].value = 512
    assert ax.patches[6].get_width() == 64 and "not 8k+1" in ax.get_title()
    assert explorer.state["feature"] == 64
    assert sweep(explorer) > 0


def test_bins_explorer_moves_windows_and_overlay():
    explorer = explore_pyramid_bins(torch.rand(3, 65, 65), bin_size=6, feature_size=60)
    ax = explorer.fig.axes[0]
    assert len(ax.collections[-1].get_paths()) == 36
    assert not ax.images[1].get_array()[..., 3].any()
    explorer.controls["feature_size"].value = 9
    assert ax.images[1].get_array().shape == (9, 9, 4) and ax.images[1].get_array()[..., 3].any()
    assert explorer.state["overlap_cells"] == 3 and ax.get_xlim() == (-0.5, 64.5)
    explorer.controls["bin_size"].value = 2
    assert len(ax.collections[-1].get_paths()) == 4
    assert sweep(explorer) > 0


def test_part_costs_explorer_switches_backbones():
    costs = {"a": [PartCost("backbone", 50, 10), PartCost("head", 50, 30), PartCost("total", 100, 40)],
             "b": [PartCost("backbone", 90, 20), PartCost("head", 10, 20), PartCost("total", 100, 40)]}
    explorer = explore_part_costs(costs)
    params = explorer.fig.axes[0].containers[0]
    assert [bar.get_width() for bar in params] == [50.0, 50.0]
    explorer.controls["backbone"].value = "b"
    assert [bar.get_width() for bar in params] == [90.0, 10.0]
    assert explorer.state["flops"] == {"backbone": 50.0, "head": 50.0}
    assert sweep(explorer) > 0
    with pytest.raises(ValueError):
        explore_part_costs({})


def test_aux_weight_explorer_scales_the_aux_gradient():
    gradients = {"main": {"backbone.layer3": torch.tensor([3.0, 0.0]), "head": torch.tensor([2.0])},
                 "aux": {"backbone.layer3": torch.tensor([0.0, 10.0]), "head": torch.tensor([0.0])}}
    explorer = explore_aux_weight(gradients, aux_weight=0.4)
    assert math.isclose(explorer.state["aux_norms"]["backbone.layer3"], 4.0)
    assert math.isclose(explorer.state["norms"]["backbone.layer3"], 5.0)  # sqrt(3^2 + 4^2)
    assert math.isclose(explorer.state["ratio"]["backbone.layer3"], 4.0 / 3.0)
    explorer.controls["aux_weight"].value = 1.0
    bars = explorer.fig.axes[0].containers[1]
    assert math.isclose(bars[0].get_width(), 10.0)
    assert explorer.state["ratio"]["head"] == 0.0
    assert sweep(explorer) > 0


def test_aux_weight_explorer_norms_match_combined_gradient_norms():
    """The slider's scalar formula must equal the norm of the summed tensors (correlated gradients)."""
    generator = torch.Generator().manual_seed(0)
    main = {"backbone.layer3": torch.randn(500, generator=generator), "head": torch.randn(40, generator=generator)}
    aux = {"backbone.layer3": -0.7 * main["backbone.layer3"] + torch.randn(500, generator=generator),
           "head": torch.zeros(40)}
    gradients = {"main": main, "aux": aux}
    explorer = explore_aux_weight(gradients, aux_weight=0.0)
    for alpha in (0.0, 0.35, 0.4, 1.0):
        explorer.controls["aux_weight"].value = alpha
        expected = combined_gradient_norms(gradients, alpha)
        torch.testing.assert_close(explorer.state["norms"], expected, rtol=1e-6, atol=1e-9)


class ColourSegmenter(nn.Module):
    """Predicts class k where channel k is the largest: a deterministic stand-in for a trained net."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(1.0))

    def forward(self, x):
        return {"out": torch.cat([x, torch.zeros_like(x[:, :1])], 1) * self.scale}


def test_predictions_explorer_shows_cached_predictions():
    data = SyntheticShapes(4, 33, num_classes=4, seed=0)
    explorer = explore_predictions(ColourSegmenter(), data, count=3)
    axes = explorer.fig.axes
    explorer.controls["index"].value = 2
    image, target = data[2]
    np.testing.assert_array_equal(axes[1].images[0].get_array(), target.numpy())
    expected = torch.cat([image, torch.zeros(1, 33, 33)]).argmax(0)
    np.testing.assert_array_equal(axes[2].images[0].get_array(), expected.numpy())
    hits = (expected == target).float().mean().item()
    assert math.isclose(explorer.state["pixel_accuracy"], hits, rel_tol=1e-6)
    assert explorer.controls["index"].max == 2
    assert sweep(explorer) > 0
