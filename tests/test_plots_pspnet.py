"""Plot helpers of the PSPNet lesson (visual.plots.pspnet)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from matplotlib.colors import rgb_to_hsv

from visual import load_sample_image
from visual.models.pspnet import PartCost
from visual.train import History
from visual.plots.pspnet import (
    bin_window_boxes,
    label_colormap,
    plot_label_map,
    plot_part_costs,
    plot_pyramid_bins,
    plot_pyramid_features,
    plot_segmentation_panels,
    plot_training_history,
    window_coverage,
)


def test_label_colours_differ_in_lightness():
    colours = label_colormap(5).colors[:, :3]
    grey = colours @ np.array([0.299, 0.587, 0.114])  # luma: what a greyscale print keeps
    assert np.all(np.diff(grey) > 0.05)


def test_training_history_plot_draws_the_data():
    history = History(step=[1, 2, 3, 4], loss=[1.2, 0.9, 0.7, 0.5], lr=[0.1] * 4, eval_step=[2, 4],
                      miou=[0.3, 0.75], pixel_accuracy=[0.8, 0.9], train_seconds=[1.0, 2.0])
    ax = plot_training_history(history, target_miou=0.7)
    assert ax.lines[0].get_ydata().tolist() == [1.2, 0.9, 0.7, 0.5]
    right = ax.right_ax
    assert right.lines[0].get_xdata().tolist() == [2, 4] and right.lines[0].get_ydata().tolist() == [0.3, 0.75]
    assert list(right.lines[1].get_ydata()) == [0.7, 0.7]
    assert ax.get_xlabel() and ax.get_ylabel() and right.get_ylabel() and ax.get_legend() is not None


def test_label_map_and_panels():
    labels = torch.tensor([[0, 1], [2, 3]])
    ax = plot_label_map(labels, num_classes=4, title="t")
    image = ax.images[-1]
    assert image.get_array().tolist() == labels.tolist()
    assert image.get_clim() == (-0.5, 3.5)  # class k sits in the middle of colour bin k
    images = torch.rand(2, 3, 5, 5)
    targets = torch.randint(0, 3, (2, 5, 5))
    axes = plot_segmentation_panels(images, targets, targets.flip(0), class_names=["a", "b", "c"])
    assert axes.shape == (2, 3)
    np.testing.assert_array_equal(axes[1, 2].images[0].get_array(), targets[0].numpy())
    np.testing.assert_allclose(axes[0, 0].images[0].get_array(), images[0].permute(1, 2, 0).numpy())
    assert [t.get_text() for t in axes[0, 0].figure.legends[0].get_texts()] == ["0: a", "1: b", "2: c"]
    with pytest.raises(ValueError, match="same length"):
        plot_segmentation_panels(images, targets[:1], targets, class_names=["a", "b", "c"])


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


def test_label_colours_are_distinct_hues_too():
    hues = rgb_to_hsv(label_colormap(4).colors[:, :3])[:, 0]
    assert len(np.unique(np.round(hues, 2))) == 4


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
