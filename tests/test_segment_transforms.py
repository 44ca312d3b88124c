"""visual.segment.transforms: the official augmentation with torchvision.transforms.v2."""

import pytest
import copy

import torch
from torchvision import tv_tensors

from visual.segment.config import DEFAULTS
from visual.segment.transforms import MEAN, STD, RandScale, train_transform

pytestmark = pytest.mark.timeout(120)  # every test here is small; the slow ones set their own


def _sample(height=15, width=17):
    image = tv_tensors.Image(torch.randint(0, 256, (3, height, width), dtype=torch.uint8))
    mask = tv_tensors.Mask(torch.randint(0, 3, (height, width)))
    return image, mask


def _train(**changes):
    train = copy.deepcopy(DEFAULTS["TRAIN"])
    train.update(changes)
    return train


def test_output_is_the_crop_with_labels_from_the_input_or_ignore():
    torch.manual_seed(0)
    transform = train_transform(_train(train_h=20, train_w=24))
    for _ in range(10):
        image, mask = transform(*_sample())
        assert image.shape == (3, 20, 24) and image.dtype == torch.float32
        assert mask.shape == (20, 24) and mask.dtype == torch.int64
        assert set(mask.unique().tolist()) <= {0, 1, 2, 255}  # nearest resampling, padding 255


def test_padding_is_the_mean_colour_and_ignore_label():
    image = tv_tensors.Image(torch.zeros(3, 4, 4, dtype=torch.uint8))
    mask = tv_tensors.Mask(torch.zeros(4, 4, dtype=torch.int64))
    out, label = train_transform(_train(train_h=12, train_w=12, augment=False))(image, mask)
    padded = label == 255
    assert padded.sum() == 12 * 12 - 16  # everything but the 4x4 image
    expected = torch.tensor([(round(255 * m) / 255 - m) / s for m, s in zip(MEAN, STD)])  # mean colour normalised
    torch.testing.assert_close(out[:, padded], expected[:, None].expand(3, int(padded.sum())), atol=1e-3, rtol=0)


def test_no_augmentation_keeps_an_exact_crop_normalised():
    image, mask = _sample(9, 9)
    out, label = train_transform(_train(train_h=9, train_w=9, augment=False))(image, mask)
    assert torch.equal(label, mask.as_subclass(torch.Tensor))
    expected = (image.float() / 255 - torch.tensor(MEAN)[:, None, None]) / torch.tensor(STD)[:, None, None]
    torch.testing.assert_close(out, expected)


def test_rand_scale_scales_both_sides_by_one_factor():
    torch.manual_seed(1)
    image, mask = _sample(20, 30)
    for _ in range(5):
        out, label = RandScale(0.5, 2.0)(image, mask)
        height, width = out.shape[-2:]
        assert label.shape == (height, width) and 10 <= height <= 40
        assert abs(width / 30 - height / 20) < 0.06  # same factor (rounding only)
        assert set(label.unique().tolist()) <= {0, 1, 2}
