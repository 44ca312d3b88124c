"""Sample photo loading (offline, from matplotlib's sample data)."""

import pytest
import torch

from visual import load_sample_image


def test_original_photo_shape_and_range():
    image = load_sample_image()
    assert image.shape == (3, 600, 512)
    assert image.dtype == torch.float32
    assert 0.0 <= image.min() < 0.1 and 0.9 < image.max() <= 1.0


@pytest.mark.parametrize("size, expected", [(473, (473, 473)), ((97, 131), (97, 131)), (1, (1, 1))])
def test_resized_photo(size, expected):
    image = load_sample_image(size)
    assert image.shape == (3, *expected)
    assert 0.0 <= image.min() and image.max() <= 1.0


def test_resize_preserves_mean_colour():
    full = load_sample_image()
    small = load_sample_image((60, 51))
    torch.testing.assert_close(small.mean(dim=(1, 2)), full.mean(dim=(1, 2)), atol=0.02, rtol=0)


@pytest.mark.parametrize("size, error", [(0, ValueError), ((10, -1), ValueError), ("big", TypeError),
                                         ((1, 2, 3), ValueError), (2.5, TypeError), (True, TypeError)])
def test_bad_size(size, error):
    with pytest.raises(error, match="size"):
        load_sample_image(size)
