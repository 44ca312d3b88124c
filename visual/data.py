"""Data for the lessons: the real sample photo shipped with matplotlib.

Nothing here downloads anything: the photo is read from matplotlib's installed sample data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - typing only
    import torch

__all__ = ["load_sample_image"]

SAMPLE_IMAGE_NAME = "grace_hopper.jpg"  # ships in matplotlib's mpl-data/sample_data


def load_sample_image(size: int | tuple[int, int] | None = None) -> "torch.Tensor":
    """Load matplotlib's sample photo of Grace Hopper as a float tensor.

    Args:
        size: ``None`` for the original resolution (600 x 512), an ``int`` for a square
            ``size x size`` image, or ``(H, W)``. Resizing uses antialiased bilinear
            resampling so that downsized photos do not alias.

    Returns:
        Tensor of shape ``(3, H, W)``, dtype float32, values in ``[0, 1]``.

    Raises:
        TypeError: if ``size`` is not ``None``, an int or a pair of ints.
        ValueError: if a requested side is smaller than 1.

    Example:
        >>> load_sample_image(473).shape
        torch.Size([3, 473, 473])
    """
    import matplotlib.cbook
    import matplotlib.image
    import torch
    import torch.nn.functional as F

    if size is not None:
        if isinstance(size, bool) or not isinstance(size, (int, tuple, list)):
            raise TypeError(f"size must be None, an int or a pair (H, W) of ints, got {size!r}")
        hw = (size, size) if isinstance(size, int) else tuple(size)
        if len(hw) != 2 or not all(isinstance(s, int) and not isinstance(s, bool) for s in hw):
            raise TypeError(f"size must be None, an int or a pair (H, W) of ints, got {size!r}")
        if min(hw) < 1:
            raise ValueError(f"size must be at least 1 pixel per side, got {size!r}")

    with matplotlib.cbook.get_sample_data(SAMPLE_IMAGE_NAME) as f:
        pixels = matplotlib.image.imread(f, format="jpg")  # (H, W, 3) uint8
    image = torch.from_numpy(pixels.copy()).permute(2, 0, 1).float() / 255.0  # (3, H, W)
    if size is not None:
        image = F.interpolate(
            image[None], size=hw, mode="bilinear", align_corners=False, antialias=True
        )[0].clamp(0.0, 1.0)  # (3, H', W')
    return image
