"""Data for the lessons, nothing downloaded: matplotlib's sample photo and synthetic segmentation data."""

from __future__ import annotations

import math

import matplotlib.cbook
import matplotlib.image
import numpy as np
from matplotlib.colors import hsv_to_rgb
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from visual.checks import as_size, check_float, check_int

__all__ = ["load_sample_image", "SyntheticShapes"]

SAMPLE_IMAGE_NAME = "grace_hopper.jpg"  # ships in matplotlib's mpl-data/sample_data


def load_sample_image(size: int | tuple[int, int] | None = None) -> torch.Tensor:
    """Matplotlib's sample photo of Grace Hopper, ``(3, H, W)`` float32 in ``[0, 1]``.

    ``size``: ``None`` (600 x 512), a side or ``(H, W)``, 1 to ``MAX_SIDE`` (antialiased resizing).

    Example:
        >>> load_sample_image(473).shape
        torch.Size([3, 473, 473])
    """
    hw = None if size is None else as_size(size, "size")
    with matplotlib.cbook.get_sample_data(SAMPLE_IMAGE_NAME) as f:
        pixels = matplotlib.image.imread(f, format="jpg")  # (H, W, 3) uint8
    image = torch.from_numpy(pixels.copy()).permute(2, 0, 1).float() / 255.0  # (3, H, W)
    if hw is not None:
        image = F.interpolate(
            image[None], size=hw, mode="bilinear", align_corners=False, antialias=True
        )[0].clamp(0.0, 1.0)  # (3, H', W')
    return image


SHAPE_NAMES = ("disc", "triangle", "square", "ring")  # foreground classes 1, 2, 3, 4 in this order
CLASS_HUES = (0.0, 0.33, 0.62, 0.12)  # hue (HSV, in turns) around which each shape's colour is drawn
MIN_SYNTHETIC_SIZE = 16  # pixels per side: smaller images cannot hold a recognisable shape
MAX_SYNTHETIC_SIZE = 2048  # pixels per side: rendering holds ~10 (H, W) float64 arrays (~300 MiB at 2048)
MAX_OBJECTS = 64  # shapes per image: each one is a pass over the whole image
POLYGON_SIDES = {"triangle": 3, "square": 4}
RING_HOLE = 0.55  # inner radius of a ring, as a fraction of its outer radius
OBJECT_RADIUS = (0.14, 0.26)  # each shape covers the area of a disc of this radius (fraction of the side)
TEXTURE_GRID = 5  # the background's low-frequency texture is a TEXTURE_GRID x TEXTURE_GRID grid, upsampled


