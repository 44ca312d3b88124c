"""The synthetic segmentation dataset (visual.data.SyntheticShapes)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from visual import SyntheticShapes
from visual.data import _shape_mask


def test_is_a_dataset_with_the_promised_shapes_and_ranges():
    data = SyntheticShapes(length=12, size=(49, 65), num_classes=5, seed=3)
    assert isinstance(data, Dataset) and len(data) == 12
    image, target = data[5]
    assert image.shape == (3, 49, 65) and image.dtype == torch.float32
    assert target.shape == (49, 65) and target.dtype == torch.int64
    assert 0.0 <= image.min() and image.max() <= 1.0
    assert 0 <= target.min() and target.max() < 5
    assert data.class_names == ("background", "disc", "triangle", "square", "ring")


def test_same_index_same_image_whatever_the_order_and_instance():
    a, b = SyntheticShapes(20, 65, seed=7), SyntheticShapes(20, 65, seed=7)
    first = [a[i] for i in (3, 11, 3)]
    second = [b[i] for i in (11, 3)]
    torch.testing.assert_close(first[0][0], first[2][0], rtol=0, atol=0)
    torch.testing.assert_close(first[0][0], second[1][0], rtol=0, atol=0)
    torch.testing.assert_close(first[1][1], second[0][1], rtol=0, atol=0)
    torch.testing.assert_close(a[-1][0], a[19][0], rtol=0, atol=0)


def test_different_seeds_and_indices_give_different_images():
    a, b = SyntheticShapes(10, 65, seed=0), SyntheticShapes(10, 65, seed=1)
    images = [a[i][0] for i in range(10)] + [b[i][0] for i in range(10)]
    for i in range(len(images)):
        for j in range(i + 1, len(images)):
            assert not torch.equal(images[i], images[j])


def test_every_class_appears_and_no_class_is_rare():
    data = SyntheticShapes(60, 65, num_classes=5, seed=0)
    counts = torch.zeros(5)
    objects_per_image = []
    for i in range(len(data)):
        target = data[i][1]
        counts += torch.bincount(target.flatten(), minlength=5)
        objects_per_image.append(len(target.unique()) - 1)
    fractions = counts / counts.sum()
    assert fractions[0] > 0.5  # background dominates, as in real scenes
    assert (fractions[1:] > 0.03).all(), fractions  # equal-area shapes: every class gets pixels
    assert max(objects_per_image) >= 2  # several objects per image (max_objects=3 by default)


def test_shapes_are_coloured_by_class_family():
    # CLASS_HUES: disc ~ red (hue 0), triangle ~ green (1/3), square ~ blue (0.62)
    data = SyntheticShapes(40, 65, num_classes=4, hue_jitter=0.0, seed=2)
    sums = torch.zeros(4, 3)
    for i in range(len(data)):
        image, target = data[i]
        for label in range(1, 4):
            sums[label] += image[:, target == label].sum(dim=1)
    red, green, blue = sums[1], sums[2], sums[3]
    assert red[0] > red[1] and red[0] > red[2]
    assert green[1] > green[0] and green[1] > green[2]
    assert blue[2] > blue[0] and blue[2] > blue[1]


@pytest.mark.parametrize("name", ["disc", "triangle", "square", "ring"])
def test_every_shape_covers_the_area_of_its_disc(name):
    radius, half = 40.0, 100
    ys = np.arange(-half, half + 1, dtype=float)[:, None]
    xs = np.arange(-half, half + 1, dtype=float)[None, :]
    mask = _shape_mask(name, ys, xs, radius, angle=0.3)
    assert math.isclose(mask.sum(), math.pi * radius**2, rel_tol=0.02)
    assert mask[half, half] == (name != "ring")  # a ring has a hole at its centre


def test_works_with_a_dataloader():
    loader = DataLoader(SyntheticShapes(6, 33, seed=0), batch_size=3)
    images, targets = next(iter(loader))
    assert images.shape == (3, 3, 33, 33) and targets.shape == (3, 33, 33)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"num_classes": 1}, ValueError, "num_classes"),
    ({"num_classes": 6}, ValueError, "num_classes"),
    ({"size": 8}, ValueError, "size"),
    ({"size": (65, 65, 3)}, ValueError, "size"),
    ({"size": 65.0}, TypeError, "size"),
    ({"length": -1}, ValueError, "length"),
    ({"max_objects": 0}, ValueError, "max_objects"),
    ({"hue_jitter": 0.7}, ValueError, "hue_jitter"),
    ({"seed": -2}, ValueError, "seed"),
    ({"seed": 1.5}, TypeError, "seed"),
])
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        SyntheticShapes(**kwargs)


def test_bad_index():
    data = SyntheticShapes(4, 33)
    with pytest.raises(IndexError):
        data[4]
    with pytest.raises(TypeError, match="index"):
        data[1.0]
