"""Segmentation-result plots (visual.plots.segmentation): class colours, label maps, panels, curves."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.colors import rgb_to_hsv

from visual.plots.segmentation import (
    image_hwc,
    label_colormap,
    plot_label_map,
    plot_segmentation_panels,
    plot_training_history,
)
from visual.train import History


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


def test_label_colours_are_distinct_hues_too():
    hues = rgb_to_hsv(label_colormap(4).colors[:, :3])[:, 0]
    assert len(np.unique(np.round(hues, 2))) == 4


def test_image_hwc_accepts_both_layouts_and_clips():
    chw = torch.rand(3, 4, 5)
    hwc = chw.permute(1, 2, 0).numpy()
    np.testing.assert_array_equal(image_hwc(chw), hwc)
    np.testing.assert_array_equal(image_hwc(hwc * 2), np.clip(hwc * 2, 0.0, 1.0))
