"""Plot helpers of the PSPNet lesson (visual.plots.pspnet): geometry, windows, costs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from visual import load_sample_image
from visual.cost import PartCost
from visual.plots.pspnet import (
    bin_window_boxes,
    plot_part_costs,
    plot_pyramid_bins,
    plot_pyramid_features,
    window_coverage,
)


def test_window_boxes_tile_the_feature_map_when_the_bin_divides_it():
    boxes = bin_window_boxes(60, 6, output_stride=8)
    assert len(boxes) == 36
    assert boxes[0] == (-4.0, -4.0, 80.0, 80.0)  # 10 cells of 8 px, centred on pixels 0, 8, ...
    assert sum(w * h for _, _, w, h in boxes) == (60 * 8) ** 2  # no overlap, no gap
    assert (window_coverage(60, 6) == 1).all()


def test_window_coverage_counts_overlaps_like_adaptive_pooling():
    for n, b in [(9, 6), (64, 6), (13, 3), (5, 2)]:
        coverage = window_coverage(n, b)
        # ground truth from PyTorch: pool a one-hot map per cell and count the windows that see it
        one_hot = torch.eye(n * n).reshape(n * n, 1, n, n)  # (n*n, 1, n, n)
        seen = (F.adaptive_avg_pool2d(one_hot, b) > 0).sum(dim=(1, 2, 3)).reshape(n, n)
        assert coverage.tolist() == seen.tolist(), (n, b)


def test_pyramid_bins_plot_draws_windows_and_overlaps():
    ax = plot_pyramid_bins(load_sample_image(65), 6)  # 65 px -> 9x9 cells; 9 / 6: overlaps
    overlay = ax.images[1].get_array()
    assert overlay.shape == (9, 9, 4)
    np.testing.assert_array_equal(overlay[..., 3] > 0, window_coverage(9, 6) > 1)
    assert len(ax.collections[-1].get_paths()) == 36
    assert "9x9" in ax.get_title() and ax.get_xlabel() == "x (input pixels)"
    assert ax.images[1].get_zorder() > ax.collections[-1].get_zorder()  # shared cells stay visible over outlines
    tiled = plot_pyramid_bins(load_sample_image(473), 6)
    assert not tiled.images[1].get_array()[..., 3].any()  # 60 / 6 tiles: nothing shaded


def test_pyramid_features_plot():
    features = [torch.rand(4, b, b) for b in (1, 2, 3, 6)]
    axes = plot_pyramid_features(features, torch.rand(3, 65, 65), bins=(1, 2, 3, 6), feature_size=(9, 9))
    assert axes.shape == (2, 4)
    np.testing.assert_allclose(axes[0, 2].images[0].get_array(), features[2].norm(dim=0).numpy(), rtol=1e-6)
    up = axes[1, 3].images[1].get_array()
    assert up.shape == (9, 9)
    expected = F.interpolate(features[3].norm(dim=0)[None, None], size=(9, 9), mode="bilinear", align_corners=True)
    np.testing.assert_allclose(up, expected[0, 0].numpy(), rtol=1e-6)


def test_part_costs_plot_shows_shares():
    rows = [PartCost("backbone", 60, 300), PartCost("head", 40, 100), PartCost("total", 100, 400)]
    ax = plot_part_costs(rows)
    params, flops = ax.containers
    assert [bar.get_width() for bar in params] == [60.0, 40.0]
    assert [bar.get_width() for bar in flops] == [75.0, 25.0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["backbone", "head"]


def test_architecture_diagram_labels_come_from_the_trace():
    from visual import PSPNet, trace
    from visual.plots.pspnet import plot_pspnet_architecture

    with torch.device("meta"):
        model = PSPNet(5, backbone="resnet18", bins=(1, 3))
    ax = plot_pspnet_architecture(trace(model, 97))
    texts = [t.get_text() for t in ax.texts]
    # 97 -> conv1 49 -> maxpool 25 -> layer2.. 13 (ceil(97 / 8)); bins 1 and 3; concat 512 + 2 x 256
    for expected in ["97x97\nx3", "49x49\nx64", "13x13\nx512", "1x1\nx256", "3x3\nx256", "13x13\nx1024",
                     "13x13\nx5", "97x97\nx5"]:
        assert expected in texts, expected
    assert sum(t in ("bin 1", "bin 3") for t in texts) == 2
    assert len(ax.patches) == 1 + 6 + 2 + 1 + 1 + 1 + 1  # input, 6 stages, 2 bins, concat, head, aux, output
    from matplotlib.text import Annotation

    arrows = [t for t in ax.texts if isinstance(t, Annotation)]
    # input -> conv1 ... -> layer4 (6), layer4 -> bins -> concat (2 x 2), ONE identity arrow into concat,
    # concat -> head, head -> output, layer3 -> aux head; no second layer4 -> concat/head arrow
    assert len(arrows) == 6 + 4 + 1 + 1 + 1 + 1
    assert sum("identity" in t for t in texts) == 1
    assert min(t.get_fontsize() for t in ax.texts if t.get_text()) >= 11  # readable on a projector


def test_pyramid_bins_update_moves_the_artists_it_was_given():
    import matplotlib.pyplot as plt

    from visual.plots.pspnet import draw_pyramid_bins, update_pyramid_bins

    _, ax = plt.subplots()
    artists = draw_pyramid_bins(ax, torch.rand(3, 65, 65))
    update_pyramid_bins(artists, 6, 9)  # 9 cells, 6 bins: windows overlap (hand maths: 3 shared cells)
    assert len(artists.outline.get_paths()) == 36
    np.testing.assert_array_equal(artists.overlay.get_array()[..., 3] > 0, window_coverage(9, 6) > 1)
    assert "3 cells per axis in 2 windows" in ax.get_title()
    update_pyramid_bins(artists, 2, 60, side=(473, 473))
    assert len(artists.outline.get_paths()) == 4 and not artists.overlay.get_array()[..., 3].any()
    assert artists.photo.get_extent() == [-0.5, 472.5, 472.5, -0.5] and "tile" in ax.get_title()


def test_stage_size_and_gradient_bars_update():
    import matplotlib.pyplot as plt

    from visual.plots.pspnet import draw_gradient_norms, draw_size_bars, update_gradient_norms, update_size_bars

    _, ax = plt.subplots()
    sizes = draw_size_bars(ax, ["input", "backbone.layer4"], 713)
    update_size_bars(sizes, [473, 60], "t")
    assert [bar.get_width() for bar in sizes.bars] == [473, 60] and sizes.labels[1].get_text() == "60x60"
    _, ax = plt.subplots()
    norms = draw_gradient_norms(ax, {"layer3": 3.0, "head": 2.0}, {"layer3": 10.0, "head": 0.0})
    update_gradient_norms(norms, 0.4, {"layer3": 4.0, "head": 0.0}, {"layer3": 4.0 / 3.0, "head": 0.0})
    assert norms.bars[0].get_width() == 4.0 and norms.bars[1].get_width() == norms.floor == 0.2
    assert "layer3 1.33" in ax.get_title()