class SyntheticShapes(Dataset):
    """Deterministic synthetic segmentation data: textured shapes on a textured background.

    Image ``i`` comes from a generator seeded with ``(seed, i)``: the same on every machine, made on
    the fly; another ``seed`` gives a held-out set. 1 to ``max_objects`` shapes (disc, triangle,
    square, ring: classes 1-4) occlude each other; each class has its own hue +- ``hue_jitter``
    (at most 0.5 turns, which makes colour useless). ``num_classes`` counts the background.

    Example:
        >>> data = SyntheticShapes(length=10, size=65, num_classes=4, seed=0)
        >>> image, target = data[3]
        >>> image.shape, target.shape, target.dtype
        (torch.Size([3, 65, 65]), torch.Size([65, 65]), torch.int64)
    """

    def __init__(
        self,
        length: int = 1000,
        size: int | tuple[int, int] = 65,
        num_classes: int = 4,
        max_objects: int = 3,
        hue_jitter: float = 0.06,
        seed: int = 0,
    ) -> None:
        self.length = check_int(length, "length", minimum=0)
        self.size = as_size(size, "size", minimum=MIN_SYNTHETIC_SIZE, maximum=MAX_SYNTHETIC_SIZE)
        self.num_classes = check_int(num_classes, "num_classes", minimum=2, maximum=len(SHAPE_NAMES) + 1)
        self.max_objects = check_int(max_objects, "max_objects", minimum=1, maximum=MAX_OBJECTS)
        self.hue_jitter = check_float(hue_jitter, "hue_jitter", minimum=0.0, maximum=0.5)
        self.seed = check_int(seed, "seed", minimum=0)

    @property
    def class_names(self) -> tuple[str, ...]:
        """``("background", "disc", ...)``, one name per class index."""
        return ("background", *SHAPE_NAMES[: self.num_classes - 1])

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Image ``index``: ``(image (3, H, W) float32 in [0, 1], target (H, W) int64)``."""
        index = check_int(index, "index")
        if index < 0:
            index += self.length
        if not 0 <= index < self.length:
            raise IndexError(f"index out of range for a dataset of length {self.length}")
        return self._render(np.random.default_rng([self.seed, index]))

    def _render(self, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        height, width = self.size
        side = min(height, width)
        # Background: a smooth random tint (low saturation), linearly upsampled, plus pixel noise.
        grid = (TEXTURE_GRID, TEXTURE_GRID)
        coarse = hsv_to_rgb(np.stack([rng.uniform(0.0, 1.0, grid), rng.uniform(0.0, 0.35, grid),
                                      rng.uniform(0.25, 0.85, grid)], axis=-1))  # (g, g, 3)
        image = F.interpolate(torch.from_numpy(coarse).permute(2, 0, 1)[None], size=(height, width),
                              mode="bilinear", align_corners=True)[0].numpy()  # (3, H, W)
        image += rng.normal(0.0, 0.06, (3, height, width))  # (3, H, W)
        target = np.zeros((height, width), dtype=np.int64)  # (H, W)

        ys = np.arange(height, dtype=np.float64)[:, None]  # (H, 1)
        xs = np.arange(width, dtype=np.float64)[None, :]  # (1, W)
        for _ in range(int(rng.integers(1, self.max_objects, endpoint=True))):
            label = int(rng.integers(1, self.num_classes))
            radius = rng.uniform(*OBJECT_RADIUS) * side
            cy, cx = rng.uniform(0.1, 0.9) * (height - 1), rng.uniform(0.1, 0.9) * (width - 1)
            angle = rng.uniform(0.0, 2.0 * math.pi)
            mask = _shape_mask(SHAPE_NAMES[label - 1], ys - cy, xs - cx, radius, angle)  # (H, W)
            hue = (CLASS_HUES[label - 1] + rng.uniform(-self.hue_jitter, self.hue_jitter)) % 1.0
            colour = hsv_to_rgb([hue, rng.uniform(0.55, 0.95), rng.uniform(0.6, 1.0)])  # (3,)
            # Texture: stripes of random period and direction modulate the brightness.
            period = rng.uniform(4.0, 9.0)
            phase = (xs * math.cos(angle) + ys * math.sin(angle)) * (2.0 * math.pi / period)  # (H, W)
            fill = colour[:, None, None] * (0.85 + 0.15 * np.cos(phase))  # (3, H, W)
            fill += rng.normal(0.0, 0.04, (3, height, width))  # (3, H, W)
            image = np.where(mask, fill, image)  # (3, H, W)
            target[mask] = label
        image = torch.from_numpy(np.clip(image, 0.0, 1.0).astype(np.float32))  # (3, H, W)
        return image, torch.from_numpy(target)


def _shape_mask(name: str, dy: np.ndarray, dx: np.ndarray, radius: float, angle: float) -> np.ndarray:
    """Boolean ``(H, W)`` mask of a shape at ``dy = dx = 0`` with the area of a disc of ``radius``
    (an ``n``-gon of circumradius ``R`` has area ``(n / 2) R^2 sin(2 pi / n)``)."""
    distance_sq = dy**2 + dx**2  # (H, W)
    if name == "disc":
        return distance_sq <= radius**2
    if name == "ring":
        outer = radius / math.sqrt(1.0 - RING_HOLE**2)
        return (distance_sq <= outer**2) & (distance_sq >= (RING_HOLE * outer) ** 2)
    sides = POLYGON_SIDES[name]
    circumradius = radius * math.sqrt(math.pi / (0.5 * sides * math.sin(2.0 * math.pi / sides)))
    # A regular polygon is the intersection of `sides` half-planes at distance R cos(pi / sides).
    apothem = circumradius * math.cos(math.pi / sides)
    inside = np.ones(distance_sq.shape, dtype=bool)
    for k in range(sides):
        theta = angle + 2.0 * math.pi * k / sides
        inside &= dx * math.cos(theta) + dy * math.sin(theta) <= apothem
    return inside
